export interface BenchOptions {
  /** A short smoke run (small sizes, one repetition) rather than the full measurement. */
  quick: boolean;
}

export interface BenchResult {
  title: string;
  /** A Markdown table: what was measured, the baseline measured in the same run, and the ratio. */
  table: string;
  /** Targets met or missed, caveats, how to read the table. */
  notes?: string[];
}

export type BenchModule = { run(opts: BenchOptions): Promise<BenchResult | BenchResult[]> };
