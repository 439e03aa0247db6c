import { describe, expect, it } from 'vitest';
import { toPositionEstimate } from '../../../src/models/positioning/estimate.js';
import { espresenseScenario } from '../../../src/sim/scenarios.js';

// Two rooms on a 6 m × 4 m plan: living x ∈ [0, 4], bedroom x ∈ [4, 6].
const { site } = espresenseScenario();

describe('toPositionEstimate', () => {
  it('projects a point beyond a wall onto the site bounds: never farther from a device that is on the site', () => {
    const cov = [0.2, 0, 0.2] as const;
    const e = toPositionEstimate(site, -0.7, 4.6, cov, 'fusion', 2);
    expect([e.x, e.y]).toEqual([0, 4]);
    expect(e.room).toBe('living');
    // Only the point moves: the reported uncertainty is the fix's own.
    const inside = toPositionEstimate(site, 0.5, 3.5, cov, 'fusion', 2);
    expect(e.uncertainty).toBe(inside.uncertainty);
    expect(e.covariance).toEqual(cov);
    for (const truth of [
      { x: 0, y: 4 },
      { x: 0.3, y: 3.1 },
      { x: 5.9, y: 0.2 },
      { x: 3, y: 2 },
    ])
      expect(Math.hypot(e.x - truth.x, e.y - truth.y)).toBeLessThanOrEqual(
        Math.hypot(-0.7 - truth.x, 4.6 - truth.y),
      );
  });

  it('leaves a point inside the site where it is', () => {
    const e = toPositionEstimate(site, 4.5, 1.25, [0.1, 0, 0.1], 'multilateration', 2);
    expect([e.x, e.y]).toEqual([4.5, 1.25]);
    expect(e.room).toBe('bedroom');
  });
});
