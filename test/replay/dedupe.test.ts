import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seenKeyOf, seenKeyText } from '../../src/ingest/dedupe.js';
import type { IngestRecord } from '../../src/ingest/ingest-sink.js';
import { isIngestMessage, parseMessage } from '../../src/protocol/index.js';
import { eventKey, ReplayDedupe } from '../../src/replay/dedupe.js';
import { messageOf } from './message-arbitraries.js';

const probe = (agentId: string, seq: number): IngestRecord => ({
  message: {
    type: 'pingResult',
    agentId,
    timestamp: '2025-06-16T00:00:00.000Z',
    data: { targetIp: '198.51.100.1', targetType: 'anchor', sequenceNumber: seq, success: false },
  },
  hubId: 'replay',
  receivedAt: 0,
});

describe('ReplayDedupe', () => {
  it("keys events exactly as the live worker's dedupe does", () => {
    fc.assert(
      fc.property(messageOf(false), (m) => {
        const parsed = parseMessage(m);
        if (!parsed.ok || !isIngestMessage(parsed.message) || parsed.message.type !== 'deviceUpdate') return;
        const record: IngestRecord = { message: parsed.message, hubId: 'h', receivedAt: 0 };
        expect(eventKey(parsed.message)).toBe(seenKeyText(seenKeyOf(record)));
      }),
      { numRuns: 300 },
    );
  });

  it('drops a resent probe and a repeated event, accepts an agent restart and late probes within the window', () => {
    const d = new ReplayDedupe();
    expect(d.accept(probe('a', 10))).toBe(true);
    expect(d.accept(probe('a', 11))).toBe(true);
    expect(d.accept(probe('a', 10))).toBe(false);
    expect(d.accept(probe('b', 10))).toBe(true);
    expect(d.accept(probe('a', 5))).toBe(true); // late, never seen
    expect(d.accept(probe('a', 9000))).toBe(true);
    expect(d.accept(probe('a', 12))).toBe(true); // far below: the agent restarted
    expect(d.accept(probe('a', 12))).toBe(false);
    const leave: IngestRecord = {
      message: {
        type: 'deviceLeave',
        agentId: 'a',
        timestamp: '2025-06-16T00:00:00.000Z',
        data: { deviceId: 'd', reason: 'timeout' },
      },
      hubId: 'replay',
      receivedAt: 0,
    };
    expect(d.accept(leave)).toBe(true);
    expect(d.accept(structuredClone(leave))).toBe(false);
    expect(d.duplicates).toBe(3);
  });
});
