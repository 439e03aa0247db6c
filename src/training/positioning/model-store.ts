import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FingerprintArtifacts, FingerprintNet } from '../../models/positioning/fingerprint.js';
import {
  checkModelData,
  type PositioningModel,
  serialisePositioningModel,
} from '../../models/positioning/model.js';

// The positioning part of a model version directory:
//   <version>/positioning/model.json              plain model data (site, ranging, kNN, fusion, tracker, …)
//   <version>/positioning/fingerprint.json        the network's topology and weight manifest (+ its metadata)
//   <version>/positioning/fingerprint.weights.bin its weights, one binary file
// Written with tfjs's io.withSaveHandler and read with io.fromMemory: no network, no file:// handler needed.
// TensorFlow.js is imported only for a model that has the network: loading it costs ~0.3 s, which a model without it
// (multilateration + kNN) should not pay — a replay thread loads its own model set at every start.

export const POSITIONING_SUBDIR = 'positioning';
const MODEL_FILE = 'model.json';
const FP_FILE = 'fingerprint.json';
const FP_WEIGHTS = 'fingerprint.weights.bin';

export async function savePositioningModel(versionPath: string, model: PositioningModel): Promise<string> {
  const dir = join(versionPath, POSITIONING_SUBDIR);
  await mkdir(dir, { recursive: true });
  const s = await serialisePositioningModel(model);
  await writeFile(join(dir, MODEL_FILE), `${JSON.stringify(s.data)}\n`);
  if (s.fingerprint) {
    await writeFile(
      join(dir, FP_FILE),
      `${JSON.stringify({ modelTopology: s.fingerprint.modelTopology, weightSpecs: s.fingerprint.weightSpecs, weightsFile: FP_WEIGHTS })}\n`,
    );
    await writeFile(join(dir, FP_WEIGHTS), new Uint8Array(s.fingerprint.weightData));
  }
  return dir;
}

/** True when the version directory holds a positioning model. */
export async function hasPositioningModel(versionPath: string): Promise<boolean> {
  try {
    await readFile(join(versionPath, POSITIONING_SUBDIR, MODEL_FILE));
    return true;
  } catch {
    return false;
  }
}

export async function loadPositioningModel(versionPath: string): Promise<PositioningModel> {
  const dir = join(versionPath, POSITIONING_SUBDIR);
  let text: string;
  try {
    text = await readFile(join(dir, MODEL_FILE), 'utf8');
  } catch (error) {
    throw new Error(
      `${versionPath} has no positioning model (${(error as Error).message}); train one with \`sbp train\``,
    );
  }
  const data = checkModelData(JSON.parse(text));
  let fingerprint: FingerprintNet | null = null;
  if (data.fingerprint) {
    const [{ initTensorFlow }, { FingerprintNet }] = await Promise.all([
      import('../../models/positioning/tf-runtime.js'),
      import('../../models/positioning/fingerprint.js'),
    ]);
    await initTensorFlow();
    const manifest = JSON.parse(await readFile(join(dir, FP_FILE), 'utf8')) as {
      modelTopology: object;
      weightSpecs: FingerprintArtifacts['weightSpecs'];
      weightsFile: string;
    };
    const bin = await readFile(join(dir, manifest.weightsFile));
    const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
    fingerprint = await FingerprintNet.fromArtifacts(
      { modelTopology: manifest.modelTopology, weightSpecs: manifest.weightSpecs, weightData },
      data.fingerprint,
    );
  }
  return { data, fingerprint };
}
