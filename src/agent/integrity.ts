import type { Message, MessageOf } from '../protocol/index.js';

type Violation = { kind: string; description: string; itemId?: string };

const MAX_VIOLATIONS_LISTED = 32;

/**
 * The agent's self-check behind `dataIntegrityReport`: every message it produced validated against the protocol
 * schemas, and the pingResult sequence numbers it sent are contiguous — each gap is accounted for by a message that
 * was dropped from a full buffer or refused locally, and nothing went out of order. Counts are per report period.
 */
export class IntegrityMonitor {
  private scanned = 0;
  private violations: Violation[] = [];
  private violationCount = 0;
  private lastProducedSeq: number | undefined;
  private nextSentSeq: number | undefined;
  /** Sequence numbers that will never be sent (dropped or invalid), so their gap is expected. */
  private readonly accounted = new Set<number>();
  private lastClean: string | undefined;
  private totals = { scanned: 0, invalid: 0, violations: 0 };

  /** Every message the agent produced, with whether it validated. */
  produced(message: Message | { type: string; data: unknown }, valid: boolean, reason = ''): void {
    this.scanned++;
    this.totals.scanned++;
    if (!valid) {
      this.totals.invalid++;
      this.add({ kind: 'schema_violation', description: `${message.type}: ${reason}`.slice(0, 256) });
      const seq = (message.data as { sequenceNumber?: unknown } | undefined)?.sequenceNumber;
      if (message.type === 'pingResult' && typeof seq === 'number') this.accounted.add(seq);
    }
    if (message.type === 'pingResult') {
      const seq = (message.data as { sequenceNumber?: unknown }).sequenceNumber;
      if (typeof seq === 'number') {
        if (this.lastProducedSeq !== undefined && seq !== this.lastProducedSeq + 1) {
          this.add({
            kind: 'sequence_gap',
            description: `produced sequenceNumber ${seq} after ${this.lastProducedSeq}`,
            itemId: String(seq),
          });
        }
        this.lastProducedSeq = seq;
      }
    }
  }

  /** A pingResult that left the buffer without being sent (dropped when full). */
  droppedUnsent(message: Message): void {
    if (message.type === 'pingResult') this.accounted.add(message.data.sequenceNumber);
  }

  /** A message written to the hub for the first time (re-sends are not checked for order). */
  firstSent(message: Message): void {
    if (message.type !== 'pingResult') return;
    this.checkSent(message);
  }

  private checkSent(message: MessageOf<'pingResult'>): void {
    const seq = message.data.sequenceNumber;
    if (this.nextSentSeq === undefined || seq === this.nextSentSeq) {
      this.nextSentSeq = seq + 1;
      return;
    }
    if (seq < this.nextSentSeq) {
      this.add({
        kind: 'out_of_order',
        description: `sent sequenceNumber ${seq} after ${this.nextSentSeq - 1}`,
        itemId: String(seq),
      });
      return;
    }
    let unaccounted = 0;
    for (let s = this.nextSentSeq; s < seq; s++) {
      if (!this.accounted.delete(s)) unaccounted++;
    }
    if (unaccounted > 0) {
      this.add({
        kind: 'sequence_gap',
        description: `${unaccounted} sequence number(s) before ${seq} were neither sent, dropped nor refused`,
        itemId: String(seq),
      });
    }
    this.nextSentSeq = seq + 1;
  }

  /** The period's report body; resets the period counters. */
  report(now: Date): MessageOf<'dataIntegrityReport'>['data'] {
    const clean = this.violationCount === 0;
    if (clean) this.lastClean = now.toISOString();
    const body: MessageOf<'dataIntegrityReport'>['data'] = {
      status: clean ? 'clean' : 'violations',
      scannedItems: this.scanned,
      // Every invalid message adds a violation; a gap or reordering marks the message where it showed.
      suspiciousItems: Math.min(this.scanned, this.violationCount),
      violationsFound: this.violations.slice(0, MAX_VIOLATIONS_LISTED),
      authenticDataSources: [],
      ...(this.lastClean === undefined ? {} : { lastCleanScan: this.lastClean }),
    };
    this.scanned = 0;
    this.violations = [];
    this.violationCount = 0;
    return body;
  }

  get lifetime(): { scanned: number; invalid: number; violations: number } {
    return { ...this.totals };
  }

  private add(v: Violation): void {
    this.violationCount++;
    this.totals.violations++;
    if (this.violations.length < MAX_VIOLATIONS_LISTED) this.violations.push(v);
  }
}
