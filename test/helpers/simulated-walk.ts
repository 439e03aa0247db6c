import { createSimulatedWorld } from '../../src/sim/index.js';
import { samplesFromMessages } from '../../src/training/positioning/samples.js';

/**
 * A simulated home with one device, its calibration walk on a grid (the training samples) and a walk at random
 * points (the test samples, ids prefixed "test"): the fixture the positioning model tests train and score on.
 */
export function simulatedWalk(
  seed: number,
  options: { spacingM: number; samplesPerPoint: number; testPoints: number },
) {
  const world = createSimulatedWorld(seed, { devices: 1 });
  const train = samplesFromMessages(
    world.calibrationWalk({ spacingM: options.spacingM, samplesPerPoint: options.samplesPerPoint }),
    world.site,
  );
  const test = samplesFromMessages(
    world.calibrationWalk({
      layout: 'random',
      points: options.testPoints,
      samplesPerPoint: 1,
      idPrefix: 'test',
    }),
    world.site,
  );
  return { world, train, test };
}
