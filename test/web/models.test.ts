import { describe, expect, it } from 'vitest';
import { ModelVersionReader } from '../../src/hub/dashboard/model-versions.js';
import { liveVersion, parseModels } from '../../web/src/models.js';
import { makeModelDir, removeDir } from './helpers.js';

describe('model versions', () => {
  it('reads a model directory (hub side) and shows its metrics and held-out points (page side)', async () => {
    const dir = await makeModelDir();
    try {
      const response = await new ModelVersionReader(dir.root).read(20);
      expect(response.configured).toBe(true);
      expect(response.latest).toBe(dir.latest);
      expect(response.versions.map((v) => v.version)).toEqual([dir.latest, dir.older]);
      const versions = parseModels(JSON.parse(JSON.stringify(response)));
      const live = liveVersion(versions)!;
      expect(live.version).toBe(dir.latest);
      expect(live.latest).toBe(true);
      expect(Object.fromEntries(live.positioning.map((m) => [m.key, m.value]))).toMatchObject({
        meanError: 0.91,
        medianError: 0.82,
        p90Error: 1.52,
        roomAccuracy: 0.93,
      });
      expect(live.anomaly.find((m) => m.key === 'auc')?.value).toBe(0.941);
      expect(live.heldOut.length).toBeGreaterThan(100);
      expect(live.heldOut[0]).toEqual({ x: 0.5, y: 0.5, error: expect.any(Number) });
      expect(versions[1]!.heldOut).toEqual([]);
      expect((await new ModelVersionReader(dir.root).read(1)).versions).toHaveLength(1);
    } finally {
      await removeDir(dir.root);
    }
  });

  it('says when a hub has no model directory', async () => {
    expect(await new ModelVersionReader(undefined).read(5)).toEqual({
      configured: false,
      latest: null,
      versions: [],
    });
    expect(parseModels({ configured: false, latest: null, versions: [] })).toEqual([]);
  });

  it("reports the primary estimator's metrics when a trainer lists several", () => {
    const [v] = parseModels([
      {
        version: 'v1',
        positioning: {
          report: {
            primary: 'fusion',
            cv: {
              knn: { n: 10, meanError: 2, medianError: 2, p90Error: 3 },
              fusion: { n: 10, meanError: 1, medianError: 0.9, p90Error: 1.5, coverage95: 0.94 },
            },
          },
        },
      },
    ]);
    expect(Object.fromEntries(v!.positioning.map((m) => [m.key, m.value]))).toEqual({
      n: 10,
      meanError: 1,
      medianError: 0.9,
      p90Error: 1.5,
      coverage95: 0.94,
    });
  });

  it("takes the cross-validation entry whose figures are the model's held-out ones (sbp train's layout)", () => {
    const [v] = parseModels([
      {
        version: 'v1',
        positioning: {
          metrics: {
            heldOut: { meanError: 0.91, medianError: 0.76, p90Error: 1.78 },
            crossValidation: {
              multilateration: {
                n: 240,
                meanError: 0.96,
                medianError: 0.78,
                p90Error: 1.63,
                coverage95: 0.95,
              },
              fusion: {
                n: 240,
                meanError: 0.91,
                medianError: 0.76,
                p90Error: 1.78,
                p95Error: 2.1,
                coverage95: 0.94,
              },
            },
          },
        },
      },
    ]);
    expect(Object.fromEntries(v!.positioning.map((m) => [m.key, m.value]))).toEqual({
      n: 240,
      meanError: 0.91,
      medianError: 0.76,
      p90Error: 1.78,
      p95Error: 2.1,
      coverage95: 0.94,
    });
  });

  it('finds per-point errors under any key and tolerates junk', () => {
    const versions = parseModels([
      {
        version: 'v2',
        createdAt: '2026-01-01T00:00:00Z',
        positioning: { cv: { folds: 5, points: [{ x: 1, y: 2, errorM: 0.5, room: 'hall' }] } },
      },
      { nope: 1 },
      'junk',
    ]);
    expect(versions).toHaveLength(1);
    expect(versions[0]!.heldOut).toEqual([{ x: 1, y: 2, error: 0.5, room: 'hall' }]);
  });
});
