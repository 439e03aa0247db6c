import type { Positioner } from '../../models/contracts/positioning.js';
import { createPositioner, type TrackState } from '../../models/positioning/positioner.js';
import { readMetadata } from '../model-dir.js';
import { loadPositioningModel } from './model-store.js';

/**
 * The worker's entry point: the Positioner of a model version directory (`<root>/<version>`, as LATEST names it).
 * Its `version` is the directory's version. Throws when the version has no positioning model.
 */
export async function loadPositioner(versionPath: string): Promise<Positioner<TrackState>> {
  const meta = await readMetadata(versionPath);
  const model = await loadPositioningModel(versionPath);
  return createPositioner(model, meta.version);
}
