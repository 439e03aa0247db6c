import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSimulatedWorld } from '../../src/sim/index.js';
import { type ProcessResult, runProcess } from '../helpers/run-process.js';

// `sbp train` and `sbp evaluate` end to end, as a user runs them: real processes, real files.

const dir = mkdtempSync(join(tmpdir(), 'sbp-cli-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const world = createSimulatedWorld(17, { devices: 1 });
const site = join(dir, 'site.json');
writeFileSync(site, JSON.stringify(world.site));
const walk = join(dir, 'walk.jsonl');
writeFileSync(
  walk,
  `${world
    .calibrationWalk({ spacingM: 1.5, samplesPerPoint: 2 })
    .map((m) => JSON.stringify(m))
    .join('\n')}\n{"type":"pingCalibration","oops":1}\nnot json at all\n`,
);
const testWalk = join(dir, 'test.jsonl');
writeFileSync(
  testWalk,
  world
    .calibrationWalk({ layout: 'random', points: 30, samplesPerPoint: 1, idPrefix: 'test' })
    .map((m) => JSON.stringify(m))
    .join('\n'),
);

function sbp(args: string[]): Promise<ProcessResult> {
  return runProcess(process.execPath, ['bin/sbp.js', ...args], {
    cwd: join(import.meta.dirname, '../..'),
    env: { ...process.env, CI: '' },
  });
}

describe('sbp train / sbp evaluate', () => {
  const models = join(dir, 'models');
  const trained = sbp([
    'train',
    '--input',
    walk,
    '--site',
    site,
    '--out',
    models,
    '--folds',
    '3',
    '--fingerprint-steps',
    '60',
    '--fingerprint-members',
    '2',
    '--seed',
    '5',
  ]);

  it('trains, counts bad lines, prints held-out errors, writes a version with metadata and publishes LATEST', async () => {
    const r = await trained;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 bad lines skipped \(first: line \d+: /);
    expect(r.stdout).toMatch(/held-out error/);
    expect(r.stdout).toMatch(/fusion|multilateration|knn|fingerprint/);
    expect(r.stdout).toMatch(/RTT uninformative/);
    // Not a terminal: plain progress lines.
    expect(r.stderr).toMatch(/progress: +\d+% /);
    const latest = readFileSync(join(models, 'LATEST'), 'utf8').trim();
    const meta = JSON.parse(readFileSync(join(models, latest, 'metadata.json'), 'utf8'));
    expect(meta.version).toBe(latest);
    expect(meta.positioning.metrics.heldOut.meanError).toBeGreaterThan(0);
    expect(meta.positioning.parameters.seed).toBe(5);
    expect(meta.positioning.parameters.fingerprintMembers).toBe(2);
    // The input-noise level: cross-validated (both levels scored and printed), the lower held-out error kept.
    const fp = meta.positioning.fingerprint as {
      inputNoise: number;
      inputNoiseTried: Array<{ inputNoise: number; meanError: number }>;
    };
    expect(fp.inputNoiseTried.map((t) => t.inputNoise)).toEqual([0, 2]);
    const lowest = fp.inputNoiseTried.reduce((a, b) => (b.meanError < a.meanError ? b : a));
    expect(fp.inputNoise).toBe(lowest.inputNoise);
    expect(meta.positioning.parameters.fingerprintInputNoise).toBe(fp.inputNoise);
    expect(r.stdout).toContain(`fingerprint input noise: ${fp.inputNoise}σ (held-out mean error: 0σ `);
    const stored = JSON.parse(readFileSync(join(models, latest, 'positioning', 'model.json'), 'utf8'));
    expect(stored.fingerprint.members).toBe(2);
    // The tracker's persistent share: fitted, printed, kept in the model and in the metadata.
    const tracking = meta.positioning.tracking as {
      share: number;
      coverageBefore: number;
      coverageAfter: number;
    };
    expect(tracking.coverageAfter).toBeGreaterThanOrEqual(tracking.coverageBefore);
    expect(stored.tracker.persistentShare).toBe(tracking.share);
    expect(r.stdout).toContain(`keeping ${Math.round(100 * tracking.share)} % of the fix covariance`);
    expect(meta.positioning.data.points).toBeGreaterThan(10);
    // Per calibration point, its cross-validated error (the dashboard's coverage view): one entry per located
    // point, and their located-weighted mean is the model's held-out mean error.
    const points = meta.positioning.metrics.heldOutPoints as Array<{
      x: number;
      y: number;
      error: number;
      n: number;
      located: number;
    }>;
    expect(points.length).toBeGreaterThan(10);
    expect(points.length).toBeLessThanOrEqual(meta.positioning.data.points);
    for (const p of points) {
      expect(p.error).toBeGreaterThanOrEqual(0);
      expect(p.n).toBe(2);
    }
    const weight = points.reduce((s, p) => s + p.n * p.located, 0);
    const weighted = points.reduce((s, p) => s + p.error * p.n * p.located, 0) / weight;
    expect(weighted).toBeCloseTo(meta.positioning.metrics.heldOut.meanError, 2);
    expect(new Set(points.map((p) => p.error)).size).toBeGreaterThan(5);
    expect(existsSync(join(models, latest, 'positioning', 'model.json'))).toBe(true);
    expect(existsSync(join(models, latest, 'positioning', 'fingerprint.weights.bin'))).toBe(true);
  });

  it('evaluates any walk; with --json the last line is the summary object', async () => {
    await trained;
    const r = await sbp(['evaluate', '--model', models, '--input', testWalk, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const last = r.stdout.trim().split('\n').at(-1)!;
    const summary = JSON.parse(last);
    expect(Object.keys(summary)).toEqual(['n', 'meanError', 'medianError', 'p90Error', 'roomAccuracy']);
    expect(summary.n).toBe(30);
    expect(summary.meanError).toBeGreaterThan(0);
    expect(summary.meanError).toBeLessThan(3);
    expect(summary.medianError).toBeLessThanOrEqual(summary.p90Error);
    expect(summary.roomAccuracy).toBeGreaterThan(0.4);
    expect(r.stdout).toMatch(/single fixes/);
    // How much this walk can tell: the model's interval over its reference points, bracketing its own mean.
    const m =
      /95 % interval over the walk's (\d+) reference points \(bootstrap\): mean \[([\d.]+), ([\d.]+)\] m/.exec(
        r.stdout,
      );
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(1);
    expect(Number(m![2])).toBeLessThanOrEqual(summary.meanError + 0.005);
    expect(Number(m![3])).toBeGreaterThanOrEqual(summary.meanError - 0.005);
  });

  it('reports roomAccuracy null when the site has no rooms', async () => {
    const bare = join(dir, 'bare-site.json');
    writeFileSync(bare, JSON.stringify({ ...world.site, rooms: [], walls: undefined }));
    const out = join(dir, 'models-bare');
    const t = await sbp([
      'train',
      '--input',
      walk,
      '--site',
      bare,
      '--out',
      out,
      '--estimators',
      'multilateration,knn',
      '--folds',
      '3',
    ]);
    expect(t.code, t.stderr).toBe(0);
    const r = await sbp(['evaluate', '--model', out, '--input', testWalk, '--json']);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!).roomAccuracy).toBeNull();
  });

  it('refuses bad usage and bad input clearly, leaving no half-written version', async () => {
    const junk = join(dir, 'junk.jsonl');
    writeFileSync(junk, 'nope\n{}\n');
    const out = join(dir, 'models-junk');
    const [noSite, bad, missing, members, noise] = await Promise.all([
      sbp(['train', '--input', walk, '--out', join(dir, 'x')]),
      sbp(['train', '--input', junk, '--site', site, '--out', out]),
      sbp(['evaluate', '--model', join(dir, 'nowhere'), '--input', testWalk]),
      sbp(['train', '--input', walk, '--site', site, '--out', out, '--fingerprint-members', '0']),
      sbp(['train', '--input', walk, '--site', site, '--out', out, '--fingerprint-noise', 'lots']),
    ]);
    expect(noise.code).toBe(2);
    expect(noise.stderr).toMatch(/--fingerprint-noise: invalid value "lots"/);
    expect(members.code).toBe(2);
    expect(members.stderr).toMatch(/--fingerprint-members: invalid value "0"/);
    expect(noSite.code).toBe(2);
    expect(noSite.stderr).toMatch(/--site SITE.json is required/);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no valid pingCalibration message/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not a model directory/);
  });
});
