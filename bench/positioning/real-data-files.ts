// Where the real data sets are, and what their files hold beyond the walk.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export function datasetsDir(): string {
  return (
    process.env.SBP_POSITIONING_DATASETS ??
    resolve(import.meta.dirname, '../../../shared/datasets/positioning')
  );
}

/** Test lines the protocol refuses because no anchor was heard (empty scans): counted, scored at the walk centre. */
export function emptyScans(path: string): Array<{ x: number; y: number }> {
  const out: Array<{ x: number; y: number }> = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const m = JSON.parse(line) as {
        type?: string;
        data?: { measurements?: unknown[]; knownLocation?: { x: number; y: number } };
      };
      if (m.type === 'pingCalibration' && m.data?.measurements?.length === 0 && m.data.knownLocation) {
        out.push(m.data.knownLocation);
      }
    } catch {
      // Counted by readWalkFile.
    }
  }
  return out;
}
