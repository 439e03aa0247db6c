import type { TopLevelSpec } from 'vega-lite';

/** A table cell: numbers are formatted for reading, null shows as an em dash. */
export type Cell = string | number | null;

/** A key figure, shown large at the top of the report. */
export interface Highlight {
  label: string;
  value: Cell;
  /** e.g. `m`, `msg/s`. */
  unit?: string;
  /** One short line under the value. */
  detail?: string;
  /** Colours the value: good (green), bad (red), neutral. @defaultValue 'neutral' */
  tone?: 'good' | 'bad' | 'neutral';
}

export interface MetricTable {
  title?: string;
  columns: readonly string[];
  rows: readonly (readonly Cell[])[];
  caption?: string;
}

/** A plot: a Vega-Lite spec (rendered to SVG by renderReport) or an SVG already rendered. */
export type Figure = {
  title: string;
  caption?: string;
  /** Spans the full width of the page. @defaultValue false */
  wide?: boolean;
} & ({ spec: TopLevelSpec } | { svg: string });

export interface ReportSpec {
  title: string;
  subtitle?: string;
  /** Context lines under the title: input files, model version, seed, duration… */
  meta?: readonly { label: string; value: string }[];
  highlights?: readonly Highlight[];
  tables?: readonly MetricTable[];
  figures?: readonly Figure[];
  /** Caveats and how the numbers were computed. */
  notes?: readonly string[];
  /** Printed in the footer. Not read from the clock here, so the same inputs give the same file. */
  generatedAt?: string;
  /** e.g. `sbp replay 0.1.0`. */
  generator?: string;
}
