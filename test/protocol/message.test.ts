import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CATALOGUE,
  ERROR_CODES,
  MESSAGE_TYPES,
  parseFrame,
  parseMessage,
} from '../../src/protocol/index.js';

const examples = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../fixtures/spec-examples.json'), 'utf8'),
) as Array<{ type: string; data: Record<string, unknown> }>;
const SPEC = resolve(import.meta.dirname, '../../../shared/spec/websocket-protocol.md');

function clone<T>(v: T): T {
  return structuredClone(v);
}
function example(type: string): Record<string, unknown> & { data: Record<string, unknown> } {
  const found = examples.find((e) => e.type === type);
  if (!found) throw new Error(`no example for ${type}`);
  return clone(found) as Record<string, unknown> & { data: Record<string, unknown> };
}
function rejectAt(value: unknown, path: string) {
  const r = parseMessage(value);
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.error.code).toBe('INVALID_DATA');
    expect(r.error.path).toBe(path);
  }
}

describe('protocol schemas', () => {
  it('has one example per message type and every spec example validates verbatim', () => {
    expect(examples.map((e) => e.type).sort()).toEqual([...MESSAGE_TYPES].sort());
    for (const e of examples) {
      const r = parseFrame(JSON.stringify(e));
      expect(r.ok, `${e.type}: ${r.ok ? '' : r.error.message}`).toBe(true);
    }
  });

  it.runIf(existsSync(SPEC))('fixtures match the JSON blocks of the spec', () => {
    const md = readFileSync(SPEC, 'utf8');
    const blocks = [...md.matchAll(/```json\n([\s\S]*?)```/g)]
      .map((m) => {
        try {
          return JSON.parse(m[1] ?? '') as unknown;
        } catch {
          return undefined; // the envelope sketch has a comment in it
        }
      })
      .filter((b) => b !== undefined);
    expect(blocks).toEqual(examples);
  });

  it('rejects what is not a message', () => {
    expect(parseFrame('not json').ok).toBe(false);
    rejectAt([], '');
    rejectAt(null, '');
    rejectAt(42, '');
    rejectAt({ agentId: 'a' }, 'type');
    rejectAt({ ...example('pingResult'), type: 'pingResults' }, 'type');
    // A type with no prototype (String() throws on it; found by the fast-validator property test): an error, no throw.
    const bare = Object.create(null) as object;
    rejectAt({ ...example('pingResult'), type: bare }, 'type');
    const r = parseMessage({ ...example('pingResult'), type: bare });
    expect(!r.ok && r.error.message).toBe('unknown message type "[object Object]"');
  });

  it('validates timestamps, addresses and MACs', () => {
    rejectAt({ ...example('pingResult'), timestamp: '2025-06-16 18:45' }, 'timestamp');
    rejectAt({ ...example('pingResult'), timestamp: '2025-06-16T18:45:00+02:00' }, 'timestamp');
    const p = example('pingResult');
    p.data.targetIp = '999.1.1.1';
    rejectAt(p, 'data.targetIp');
    p.data.targetIp = 'fe80::1';
    expect(parseMessage(p).ok).toBe(true);
    const j = example('deviceJoin');
    j.data.macAddress = 'aa:bb:cc:dd:ee';
    rejectAt(j, 'data.macAddress');
    j.data.macAddress = 'AA-BB-CC-DD-EE-FF';
    j.data.deviceId = 'ble:beacon/7';
    expect(parseMessage(j).ok).toBe(true);
  });

  it('enforces physical ranges', () => {
    const cases: Array<[string, (d: Record<string, unknown>) => void, string]> = [
      ['pingResult', (d) => (d.rtt = -1), 'data.rtt'],
      ['pingResult', (d) => (d.qualityScore = 1.5), 'data.qualityScore'],
      ['pingResult', (d) => (d.ttl = 300), 'data.ttl'],
      ['deviceJoin', (d) => (d.rssi = 12), 'data.rssi'],
      [
        'deviceUpdate',
        (d) => ((d.performance as Record<string, unknown>).packetLoss = 101),
        'data.performance.packetLoss',
      ],
      [
        'deviceUpdate',
        (d) => ((d.location as Record<string, unknown>).confidence = -0.1),
        'data.location.confidence',
      ],
      [
        'mlScoreUpdate',
        (d) => ((d.scores as Record<string, unknown>).anomalyScore = 2),
        'data.scores.anomalyScore',
      ],
      ['agent_heartbeat', (d) => (d.cpuUsage = 140), 'data.cpuUsage'],
      ['trustUpdate', (d) => (d.newTrust = 'friendly'), 'data.newTrust'],
      ['anomalyDetected', (d) => (d.severity = 'extreme'), 'data.severity'],
      ['error', (d) => (d.errorCode = 'OOPS'), 'data.errorCode'],
    ];
    for (const [type, mutate, path] of cases) {
      const m = example(type);
      mutate(m.data);
      rejectAt(m, path);
    }
  });

  it('accepts calibration measurements with rtt, rssi or both, and an optional room', () => {
    const c = example('pingCalibration');
    c.data.measurements = [
      { targetIp: '192.168.1.1', rssi: -50 },
      { targetIp: '192.168.1.2', rtt: 0.00002 },
    ];
    delete (c.data.knownLocation as Record<string, unknown>).room;
    expect(parseMessage(c).ok).toBe(true);
    c.data.measurements = [{ targetIp: '192.168.1.1' }];
    rejectAt(c, 'data.measurements.0');
  });

  it('rejects unknown fields (strict objects)', () => {
    rejectAt({ ...example('pingResult'), extra: 1 }, '');
    const p = example('pingResult');
    p.data.bogus = true;
    rejectAt(p, 'data');
  });

  it('requires rtt on a successful ping only', () => {
    const p = example('pingResult');
    delete p.data.rtt;
    rejectAt(p, 'data.rtt');
    p.data.success = false;
    expect(parseMessage(p).ok).toBe(true);
  });

  it('keeps the error catalogue and the error schema in step', () => {
    expect(ERROR_CODES).toEqual(Object.keys(ERROR_CATALOGUE));
    for (const code of [
      'AUTH_FAILED',
      'CONN_TIMEOUT',
      'INVALID_DATA',
      'SCAN_FAILED',
      'PING_FAILED',
      'ML_ERROR',
      'INTEGRITY_VIOLATION',
    ]) {
      expect(ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].spec).toBe(true);
    }
    const docs = readFileSync(resolve(import.meta.dirname, '../../docs/protocol.md'), 'utf8');
    for (const code of ERROR_CODES) expect(docs).toContain(`\`${code}\``);
  });
});
