import { join } from 'node:path';
import type { AnomalyModel } from '../../models/anomaly/behaviour-model.js';
import { METADATA_FILE, type ModelMetadata, readMetadata, writeMetadata } from '../model-dir.js';
import { type BaselineRead, readBaselineCapture } from './baseline-capture.js';
import { anomalyMetadata, saveAnomalyModel } from './model-io.js';
import { type TrainAnomalyOptions, trainAnomalyModel } from './train.js';

/**
 * The anomaly step of `sbp train --baseline CAPTURE.jsonl` (and of `sbp anomaly train`): read the capture, fit the
 * behaviour model. Bad lines in the capture are skipped and reported in `read`.
 */
export async function trainAnomalyFromCapture(
  capturePath: string,
  options: Omit<TrainAnomalyOptions, 'baseline'> = {},
): Promise<{ model: AnomalyModel; read: BaselineRead }> {
  const read = await readBaselineCapture(capturePath);
  if (read.messages === 0) {
    throw new Error(`${capturePath}: no valid protocol messages (${read.badLines} bad lines)`);
  }
  return { model: trainAnomalyModel({ ...options, baseline: read.events }), read };
}

/**
 * Adds the anomaly model to a version directory another trainer is writing (positioning): saves
 * `<versionPath>/anomaly/` and merges the `anomaly` section into its metadata.json (creating it when absent).
 * Call before the version is published.
 */
export async function addAnomalyModelToVersion(
  versionPath: string,
  version: string,
  model: AnomalyModel,
): Promise<void> {
  await saveAnomalyModel(versionPath, model);
  let metadata: ModelMetadata;
  try {
    metadata = await readMetadata(versionPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${join(versionPath, METADATA_FILE)}: ${(error as Error).message}`, { cause: error });
    }
    metadata = { formatVersion: 1, version, createdAt: new Date().toISOString() };
  }
  await writeMetadata(versionPath, { ...metadata, anomaly: anomalyMetadata(model.withVersion(version)) });
}
