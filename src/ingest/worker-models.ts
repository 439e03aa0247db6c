import type { BehaviourModel, TrustModel } from '../models/contracts/behaviour.js';
import type { Positioner } from '../models/contracts/positioning.js';

/**
 * The models the worker runs. Every `ModelSet` (src/models/contracts/model-set.ts) is one; `trust` may also be null
 * here, for a deployment whose trust model is not available yet.
 */
export interface WorkerModels {
  readonly version: string;
  readonly positioner: Positioner | null;
  readonly behaviour: BehaviourModel | null;
  readonly trust: TrustModel | null;
}

export const NO_MODELS: WorkerModels = {
  version: 'untrained',
  positioner: null,
  behaviour: null,
  trust: null,
};
