// Reads the marks back out of a Vega SVG: every mark named `NAME` in a spec renders as
// `<g class="mark-TYPE role-mark NAME_marks">` holding one element per item.

const GROUP = /<g class="mark-(\w+) role-mark ([\w-]+)_marks"[^>]*>(.*?)<\/g>/gs;
const ITEM = /<(path|line|text|rect)\b[^>]*>/g;

export interface MarkItems {
  type: string;
  items: string[];
}

/** Items of the marks whose name is `name` (or matches it). */
export function marks(svg: string, name: string | RegExp): MarkItems {
  let type = '';
  const items: string[] = [];
  for (const m of svg.matchAll(GROUP)) {
    if (typeof name === 'string' ? m[2] !== name : !name.test(m[2]!)) continue;
    type = m[1]!;
    for (const item of m[3]!.matchAll(ITEM)) items.push(item[0]);
  }
  return { type, items };
}

export function count(svg: string, name: string | RegExp): number {
  return marks(svg, name).items.length;
}

/** Radius in px of a circle symbol path `M r,0 A r,r,…`. */
export function circleRadius(item: string): number {
  const m = / d="M([\d.]+),0A/.exec(item);
  if (!m) throw new Error(`not a circle symbol: ${item.slice(0, 120)}`);
  return Number(m[1]);
}

/** The translate(x,y) of an item. */
export function position(item: string): { x: number; y: number } {
  const m = /translate\((-?[\d.]+),(-?[\d.]+)\)/.exec(item);
  if (!m) throw new Error(`no position: ${item.slice(0, 120)}`);
  return { x: Number(m[1]), y: Number(m[2]) };
}

export function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  if (!m) throw new Error('no svg size');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Every y coordinate of a path's vertices (M/L commands). */
export function pathYs(item: string): number[] {
  const d = / d="([^"]*)"/.exec(item)?.[1] ?? '';
  return [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => Number(m[2]));
}

/** The text content of every <text> element, in document order. */
export function texts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]!
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"'),
  );
}
