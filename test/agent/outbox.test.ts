import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Outbox, type OutboxEntry } from '../../src/agent/outbox.js';
import { makeMessage } from '../../src/protocol/index.js';

function entry(seq: number): OutboxEntry {
  const message = makeMessage('pingResult', 'a1', {
    targetIp: '127.0.0.1',
    targetType: 'device',
    sequenceNumber: seq,
    success: false,
  });
  return { message, frame: JSON.stringify(message), producedAt: seq, ephemeral: false, sends: 0 };
}
const seqOf = (e: OutboxEntry | undefined) =>
  e?.message.type === 'pingResult' ? e.message.data.sequenceNumber : -1;

describe('Outbox', () => {
  it('keeps order and drops the oldest beyond its capacity, counting them', () => {
    const dropped: number[] = [];
    const box = new Outbox(3, (e) => dropped.push(seqOf(e)));
    for (let i = 0; i < 7; i++) box.push(entry(i));
    expect(box.drain().map(seqOf)).toEqual([4, 5, 6]);
    expect(dropped).toEqual([0, 1, 2, 3]);
    expect(box.stats()).toMatchObject({
      size: 0,
      dropped: 4,
      droppedByType: { pingResult: 4 },
      highWater: 3,
    });
  });

  it('requeues at the front in order; overflow drops the requeued (oldest) entries', () => {
    const dropped: number[] = [];
    const box = new Outbox(4, (e) => dropped.push(seqOf(e)));
    box.push(entry(10));
    box.push(entry(11));
    box.requeueFront([entry(7), entry(8), entry(9)]);
    expect(dropped).toEqual([7]);
    expect(box.drain().map(seqOf)).toEqual([8, 9, 10, 11]);
  });

  it('removeWhere removes without counting drops', () => {
    const box = new Outbox(5);
    for (let i = 0; i < 5; i++) box.push(entry(i));
    expect(box.removeWhere((e) => seqOf(e) % 2 === 0)).toBe(3);
    expect(box.drain().map(seqOf)).toEqual([1, 3]);
    expect(box.dropped).toBe(0);
  });

  it('matches a plain array model under random operations (accounting is exact)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.oneof(fc.constant<'push'>('push'), fc.constant<'shift'>('shift')), { maxLength: 60 }),
        (capacity, ops) => {
          const box = new Outbox(capacity);
          const model: number[] = [];
          let next = 0;
          let dropped = 0;
          for (const op of ops) {
            if (op === 'push') {
              box.push(entry(next));
              model.push(next++);
              if (model.length > capacity) {
                model.shift();
                dropped++;
              }
            } else {
              expect(seqOf(box.shift())).toBe(model.length > 0 ? model.shift() : -1);
            }
            expect(box.size).toBe(model.length);
          }
          expect(box.dropped).toBe(dropped);
          expect(box.drain().map(seqOf)).toEqual(model);
        },
      ),
    );
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new Outbox(0)).toThrow(/positive integer/);
  });
});
