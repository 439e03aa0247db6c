import { describe, expect, it } from 'vitest';
import {
  errorCdfSpec,
  floorPlanSpec,
  formatCell,
  type ReportSpec,
  renderReport,
  renderSvg,
  scoreTimelineSpec,
} from '../../src/report/index.js';
import { SITE, tracks } from './fixtures.js';

const SPEC: ReportSpec = {
  title: 'Replay of <capture> & co',
  subtitle: 'model v1',
  meta: [{ label: 'input', value: 'datasets/capture.jsonl' }],
  highlights: [
    { label: 'median error', value: 0.6123, unit: 'm', tone: 'good' },
    { label: 'alerts', value: null },
  ],
  tables: [
    {
      title: 'Positioning',
      columns: ['model', 'n', 'mean (m)'],
      rows: [
        ['fusion', 1234, 0.71234],
        ['knn', 1234, null],
      ],
    },
  ],
  figures: [
    { title: 'Floor plan', spec: floorPlanSpec({ site: SITE, tracks: tracks(2, 10) }), wide: true },
    { title: 'CDF', spec: errorCdfSpec({ series: [{ name: 'a', errors: [0.1, 0.2, 0.3] }] }) },
    {
      title: 'Timeline',
      spec: scoreTimelineSpec({
        scores: [
          { deviceId: 'x', t: 0, score: 0.1 },
          { deviceId: 'x', t: 1000, score: 0.9 },
        ],
      }),
    },
  ],
  notes: ['Errors in metres.'],
  generatedAt: '2025-06-16T12:00:00Z',
};

describe('renderReport', () => {
  it('writes one self-contained file: inline CSS and SVG, no script, no URL, no external resource', async () => {
    const html = await renderReport(SPEC);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\((?!#)/i);
    expect(html).not.toMatch(/\b(src|href)="(?!#)/);
    expect(html.match(/<svg\b/g)).toHaveLength(3);
    expect(html.match(/<style>/g)).toHaveLength(1);
  });

  it('escapes text and formats numbers for reading', async () => {
    const html = await renderReport(SPEC);
    expect(html).toContain('<title>Replay of &lt;capture&gt; &amp; co</title>');
    expect(html).not.toContain('<capture>');
    expect(html).toContain('<td class="num">1,234</td>');
    expect(html).toContain('<td class="num">0.712</td>');
    expect(html).toContain('<td class="num">—</td>');
    expect(html).toContain('0.612<span class="unit">m</span>');
    expect(formatCell(-0.0001)).toBe('0');
    expect(formatCell(123.456)).toBe('123.5');
    expect(formatCell(Number.NaN)).toBe('NaN');
  });

  it('keeps element ids unique across the inline plots', async () => {
    // Clipped marks make Vega emit <clipPath id="clipN">, the same ids in every plot.
    const clipped = {
      title: 'clipped',
      spec: {
        data: { values: [{ a: 1, b: 2 }] },
        mark: { type: 'point', clip: true },
        encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } },
      },
    } as const;
    const raw = await renderSvg(clipped.spec);
    expect(raw).toMatch(/<clipPath id="clip\d+"/);
    const html = await renderReport({ title: 'ids', figures: [clipped, clipped, ...(SPEC.figures ?? [])] });
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(0); // Vega clips plots with <clipPath id=…>
    expect(new Set(ids).size).toBe(ids.length);
    for (const ref of html.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(ref[1]);
  });

  it('is reproducible: the same spec gives the same bytes', async () => {
    expect(await renderReport(SPEC)).toBe(await renderReport(SPEC));
  });

  it('refuses plots whose data would have to be fetched', async () => {
    await expect(
      renderSvg({
        data: { url: 'https://198.51.100.7/data.json' },
        mark: 'point',
        encoding: { x: { field: 'a', type: 'quantitative' } },
      }),
    ).rejects.toThrow(/refusing to load/);
  });

  it('renders an empty report', async () => {
    const html = await renderReport({ title: 'Nothing yet' });
    expect(html).toContain('<h1>Nothing yet</h1>');
    expect(html).not.toContain('<svg');
  });
});
