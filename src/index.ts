// The public API of the `smartblueprint` package. Deep imports are blocked by package.json `exports`; everything a
// program embedding SmartBlueprint needs is named here.

export type { AgentExit, AgentOptions } from './agent/agent.js';
export { Agent, startAgent } from './agent/agent.js';
export { createSimulatedSource, type SimulatedSourceOptions } from './agent/sources/simulated-source.js';
export { buildHub, type Hub, type HubDeps, type HubPlugin } from './hub/build-hub.js';
export { type HubConfig, type HubConfigInput, parseHubConfig, TokenFile } from './hub/hub-config.js';
export type { IngestRecord, IngestSink } from './ingest/ingest-sink.js';
export { type OpenedPipeline, openPipeline } from './ingest/open-pipeline.js';
export type { DeadLetter, Pipeline, PipelineOptions } from './ingest/pipeline.js';
export type { ResultsBus } from './ingest/results-bus.js';
export { fitIsolationForest, scoreIsolationForest } from './models/anomaly/isolation-forest.js';
export type {
  BehaviourAssessment,
  BehaviourEvent,
  BehaviourModel,
  DeviceProfile,
  TrustAssessment,
  TrustModel,
} from './models/contracts/behaviour.js';
export type { ModelSet } from './models/contracts/model-set.js';
export type {
  AnchorReading,
  PositionEstimate,
  Positioner,
  PositionUpdate,
} from './models/contracts/positioning.js';
export { createTrustModel } from './models/trust/trust-model.js';
export * from './protocol/index.js';
export { type ReplayOptions, type ReplayResult, replay } from './replay/replay.js';
export { type ReportSpec, renderReport } from './report/index.js';
export type { DeviceRecord, DeviceRegistry } from './store/device-registry.js';
export { loadBehaviourModel } from './training/anomaly/model-io.js';
export { trainAnomalyModel } from './training/anomaly/train.js';
export {
  listVersions,
  type ModelMetadata,
  publishVersion,
  readLatest,
  resolveVersionPath,
} from './training/model-dir.js';
export { createPositioner, loadPositioner } from './training/positioning/index.js';
