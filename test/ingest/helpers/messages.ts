import type { IngestRecord } from '../../../src/ingest/ingest-sink.js';
import type { IngestMessage, MessageOf } from '../../../src/protocol/index.js';
import { TEST_ANCHORS } from './test-models.js';

const ANCHORS = Object.keys(TEST_ANCHORS);
const T0 = Date.parse('2025-06-16T18:45:00.000Z');

/** A pingResult of `deviceId` to an anchor, with a unique sequence number per agent. */
export function probe(
  agentId: string,
  deviceId: string,
  seq: number,
  extra: Partial<MessageOf<'pingResult'>['data']> = {},
): MessageOf<'pingResult'> {
  return {
    type: 'pingResult',
    agentId,
    timestamp: new Date(T0 + seq * 10).toISOString(),
    data: {
      targetIp: ANCHORS[seq % ANCHORS.length]!,
      targetType: 'anchor',
      rtt: 5 + (seq % 7),
      sequenceNumber: seq,
      success: true,
      deviceId,
      rssi: -40 - (seq % 30),
      ...extra,
    },
  };
}

export function calibration(agentId: string, calibrationId: string): MessageOf<'pingCalibration'> {
  return {
    type: 'pingCalibration',
    agentId,
    timestamp: new Date(T0).toISOString(),
    data: {
      calibrationId,
      knownLocation: { x: 2, y: 3, room: 'west' },
      measurements: ANCHORS.map((a, i) => ({ targetIp: a, rtt: 3 + i, rssi: -50 - i })),
    },
  };
}

export function join(agentId: string, deviceId: string, at = 0): MessageOf<'deviceJoin'> {
  return {
    type: 'deviceJoin',
    agentId,
    timestamp: new Date(T0 + at).toISOString(),
    data: { deviceId, hostname: `host-${deviceId}`, macAddress: 'aa:bb:cc:dd:ee:ff', vendor: 'Acme' },
  };
}

export function record(message: IngestMessage, hubId = 'hub-test', receivedAt = Date.now()): IngestRecord {
  return { message, hubId, receivedAt };
}
