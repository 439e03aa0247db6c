// Training, evaluation and storage of the positioning models. The worker needs only `loadPositioner`.
export { createPositioner, type TrackState } from '../../models/positioning/positioner.js';
export { evaluatePositioning, type PositioningEvaluation } from './evaluate.js';
export { fitRanging } from './fit-ranging.js';
export { type HeldOutPoint, heldOutPoints } from './held-out-points.js';
export { loadPositioner } from './load-positioner.js';
export {
  hasPositioningModel,
  loadPositioningModel,
  POSITIONING_SUBDIR,
  savePositioningModel,
} from './model-store.js';
export {
  bootstrapOverPoints,
  type PointInterval,
  pairedBootstrapOverPoints,
} from './point-bootstrap.js';
export { type CalibrationSample, samplesFromMessages, summariseWalk, type WalkSummary } from './samples.js';
export {
  type CvMetrics,
  type PositioningTrainOptions,
  type PositioningTrainReport,
  type PositioningTrainResult,
  trainPositioning,
} from './train.js';
