import { createHash } from 'node:crypto';
import type { SeenKey } from '../store/ingest-store.js';
import type { IngestRecord } from './ingest-sink.js';

/** The idempotency key of a record (see SeenKey). Pure: the replay tool uses it too. */
export function seenKeyOf(record: IngestRecord): SeenKey {
  const m = record.message;
  if (m.type === 'pingResult') return { kind: 'probe', agentId: m.agentId, seq: m.data.sequenceNumber };
  if (m.type === 'pingCalibration') {
    return { kind: 'calibration', agentId: m.agentId, calibrationId: m.data.calibrationId };
  }
  const hash = createHash('sha1')
    .update(m.type)
    .update('\u0000')
    .update(m.agentId)
    .update('\u0000')
    .update(m.timestamp)
    .update('\u0000')
    .update(JSON.stringify(m.data))
    .digest('base64url');
  return { kind: 'event', hash };
}

export function seenKeyText(key: SeenKey): string {
  if (key.kind === 'probe') return `p\u0000${key.agentId}\u0000${key.seq}`;
  if (key.kind === 'calibration') return `c\u0000${key.agentId}\u0000${key.calibrationId}`;
  return `e\u0000${key.hash}`;
}
