import { describe, expect, it } from 'vitest';
import { coverageGrid, walkNext, walkSpacing } from '../../web/src/coverage.js';
import type { HeldOutPoint } from '../../web/src/models.js';
import { parseSite } from '../../web/src/site.js';
import { SITE } from './helpers.js';

function grid(
  step: number,
  error: (x: number, y: number) => number,
  skip: (x: number, y: number) => boolean,
) {
  const points: HeldOutPoint[] = [];
  for (let x = step / 2; x < 8; x += step) {
    for (let y = step / 2; y < 5; y += step) if (!skip(x, y)) points.push({ x, y, error: error(x, y) });
  }
  return points;
}

describe('calibration coverage', () => {
  const site = parseSite(SITE)!;

  it('measures the walk step', () => {
    expect(
      walkSpacing(
        grid(
          0.5,
          () => 1,
          () => false,
        ),
      ),
    ).toBeCloseTo(0.5);
  });

  it('interpolates held-out error near the walk and leaves unwalked places empty', () => {
    const points = grid(
      0.5,
      (x) => x / 4,
      (x, y) => x > 5 && y > 2.5,
    );
    const g = coverageGrid(points, site.bounds);
    expect(g.cells).toHaveLength(g.columns * g.rows);
    const at = (x: number, y: number) =>
      g.cells.reduce((b, c) => (Math.hypot(c.x - x, c.y - y) < Math.hypot(b.x - x, b.y - y) ? c : b));
    expect(at(1, 1).error).toBeCloseTo(0.25, 1);
    expect(at(4, 2).error).toBeCloseTo(1, 1);
    expect(at(7, 4.5).error).toBeNull();
    expect(at(7, 4.5).gap).toBeGreaterThan(1.5);
  });

  it('sends the user first to the middle of the unwalked room, then to the worst-measured places', () => {
    const points = grid(
      0.5,
      (x, y) => (x < 1 && y < 1 ? 3 : 0.5),
      (x, y) => x > 5 && y > 2.5,
    );
    const s = walkNext(coverageGrid(points, site.bounds), points, site);
    expect(s[0]!.room).toBe('Bedroom');
    expect(s[0]!.x).toBeGreaterThan(5.8);
    expect(s[0]!.x).toBeLessThan(7.2);
    expect(s[0]!.y).toBeGreaterThan(3.2);
    expect(s[0]!.y).toBeLessThan(4.3);
    expect(s[0]!.reason).toMatch(/^not calibrated/);
    expect(s[1]!.room).toBe('Living room');
    expect(s[1]!.x).toBeLessThan(1.2);
    expect(s[1]!.reason).toMatch(/held-out error about 3/);
  });

  it('suggests nothing where the walk is even and errors are flat', () => {
    const points = grid(
      0.5,
      () => 0.6,
      () => false,
    );
    expect(walkNext(coverageGrid(points, site.bounds), points, site)).toEqual([]);
  });
});
