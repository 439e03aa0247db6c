import { describe, expect, it } from 'vitest';
import { predictionPriorSpeed } from '../../../bench/positioning/prediction-prior-speed.js';

describe('prediction prior speed bench', () => {
  it('times the same updates with the prior and without it (baseline), and states the ratio', () => {
    const r = predictionPriorSpeed(true);
    const rows = r.table.split('\n').slice(2);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^\| plain fixes \(baseline\) \| 305 \| \d+ \| \d+\.\d \|\s*\|$/);
    expect(rows[1]).toMatch(
      /^\| prediction prior \(the default\) \| 305 \| \d+ \| \d+\.\d \| \d+\.\d\d× the CPU \|$/,
    );
  });
});
