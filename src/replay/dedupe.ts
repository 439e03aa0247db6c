import * as crypto from 'node:crypto';
import { seenKeyOf, seenKeyText } from '../ingest/dedupe.js';
import type { IngestRecord } from '../ingest/ingest-sink.js';

/** Probe sequence numbers remembered per agent below its highest: more than an agent's 1000-message resend buffer. */
const SEQ_WINDOW = 4096;
/** Calibration ids and event hashes remembered (oldest forgotten first). */
const KEY_CAPACITY = 200_000;

/**
 * The live worker's idempotency (agentId + sequenceNumber, calibrationId, event hash: src/ingest/dedupe.ts) in
 * bounded memory, so a capture holding an agent's resent messages replays as the live system processed it: once.
 * Sequence numbers are per agent and increasing: a number far below the agent's highest means the agent restarted
 * and is accepted.
 */
export class ReplayDedupe {
  readonly #agents = new Map<string, { high: number; seen: Set<number> }>();
  readonly #keys = new Set<string>();
  duplicates = 0;

  /** True the first time a record is offered, false for a repeat. */
  accept(record: IngestRecord): boolean {
    const m = record.message;
    if (m.type === 'pingResult') {
      const seq = m.data.sequenceNumber;
      let agent = this.#agents.get(m.agentId);
      if (!agent) {
        agent = { high: seq, seen: new Set([seq]) };
        this.#agents.set(m.agentId, agent);
        return true;
      }
      if (seq < agent.high - SEQ_WINDOW) {
        agent.high = seq;
        agent.seen = new Set([seq]);
        return true;
      }
      if (agent.seen.has(seq)) {
        this.duplicates += 1;
        return false;
      }
      agent.seen.add(seq);
      if (seq > agent.high) {
        agent.high = seq;
        if (agent.seen.size > 2 * SEQ_WINDOW) {
          for (const s of agent.seen) if (s < agent.high - SEQ_WINDOW) agent.seen.delete(s);
        }
      }
      return true;
    }
    const key = m.type === 'pingCalibration' ? seenKeyText(seenKeyOf(record)) : eventKey(m);
    if (this.#keys.has(key)) {
      this.duplicates += 1;
      return false;
    }
    this.#keys.add(key);
    if (this.#keys.size > KEY_CAPACITY) {
      const oldest = this.#keys.values().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
    return true;
  }
}

/**
 * `seenKeyText(seenKeyOf(record))` of an event (src/ingest/dedupe.ts: sha1 of type, agent, timestamp and data), with
 * Node's one-shot hash where it exists (20.12+): the same digest of the same bytes, without a Hash object and four
 * native calls per message. test/replay/dedupe.test.ts checks the keys are identical.
 */
export function eventKey(m: IngestRecord['message']): string {
  const text = `${m.type}\u0000${m.agentId}\u0000${m.timestamp}\u0000${JSON.stringify(m.data)}`;
  const digest =
    typeof crypto.hash === 'function'
      ? crypto.hash('sha1', text, 'base64url')
      : crypto.createHash('sha1').update(text).digest('base64url');
  return `e\u0000${digest}`;
}
