import { describe, expect, it } from 'vitest';
import { SendPacer } from '../../src/agent/send-pacer.js';

describe('SendPacer', () => {
  it('never lets more than burst + rate·t through in any window', () => {
    const pacer = new SendPacer(95, 5, 0);
    let sent = 0;
    // One try per 10 ms for a minute.
    for (let t = 0; t <= 60_000; t += 10) if (pacer.tryTake(t)) sent++;
    expect(sent).toBeLessThanOrEqual(100);
    expect(sent).toBeGreaterThanOrEqual(99);
  });

  it('says how long to wait for the next token', () => {
    const pacer = new SendPacer(60, 1, 0);
    expect(pacer.tryTake(0)).toBe(true);
    expect(pacer.waitMs(0)).toBe(1000);
    expect(pacer.tryTake(999)).toBe(false);
    expect(pacer.tryTake(1000)).toBe(true);
  });

  it('slows down after a refusal and recovers after quiet minutes', () => {
    const pacer = new SendPacer(100, 5, 0);
    pacer.penalise(0);
    expect(pacer.rate).toBeCloseTo(80);
    pacer.penalise(1);
    expect(pacer.rate).toBeCloseTo(64);
    pacer.tryTake(61_001);
    expect(pacer.rate).toBeCloseTo(70.4);
    pacer.tryTake(10 * 60_000);
    expect(pacer.rate).toBe(100);
  });

  it('honours pauses; 0 means unpaced', () => {
    const pacer = new SendPacer(0, 1, 0);
    expect(pacer.unlimited).toBe(true);
    for (let i = 0; i < 1000; i++) expect(pacer.tryTake(0)).toBe(true);
    pacer.pause(0, 500);
    expect(pacer.tryTake(499)).toBe(false);
    expect(pacer.waitMs(100)).toBe(400);
    expect(pacer.tryTake(500)).toBe(true);
  });
});
