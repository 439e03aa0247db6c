import type { IngestRecord } from '../ingest/ingest-sink.js';
import type { MessageOf } from '../protocol/index.js';
import type { TruthPoint } from './labels.js';

/**
 * How a calibration walk is located. `fix`: every calibration point on its own, from a fresh track (what
 * `sbp evaluate` measures: the error of a single fix). `track`: the walk as one device moving from point to point
 * through the tracker, as a live device would be.
 */
export type WalkMode = 'fix' | 'track';

const SYNTHETIC = '#cal#';

/** The device a calibration point is located as (fix mode gives every point its own track). */
export function walkDeviceId(m: MessageOf<'pingCalibration'>, mode: WalkMode): string {
  const subject = m.data.deviceId ?? m.agentId;
  return mode === 'fix' ? `${subject}${SYNTHETIC}${m.data.calibrationId}` : subject;
}

/** The real device behind a fix-mode track id; the id itself otherwise. */
export function realDeviceId(deviceId: string): string {
  const i = deviceId.indexOf(SYNTHETIC);
  return i < 0 ? deviceId : deviceId.slice(0, i);
}

export function isSyntheticDevice(deviceId: string): boolean {
  return deviceId.includes(SYNTHETIC);
}

/**
 * A calibration point's measurements as the probes a live agent would have sent from that point, so the walk goes
 * through the worker's own path (measurement windows, positioner, tracker) rather than a side door. They are built
 * in memory only: an RSSI-only measurement becomes a successful probe without rtt, which the worker reads as exactly
 * that (it is never serialised, so the wire rule "rtt when success" does not apply).
 */
export function probesOfCalibration(
  m: MessageOf<'pingCalibration'>,
  mode: WalkMode,
  receivedAt: number,
): { records: IngestRecord[]; deviceId: string; truth: TruthPoint } {
  const deviceId = walkDeviceId(m, mode);
  const records: IngestRecord[] = m.data.measurements.map((meas, i) => {
    const data: MessageOf<'pingResult'>['data'] = {
      targetIp: meas.targetIp,
      targetType: 'anchor',
      sequenceNumber: i,
      success: true,
      deviceId,
    };
    if (meas.rtt !== undefined) data.rtt = meas.rtt;
    if (meas.rssi !== undefined) data.rssi = meas.rssi;
    return {
      message: { type: 'pingResult', agentId: m.agentId, timestamp: m.timestamp, data },
      hubId: 'replay',
      receivedAt,
    };
  });
  const loc = m.data.knownLocation;
  const truth: TruthPoint = {
    t: receivedAt,
    x: loc.x,
    y: loc.y,
    ...(loc.room === undefined ? {} : { room: loc.room }),
  };
  return { records, deviceId, truth };
}
