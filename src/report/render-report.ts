import { renderSvg } from './render-svg.js';
import type { Cell, Figure, Highlight, MetricTable, ReportSpec } from './report-spec.js';
import { FONT } from './theme.js';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Numbers for reading: 3 significant decimals at most, thousands separated, no `-0`. */
export function formatCell(value: Cell): string {
  if (value === null) return '—';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  const text = value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return text === '-0' ? '0' : text;
}

/**
 * Inline SVGs share one document: give each figure's ids (clip paths, gradients) a unique prefix so that one plot's
 * `url(#clip1)` never picks up another's. The namespace attributes are dropped: the HTML parser puts <svg> in its
 * namespace, and the file then names no URL at all.
 */
export function prepareInlineSvg(svg: string, prefix: string): string {
  return svg
    .replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(
      /(xlink:)?href="#([^"]+)"/g,
      (_m, xl: string | undefined, id: string) => `${xl ?? ''}href="#${prefix}-${id}"`,
    )
    .replace(/^<svg\b/, '<svg role="img"');
}

function highlightHtml(h: Highlight): string {
  const unit = h.unit ? `<span class="unit">${escapeHtml(h.unit)}</span>` : '';
  const detail = h.detail ? `<div class="detail">${escapeHtml(h.detail)}</div>` : '';
  return `<div class="card ${h.tone ?? 'neutral'}"><div class="label">${escapeHtml(h.label)}</div><div class="value">${escapeHtml(formatCell(h.value))}${unit}</div>${detail}</div>`;
}

function tableHtml(t: MetricTable): string {
  const head = t.columns.map((c, i) => `<th${i > 0 ? ' class="num"' : ''}>${escapeHtml(c)}</th>`).join('');
  const body = t.rows
    .map(
      (row) =>
        `<tr>${row
          .map((cell, i) => {
            const cls = i > 0 && (typeof cell === 'number' || cell === null) ? ' class="num"' : '';
            return `<td${cls}>${escapeHtml(formatCell(cell))}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  const title = t.title ? `<h3>${escapeHtml(t.title)}</h3>` : '';
  const caption = t.caption ? `<p class="caption">${escapeHtml(t.caption)}</p>` : '';
  return `<section class="table">${title}<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>${caption}</section>`;
}

async function figureHtml(f: Figure, index: number): Promise<string> {
  const raw = 'svg' in f ? f.svg : await renderSvg(f.spec);
  const svg = prepareInlineSvg(raw, `f${index}`);
  const caption = f.caption ? `<figcaption>${escapeHtml(f.caption)}</figcaption>` : '';
  return `<figure class="${f.wide ? 'wide' : ''}"><h3>${escapeHtml(f.title)}</h3><div class="plot">${svg}</div>${caption}</figure>`;
}

const CSS = `
:root { --ink: #1f2933; --muted: #6b7785; --line: #e3e7ec; --bg: #f6f7f9; --good: #2f855a; --bad: #c53030; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.5 ${FONT}; }
main { max-width: 1180px; margin: 0 auto; padding: 32px 28px 48px; }
header h1 { margin: 0; font-size: 26px; font-weight: 650; letter-spacing: -0.01em; }
header .subtitle { margin: 4px 0 0; color: var(--muted); font-size: 15px; }
dl.meta { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 14px 0 0; font-size: 12.5px; }
dl.meta div { display: flex; gap: 6px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; font-size: 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin: 24px 0 8px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.card .value { font-size: 26px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }
.card .unit { font-size: 14px; font-weight: 500; color: var(--muted); margin-left: 4px; }
.card .detail { color: var(--muted); font-size: 12px; }
.card.good .value { color: var(--good); }
.card.bad .value { color: var(--bad); }
h2 { font-size: 17px; margin: 28px 0 10px; }
h3 { font-size: 14px; margin: 0 0 8px; font-weight: 600; }
section.table { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; margin: 12px 0; overflow-x: auto; }
table { border-collapse: collapse; min-width: 50%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; }
tbody tr:last-child td { border-bottom: none; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; min-width: 0; }
figure.wide { grid-column: 1 / -1; }
.plot { overflow-x: auto; }
.plot svg { max-width: 100%; height: auto; display: block; }
figcaption, .caption { color: var(--muted); font-size: 12.5px; margin-top: 8px; }
ul.notes { color: var(--muted); font-size: 13px; padding-left: 18px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
@media print { body { background: #fff; } figure, section.table, .card { break-inside: avoid; border-color: #ccc; } }
`;

/**
 * One self-contained HTML file: inline CSS and inline SVG plots, no script, no external resource — it opens offline,
 * prints, and can be mailed as it is. Plots are rendered here, in Node, without a browser.
 */
export async function renderReport(report: ReportSpec): Promise<string> {
  const figures: string[] = [];
  for (const [i, f] of (report.figures ?? []).entries()) figures.push(await figureHtml(f, i));
  const meta = report.meta?.length
    ? `<dl class="meta">${report.meta.map((m) => `<div><dt>${escapeHtml(m.label)}</dt><dd>${escapeHtml(m.value)}</dd></div>`).join('')}</dl>`
    : '';
  const cards = report.highlights?.length
    ? `<div class="cards">${report.highlights.map(highlightHtml).join('')}</div>`
    : '';
  const tables = report.tables?.length ? `<h2>Summary</h2>${report.tables.map(tableHtml).join('\n')}` : '';
  const plots = figures.length ? `<h2>Plots</h2><div class="grid">\n${figures.join('\n')}\n</div>` : '';
  const notes = report.notes?.length
    ? `<h2>Notes</h2><ul class="notes">${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`
    : '';
  const footerParts = [
    report.generator ? `Generated by ${escapeHtml(report.generator)}` : 'Generated by SmartBlueprint',
    report.generatedAt ? `on ${escapeHtml(report.generatedAt)}` : '',
    '· self-contained file: no scripts, no network',
  ].filter((p) => p.length > 0);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(report.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header><h1>${escapeHtml(report.title)}</h1>${report.subtitle ? `<p class="subtitle">${escapeHtml(report.subtitle)}</p>` : ''}${meta}</header>
${cards}
${tables}
${plots}
${notes}
<footer>${footerParts.join(' ')}</footer>
</main>
</body>
</html>
`;
}
