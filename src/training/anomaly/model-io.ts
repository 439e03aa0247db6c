import { cp, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { AnomalyModel } from '../../models/anomaly/behaviour-model.js';
import { deserialiseAnomalyModel, serialiseAnomalyModel } from '../../models/anomaly/model-codec.js';
import {
  createVersionDir,
  MODEL_DIR_FORMAT,
  type ModelMetadata,
  publishVersion,
  readMetadata,
  writeMetadata,
} from '../model-dir.js';

/** `<version>/anomaly/model.json`: the serialised behaviour model (forests as base64 typed arrays). */
export const ANOMALY_SUBDIR = 'anomaly';
export const ANOMALY_MODEL_FILE = 'model.json';

/** The `anomaly` section of a version's metadata.json: parameters, data summary, thresholds. */
export function anomalyMetadata(model: AnomalyModel): Record<string, unknown> {
  const { params, summary, config } = model.data;
  return {
    model: 'isolation_forest',
    file: `${ANOMALY_SUBDIR}/${ANOMALY_MODEL_FILE}`,
    params,
    config,
    summary: {
      ...summary,
      from: new Date(summary.from).toISOString(),
      to: new Date(summary.to).toISOString(),
    },
    groups: model.data.groups.map((g) => ({
      name: g.name,
      features: g.features.length,
      extremalIndex: g.thresholds.extremalIndex,
      tailShape: g.thresholds.tailShape,
    })),
    thresholds: model.thresholdsFor(),
  };
}

/** Writes the model into `<versionPath>/anomaly/` (atomically: a temp file renamed into place). */
export async function saveAnomalyModel(versionPath: string, model: AnomalyModel): Promise<string> {
  const dir = join(versionPath, ANOMALY_SUBDIR);
  await mkdir(dir, { recursive: true });
  const file = join(dir, ANOMALY_MODEL_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  const version = basename(versionPath);
  await writeFile(tmp, JSON.stringify(serialiseAnomalyModel(model.withVersion(version))));
  await rename(tmp, file);
  return file;
}

export async function hasAnomalyModel(versionPath: string): Promise<boolean> {
  try {
    return (await readdir(join(versionPath, ANOMALY_SUBDIR))).includes(ANOMALY_MODEL_FILE);
  } catch {
    return false;
  }
}

/**
 * The behaviour model of a version directory, or null when the version has none (positioning only). Its version is
 * the directory's name. A present but unreadable model throws, naming the file.
 */
export async function loadBehaviourModel(versionPath: string): Promise<AnomalyModel | null> {
  if (!(await hasAnomalyModel(versionPath))) return null;
  const file = join(versionPath, ANOMALY_SUBDIR, ANOMALY_MODEL_FILE);
  try {
    return deserialiseAnomalyModel(JSON.parse(await readFile(file, 'utf8')), basename(versionPath));
  } catch (error) {
    throw new Error(`${file}: cannot load the anomaly model (${(error as Error).message})`, { cause: error });
  }
}

/**
 * Saves `model` as a new version of the model root: the anomaly model, plus every other family of `parent` copied
 * over unchanged (a retrained anomaly model must not drop the positioning model), metadata naming the parent, then
 * LATEST points at it. Returns the new version's name and path.
 */
export async function publishAnomalyVersion(
  root: string,
  model: AnomalyModel,
  options: { parent?: string | null; now?: Date } = {},
): Promise<{ version: string; path: string }> {
  const { version, path } = await createVersionDir(root, options.now);
  let metadata: ModelMetadata = {
    formatVersion: MODEL_DIR_FORMAT,
    version,
    createdAt: (options.now ?? new Date()).toISOString(),
  };
  if (options.parent) {
    const parentPath = join(root, options.parent);
    const parentMeta = await readMetadata(parentPath);
    for (const entry of await readdir(parentPath, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== ANOMALY_SUBDIR) {
        await cp(join(parentPath, entry.name), join(path, entry.name), { recursive: true });
      }
    }
    const { anomaly: _, ...kept } = parentMeta;
    metadata = { ...kept, version, createdAt: metadata.createdAt, parent: options.parent };
  }
  await saveAnomalyModel(path, model);
  await writeMetadata(path, { ...metadata, anomaly: anomalyMetadata(model) });
  await publishVersion(root, version);
  return { version, path };
}
