import { describe, expect, it } from 'vitest';
import {
  type FeedbackRecord,
  latestVerdicts,
  normalExamples,
  windowsToExclude,
} from '../../../src/models/anomaly/feedback.js';

const rec = (anomalyId: string, verdict: 'fine' | 'real', vector?: number[]): FeedbackRecord => ({
  anomalyId,
  deviceId: 'd1',
  verdict,
  receivedAt: 0,
  ...(vector ? { vector } : {}),
});

describe('feedback records', () => {
  it("an alert's latest verdict counts", () => {
    const records = [rec('a', 'fine', [1, 2]), rec('b', 'fine', [3, 4]), rec('a', 'real')];
    expect([...latestVerdicts(records).entries()].map(([id, r]) => [id, r.verdict])).toEqual([
      ['a', 'real'],
      ['b', 'fine'],
    ]);
    // "a" was called fine, then real: not a normal example any more, and its window stays out of retraining.
    expect(normalExamples(records, 2)).toEqual([[3, 4]]);
    const alerts = [
      { anomalyId: 'a', deviceId: 'd1', at: 1000 },
      { anomalyId: 'b', deviceId: 'd1', at: 5000 },
      { anomalyId: 'c', deviceId: 'd2', at: 9000 },
    ];
    expect(windowsToExclude(alerts, records, 100)).toEqual([
      { deviceId: 'd1', from: 900, to: 1100 },
      { deviceId: 'd2', from: 8900, to: 9100 },
    ]);
  });
});
