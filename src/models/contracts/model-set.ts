import type { BehaviourModel, TrustModel } from './behaviour.js';
import type { Positioner } from './positioning.js';

/** The models one version of a model directory provides. Any part may be missing (not trained yet). */
export interface ModelSet {
  /** The model directory version these came from, or `untrained`. */
  readonly version: string;
  readonly positioner: Positioner | null;
  readonly behaviour: BehaviourModel | null;
  readonly trust: TrustModel;
}
