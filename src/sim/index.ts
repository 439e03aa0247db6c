// The positioning simulator's public surface (src/sim/traffic/ is the behaviour simulator, separate).
export { crlbRmse, crlbRmseAt, fisherInformation } from './crlb.js';
export { Rng } from './prng.js';
export {
  type AnchorChannel,
  anchorChannels,
  DEFAULT_RADIO,
  meanRssi,
  type RadioParams,
  type RttGrade,
  sampleLink,
} from './radio.js';
export { demoHomeScenario, espresenseScenario, type Scenario } from './scenarios.js';
export { expandWaypoints } from './tracks.js';
export { type CalibrationWalkOptions, measureAt, simulateCalibrationWalk, walkPoints } from './walk.js';
export {
  createSimulatedWorld,
  type DeviceSpec,
  type DeviceStep,
  type DeviceTruth,
  type SimulatedDevice,
  type SimulatedWorld,
  type SimulatedWorldOptions,
  type WorldStep,
} from './world.js';
