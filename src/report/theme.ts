import type { Config } from 'vega-lite';

// One look for every plot of every report: quiet axes, a readable type scale, colour only where it carries meaning.

// Short: the SVG renderer repeats it on every label.
export const FONT = "system-ui, 'Segoe UI', Roboto, sans-serif";

/** Categorical palette (Tableau 10, reordered): devices, model versions, series. */
export const SERIES_COLOURS = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#ff9da7',
  '#9c755f',
  '#e15759',
  '#bab0ac',
] as const;

/** Soft fills for rooms on a floor plan. */
export const ROOM_FILLS = [
  '#eef3fb',
  '#fdf1e4',
  '#eaf5e8',
  '#f5eef4',
  '#e9f4f3',
  '#fbf7e3',
  '#fdeef0',
  '#f2ede9',
] as const;

export const INK = '#1f2933';
export const MUTED = '#6b7785';
export const GRID = '#edf0f3';
export const TRUTH = '#3b4652';
export const ALERT = '#d1373f';
export const NORMAL = '#4e79a7';
export const ANOMALOUS = '#e15759';
export const WINDOW_FILL = '#f9d9db';

export const VEGA_CONFIG: Config = {
  font: FONT,
  // Per-mark ARIA labels would multiply the size of dense plots; each figure is titled and captioned instead.
  aria: false,
  background: 'white',
  padding: 8,
  view: { stroke: null },
  axis: {
    labelColor: MUTED,
    labelFontSize: 11,
    titleColor: INK,
    titleFontSize: 12,
    titleFontWeight: 500,
    titlePadding: 8,
    gridColor: GRID,
    domainColor: '#c9d0d8',
    tickColor: '#c9d0d8',
  },
  legend: {
    labelColor: INK,
    labelFontSize: 11,
    titleColor: INK,
    titleFontSize: 11,
    titleFontWeight: 600,
    symbolSize: 90,
    orient: 'bottom',
    direction: 'horizontal',
    labelLimit: 480,
  },
  header: { labelColor: INK, labelFontSize: 12, labelFontWeight: 600, titleFontSize: 12 },
  title: { color: INK, fontSize: 14, fontWeight: 600, anchor: 'start', offset: 10 },
  range: { category: [...SERIES_COLOURS] },
};
