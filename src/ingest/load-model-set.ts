import { basename } from 'node:path';
import type { BehaviourModel, TrustModel } from '../models/contracts/behaviour.js';
import type { Positioner } from '../models/contracts/positioning.js';
import type { WorkerModels } from './worker-models.js';

/**
 * How each model family is loaded from a model version directory (`<MODEL_DIR>/<version>`). A loader returns null
 * when the version has no model of its family. Integrating a family is one line here.
 */
export interface ModelLoaders {
  positioner?: (versionPath: string) => Promise<Positioner | null>;
  behaviour?: (versionPath: string) => Promise<BehaviourModel | null>;
  /** The trust score needs no training; `versionPath` is null when no model directory is configured. */
  trust?: (versionPath: string | null) => Promise<TrustModel | null>;
}

// Loaders import their family on first use: TensorFlow.js and friends load only in a worker that has models.
export const MODEL_LOADERS: ModelLoaders = {
  positioner: async (versionPath) => {
    const { hasPositioningModel } = await import('../training/positioning/model-store.js');
    if (!(await hasPositioningModel(versionPath))) return null;
    const { loadPositioner } = await import('../training/positioning/load-positioner.js');
    return loadPositioner(versionPath);
  },
  behaviour: async (versionPath) => {
    const { loadBehaviourModel } = await import('../training/anomaly/model-io.js');
    return loadBehaviourModel(versionPath);
  },
  // The explainable trust score is rules over the device profile: present with or without a model directory.
  trust: async () => {
    const { createTrustModel } = await import('../models/trust/trust-model.js');
    return createTrustModel();
  },
};

/**
 * The models of one version directory (or, with null, of no directory: only what needs no training). A family
 * whose loader is missing or finds nothing is null; the worker then skips that part and says so in its results.
 */
export async function loadModelSet(
  versionPath: string | null,
  loaders: ModelLoaders = MODEL_LOADERS,
): Promise<WorkerModels> {
  const [positioner, behaviour, trust] = await Promise.all([
    versionPath !== null && loaders.positioner ? loaders.positioner(versionPath) : null,
    versionPath !== null && loaders.behaviour ? loaders.behaviour(versionPath) : null,
    loaders.trust ? loaders.trust(versionPath) : null,
  ]);
  return {
    version: versionPath === null ? 'untrained' : basename(versionPath),
    positioner,
    behaviour,
    trust,
  };
}
