import { describe, expect, it } from 'vitest';
import type { Fix } from '../../../src/models/positioning/fix.js';
import { heldOutPoints } from '../../../src/training/positioning/held-out-points.js';
import { type CalibrationSample, pointKeyOf } from '../../../src/training/positioning/samples.js';

function sample(id: string, x: number, y: number, room?: string): CalibrationSample {
  return {
    id,
    x,
    y,
    ...(room === undefined ? {} : { room }),
    t: 0,
    device: 'agent/dev',
    pointKey: pointKeyOf(x, y),
    observations: [],
  };
}

function fix(x: number, y: number): Fix {
  return { x, y, cov: [1, 0, 1], model: 'knn', anchors: 3 };
}

describe('heldOutPoints', () => {
  it('averages the located samples of each calibration point and leaves out points never located', () => {
    const samples = [
      sample('a1', 1, 1, 'kitchen'),
      sample('b1', 4, 0),
      sample('a2', 1, 1, 'kitchen'),
      sample('c1', 9, 9),
      sample('a3', 1, 1, 'kitchen'),
    ];
    // a: errors 3 and 1, one sample not located; b: 0.5; c: never located.
    const oof = [fix(1, 4), fix(4, 0.5), fix(2, 1), null, null];
    expect(heldOutPoints(samples, oof)).toEqual([
      { x: 1, y: 1, error: 2, room: 'kitchen', n: 3, located: 0.667 },
      { x: 4, y: 0, error: 0.5, n: 1, located: 1 },
    ]);
  });

  it('refuses fixes that do not line up with the samples', () => {
    expect(() => heldOutPoints([sample('a', 0, 0)], [])).toThrow(RangeError);
  });
});
