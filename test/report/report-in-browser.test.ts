import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  errorByRoomSpec,
  errorCdfSpec,
  floorPlanSpec,
  renderReport,
  scoreDistributionSpec,
  scoreTimelineSpec,
} from '../../src/report/index.js';
import { CHROMIUM_PATH, haveChromium } from '../helpers/system-requirement.js';
import { SITE, tracks } from './fixtures.js';

const chromiumOk = haveChromium();
const dir = mkdtempSync(join(tmpdir(), 'sbp-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(chromiumOk)('a report in a real browser', () => {
  it('opens offline with no request beyond the file, no console error, and every plot drawn', async () => {
    const t0 = Date.UTC(2025, 5, 16);
    const html = await renderReport({
      title: 'Browser check',
      highlights: [{ label: 'median error', value: 0.61, unit: 'm' }],
      tables: [{ columns: ['model', 'n'], rows: [['fusion', 10]] }],
      figures: [
        { title: 'Floor plan', spec: floorPlanSpec({ site: SITE, tracks: tracks(2, 20) }), wide: true },
        { title: 'CDF', spec: errorCdfSpec({ series: [{ name: 'fusion', errors: [0.2, 0.5, 0.9] }] }) },
        { title: 'Rooms', spec: errorByRoomSpec({ rooms: [{ room: 'living', errors: [0.2, 0.4] }] }) },
        {
          title: 'Timeline',
          wide: true,
          spec: scoreTimelineSpec({
            scores: Array.from({ length: 50 }, (_, i) => ({
              deviceId: 'tv',
              t: t0 + i * 60_000,
              score: i / 50,
            })),
            alerts: [{ deviceId: 'tv', t: t0 + 45 * 60_000 }],
            threshold: 0.8,
          }),
        },
        {
          title: 'Scores',
          spec: scoreDistributionSpec({ normal: [0.2, 0.3], anomalous: [0.9], threshold: 0.8 }),
        },
      ],
    });
    const file = join(dir, 'report.html');
    writeFileSync(file, html);

    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const context = await browser.newContext({
        javaScriptEnabled: false,
        viewport: { width: 1240, height: 900 },
      });
      const page = await context.newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`file://${file}`);
      expect(requests).toEqual([`file://${file}`]);
      expect(errors).toEqual([]);
      const boxes = await page.locator('figure svg').evaluateAll((svgs) =>
        svgs.map((s) => {
          const r = s.getBoundingClientRect();
          return { w: r.width, h: r.height, paths: s.querySelectorAll('path, line, text').length };
        }),
      );
      expect(boxes).toHaveLength(5);
      for (const b of boxes) {
        expect(b.w).toBeGreaterThan(150);
        expect(b.h).toBeGreaterThan(60);
        expect(b.paths).toBeGreaterThan(10);
      }
      const artifacts = resolve(import.meta.dirname, '../../test-artifacts');
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
