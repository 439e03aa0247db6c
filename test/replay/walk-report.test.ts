import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PingCalibration, parseFrame } from '../../src/protocol/index.js';
import { trainingReport, writeWalkReport } from '../../src/replay/walk-report.js';
import { renderReport } from '../../src/report/index.js';
import { resolveVersionPath } from '../../src/training/model-dir.js';
import { samplesFromMessages, trainPositioning } from '../../src/training/positioning/index.js';
import { readSiteFile } from '../../src/training/site-file.js';
import { count, texts } from '../report/svg-marks.js';
import { buildFixture, type Fixture } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'sbp-walk-report-'));
let fx: Fixture;
beforeAll(async () => {
  fx = await buildFixture(dir);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reports for sbp evaluate and sbp train', () => {
  it('writeWalkReport: the held-out walk through the worker, as an HTML report with its plots', async () => {
    const out = join(dir, 'evaluate.html');
    const { path } = await resolveVersionPath(fx.modelRoot);
    await writeWalkReport({ input: fx.test, versionPath: path, site: await readSiteFile(fx.siteFile), out });
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<title>Evaluation of ');
    expect(html).toContain('Positioning accuracy');
    expect(html.match(/<svg\b/g)!.length).toBeGreaterThanOrEqual(3); // floor plan, CDF, error per room
    expect(html).not.toMatch(/https?:\/\//);
  }, 60_000);

  it('trainingReport: held-out errors per estimator, ranging per anchor, the walk on the plan', async () => {
    const site = await readSiteFile(fx.siteFile);
    const walk = readFileSync(fx.walk, 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const p = parseFrame(l);
        if (!p.ok) throw p.error;
        return p.message as PingCalibration;
      });
    const samples = samplesFromMessages(walk, site);
    const { report, outOfFold } = await trainPositioning(samples, site, {
      seed: 1,
      folds: 3,
      deviceHeight: 1,
      estimators: ['multilateration', 'knn'],
      keepOutOfFold: true,
    });
    const spec = trainingReport({ report, site, walk, version: 'v-test', walkFile: fx.walk });
    expect(spec.tables![0]!.rows.length).toBe(Object.keys(report.cv).length);
    expect(spec.tables![1]!.rows.length).toBe(site.anchors.length);
    const html = await renderReport(spec);
    expect(html).toContain('Training of v-test');
    expect(html).toContain('(the model)');
    expect(html.match(/<svg\b/g)).toHaveLength(1);

    // With the held-out fixes: one error vector per located sample on the plan, a CDF line per estimator (the
    // model's median as training measured it), the error per room.
    const full = trainingReport({
      report,
      site,
      walk,
      version: 'v-test',
      walkFile: fx.walk,
      heldOut: { samples, fixes: outOfFold! },
    });
    expect(full.figures!.map((f) => f.title)).toEqual([
      expect.stringContaining('where the model put each point when it was held out'),
      'Held-out error, cumulative',
      expect.stringContaining('Held-out error per room'),
    ]);
    const fullHtml = await renderReport(full);
    expect(fullHtml.match(/<svg\b/g)).toHaveLength(3);
    const located = outOfFold![report.primary]!.filter((f) => f !== null).length;
    expect(count(fullHtml, 'error_vectors')).toBe(located);
    const model = report.cv[report.primary]!;
    expect(texts(fullHtml)).toContain(
      `${report.primary} (the model) · median ${model.medianError.toFixed(2)} m · p90 ${model.p90Error.toFixed(2)} m`,
    );
  }, 60_000);
});

describe('sbp train --report and sbp evaluate --report', () => {
  it('write the same kind of HTML report next to their usual output', async () => {
    const { main } = await import('../../src/cli/main.js');
    const models = join(dir, 'cli-models');
    const trainReport = join(dir, 'train.html');
    const evalReport = join(dir, 'eval.html');
    const train = [
      'train',
      '--input',
      fx.walk,
      '--site',
      fx.siteFile,
      '--out',
      models,
      '--estimators',
      'multilateration,knn',
    ];
    expect(await main([...train, '--folds', '3', '--report', trainReport])).toBe(0);
    expect(await main(['evaluate', '--model', models, '--input', fx.test, '--report', evalReport])).toBe(0);
    const trainHtml = readFileSync(trainReport, 'utf8');
    expect(trainHtml).toContain('Ranging fitted per anchor');
    expect(trainHtml.match(/<svg\b/g)!.length).toBe(3); // held-out errors on the plan, CDF, per room
    const evalHtml = readFileSync(evalReport, 'utf8');
    expect(evalHtml).toContain('Positioning accuracy');
    expect(evalHtml.match(/<svg\b/g)!.length).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
