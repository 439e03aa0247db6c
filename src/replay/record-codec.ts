import type { IngestRecord } from '../ingest/ingest-sink.js';
import { type IngestMessage, isIngestMessage, type MessageOf } from '../protocol/index.js';
import type { FastValidator } from './fast-validate.js';

// How the replay's records (validated, deduplicated messages with their times) cross from the parse thread to the replay thread without a second JSON.parse: the two
// common types (pingResult, deviceUpdate) as numbers in a Float64Array (transferred, not copied) and indices into a
// per-batch table of distinct strings (ids, timestamps and anchors repeat, so the table is small and the rebuilt
// messages share their strings). Any other message travels as its line's text and is parsed and validated again on
// arrival — the same function on the same text, so the same result. A decoded message has exactly the keys, key
// order and values (-0 included) of the message encoded, which is zod's output: test/replay/record-codec.test.ts.

const KIND_PING = 1;
const KIND_UPDATE = 2;
const KIND_TEXT = 3;

// pingResult presence bits.
const P_RTT = 1;
const P_PACKET_SIZE = 2;
const P_TTL = 4;
const P_ESTIMATED_DISTANCE = 8;
const P_PROCESSING_OFFSET = 16;
const P_QUALITY = 32;
const P_RSSI = 64;
const P_DEVICE_ID = 128;
const P_SUCCESS = 256;

// deviceUpdate presence bits.
const U_RSSI = 1;
const U_LOCATION = 2;
const U_UNCERTAINTY = 4;
const U_ROOM = 8;
const U_ROOM_PROBABILITY = 16;
const U_FLOOR = 32;
const U_MODEL = 64;
const U_MODEL_VERSION = 128;
const U_PERFORMANCE = 256;
const U_LATENCY = 512;
const U_PACKET_LOSS = 1024;
const U_BANDWIDTH = 2048;
const U_ACTIVITY = 4096;
const U_PORT_SCANS = 8192;
const U_CONNECTION_ATTEMPTS = 16384;
const U_DATA_VOLUME = 32768;
const U_SERVICES = 65536;
const U_INTERVAL = 131072;

/** One batch of records in transferable form. */
export interface EncodedBatch {
  count: number;
  kinds: Uint8Array;
  ints: Int32Array;
  nums: Float64Array;
  strings: string[];
  /** Line texts of the messages sent as text (KIND_TEXT), in order. */
  texts: string[];
  /** Each record's `receivedAt`. */
  times: Float64Array;
}

/** The transferable buffers of a batch (postMessage transfer list). */
export function transferList(batch: EncodedBatch): ArrayBuffer[] {
  return [batch.kinds.buffer, batch.ints.buffer, batch.nums.buffer, batch.times.buffer].filter(
    (b): b is ArrayBuffer => b instanceof ArrayBuffer,
  );
}

class Growing<T extends Int32Array | Float64Array> {
  n = 0;
  constructor(
    public a: T,
    private readonly make: (size: number) => T,
  ) {}
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = this.make(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  done(): T {
    return this.a.slice(0, this.n) as T;
  }
}

/** Encodes records whose messages are validated; `texts[i]` is the line `records[i]` was read from. */
export function encodeBatch(records: readonly IngestRecord[], texts: readonly string[]): EncodedBatch {
  const count = records.length;
  const times = new Float64Array(count);
  const kinds = new Uint8Array(count);
  const ints = new Growing(new Int32Array(count * 8 + 16), (n) => new Int32Array(n));
  const nums = new Growing(new Float64Array(count * 6 + 16), (n) => new Float64Array(n));
  const table = new Map<string, number>();
  const strings: string[] = [];
  const textOut: string[] = [];
  const str = (s: string): number => {
    let i = table.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      table.set(s, i);
    }
    return i;
  };
  for (let i = 0; i < count; i++) {
    const m = records[i]!.message;
    times[i] = records[i]!.receivedAt;
    if (m.type === 'pingResult') {
      kinds[i] = KIND_PING;
      const d = m.data;
      let mask = d.success ? P_SUCCESS : 0;
      if (d.rtt !== undefined) mask |= P_RTT;
      if (d.packetSize !== undefined) mask |= P_PACKET_SIZE;
      if (d.ttl !== undefined) mask |= P_TTL;
      if (d.estimatedDistance !== undefined) mask |= P_ESTIMATED_DISTANCE;
      if (d.processingOffset !== undefined) mask |= P_PROCESSING_OFFSET;
      if (d.qualityScore !== undefined) mask |= P_QUALITY;
      if (d.rssi !== undefined) mask |= P_RSSI;
      if (d.deviceId !== undefined) mask |= P_DEVICE_ID;
      ints.push(mask);
      ints.push(str(m.agentId));
      ints.push(str(m.timestamp));
      ints.push(str(d.targetIp));
      ints.push(str(d.targetType));
      if (d.deviceId !== undefined) ints.push(str(d.deviceId));
      nums.push(d.sequenceNumber);
      if (d.rtt !== undefined) nums.push(d.rtt);
      if (d.packetSize !== undefined) nums.push(d.packetSize);
      if (d.ttl !== undefined) nums.push(d.ttl);
      if (d.estimatedDistance !== undefined) nums.push(d.estimatedDistance);
      if (d.processingOffset !== undefined) nums.push(d.processingOffset);
      if (d.qualityScore !== undefined) nums.push(d.qualityScore);
      if (d.rssi !== undefined) nums.push(d.rssi);
    } else if (m.type === 'deviceUpdate') {
      kinds[i] = KIND_UPDATE;
      const d = m.data;
      const l = d.location;
      const p = d.performance;
      const a = d.activity;
      let mask = 0;
      if (d.rssi !== undefined) mask |= U_RSSI;
      if (l !== undefined) {
        mask |= U_LOCATION;
        if (l.uncertainty !== undefined) mask |= U_UNCERTAINTY;
        if (l.room !== undefined) mask |= U_ROOM;
        if (l.roomProbability !== undefined) mask |= U_ROOM_PROBABILITY;
        if (l.floor !== undefined) mask |= U_FLOOR;
        if (l.model !== undefined) mask |= U_MODEL;
        if (l.modelVersion !== undefined) mask |= U_MODEL_VERSION;
      }
      if (p !== undefined) {
        mask |= U_PERFORMANCE;
        if (p.latency !== undefined) mask |= U_LATENCY;
        if (p.packetLoss !== undefined) mask |= U_PACKET_LOSS;
        if (p.bandwidth !== undefined) mask |= U_BANDWIDTH;
      }
      if (a !== undefined) {
        mask |= U_ACTIVITY;
        if (a.portScans !== undefined) mask |= U_PORT_SCANS;
        if (a.connectionAttempts !== undefined) mask |= U_CONNECTION_ATTEMPTS;
        if (a.dataVolume !== undefined) mask |= U_DATA_VOLUME;
        if (a.services !== undefined) mask |= U_SERVICES;
        if (a.intervalSeconds !== undefined) mask |= U_INTERVAL;
      }
      ints.push(mask);
      ints.push(str(m.agentId));
      ints.push(str(m.timestamp));
      ints.push(str(d.deviceId));
      if (d.rssi !== undefined) nums.push(d.rssi);
      if (l !== undefined) {
        nums.push(l.x);
        nums.push(l.y);
        nums.push(l.confidence);
        if (l.uncertainty !== undefined) nums.push(l.uncertainty);
        if (l.room !== undefined) ints.push(str(l.room));
        if (l.roomProbability !== undefined) nums.push(l.roomProbability);
        if (l.floor !== undefined) nums.push(l.floor);
        if (l.model !== undefined) ints.push(str(l.model));
        if (l.modelVersion !== undefined) ints.push(str(l.modelVersion));
      }
      if (p !== undefined) {
        if (p.latency !== undefined) nums.push(p.latency);
        if (p.packetLoss !== undefined) nums.push(p.packetLoss);
        if (p.bandwidth !== undefined) nums.push(p.bandwidth);
      }
      if (a !== undefined) {
        if (a.portScans !== undefined) nums.push(a.portScans);
        if (a.connectionAttempts !== undefined) nums.push(a.connectionAttempts);
        if (a.dataVolume !== undefined) nums.push(a.dataVolume);
        if (a.services !== undefined) {
          ints.push(a.services.length);
          for (const s of a.services) ints.push(str(s));
        }
        if (a.intervalSeconds !== undefined) nums.push(a.intervalSeconds);
      }
    } else {
      kinds[i] = KIND_TEXT;
      textOut.push(texts[i]!);
    }
  }
  return {
    count,
    kinds,
    ints: ints.done(),
    nums: nums.done(),
    strings,
    texts: textOut,
    times,
  };
}

/** The records of an encoded batch, in order. `validator` re-validates the messages sent as text. */
export function decodeBatch(batch: EncodedBatch, validator: FastValidator): IngestRecord[] {
  const { kinds, ints, nums, strings, times } = batch;
  const out: IngestRecord[] = new Array(batch.count);
  let ii = 0;
  let ni = 0;
  let ti = 0;
  for (let i = 0; i < batch.count; i++) {
    const kind = kinds[i];
    if (kind === KIND_PING) {
      const mask = ints[ii++]!;
      const agentId = strings[ints[ii++]!]!;
      const timestamp = strings[ints[ii++]!]!;
      // Keys in schema order (zod's output order), optional keys only when present.
      const data = {
        targetIp: strings[ints[ii++]!]!,
        targetType: strings[ints[ii++]!]!,
      } as MessageOf<'pingResult'>['data'];
      const deviceId = mask & P_DEVICE_ID ? strings[ints[ii++]!]! : undefined;
      const sequenceNumber = nums[ni++]!;
      if (mask & P_RTT) data.rtt = nums[ni++]!;
      if (mask & P_PACKET_SIZE) data.packetSize = nums[ni++]!;
      if (mask & P_TTL) data.ttl = nums[ni++]!;
      data.sequenceNumber = sequenceNumber;
      data.success = (mask & P_SUCCESS) !== 0;
      if (mask & P_ESTIMATED_DISTANCE) data.estimatedDistance = nums[ni++]!;
      if (mask & P_PROCESSING_OFFSET) data.processingOffset = nums[ni++]!;
      if (mask & P_QUALITY) data.qualityScore = nums[ni++]!;
      if (deviceId !== undefined) data.deviceId = deviceId;
      if (mask & P_RSSI) data.rssi = nums[ni++]!;
      out[i] = {
        message: { type: 'pingResult', agentId, timestamp, data },
        hubId: 'replay',
        receivedAt: times[i]!,
      };
    } else if (kind === KIND_UPDATE) {
      const mask = ints[ii++]!;
      const agentId = strings[ints[ii++]!]!;
      const timestamp = strings[ints[ii++]!]!;
      const data: MessageOf<'deviceUpdate'>['data'] = { deviceId: strings[ints[ii++]!]! };
      if (mask & U_RSSI) data.rssi = nums[ni++]!;
      if (mask & U_LOCATION) {
        const l: NonNullable<typeof data.location> = {
          x: nums[ni++]!,
          y: nums[ni++]!,
          confidence: nums[ni++]!,
        };
        if (mask & U_UNCERTAINTY) l.uncertainty = nums[ni++]!;
        if (mask & U_ROOM) l.room = strings[ints[ii++]!]!;
        if (mask & U_ROOM_PROBABILITY) l.roomProbability = nums[ni++]!;
        if (mask & U_FLOOR) l.floor = nums[ni++]!;
        if (mask & U_MODEL) l.model = strings[ints[ii++]!]!;
        if (mask & U_MODEL_VERSION) l.modelVersion = strings[ints[ii++]!]!;
        data.location = l;
      }
      if (mask & U_PERFORMANCE) {
        const p: NonNullable<typeof data.performance> = {};
        if (mask & U_LATENCY) p.latency = nums[ni++]!;
        if (mask & U_PACKET_LOSS) p.packetLoss = nums[ni++]!;
        if (mask & U_BANDWIDTH) p.bandwidth = nums[ni++]!;
        data.performance = p;
      }
      if (mask & U_ACTIVITY) {
        const a: NonNullable<typeof data.activity> = {};
        if (mask & U_PORT_SCANS) a.portScans = nums[ni++]!;
        if (mask & U_CONNECTION_ATTEMPTS) a.connectionAttempts = nums[ni++]!;
        if (mask & U_DATA_VOLUME) a.dataVolume = nums[ni++]!;
        if (mask & U_SERVICES) {
          const n = ints[ii++]!;
          const services: string[] = new Array(n);
          for (let k = 0; k < n; k++) services[k] = strings[ints[ii++]!]!;
          a.services = services;
        }
        if (mask & U_INTERVAL) a.intervalSeconds = nums[ni++]!;
        data.activity = a;
      }
      const message: IngestMessage = { type: 'deviceUpdate', agentId, timestamp, data };
      out[i] = { message, hubId: 'replay', receivedAt: times[i]! };
    } else {
      const text = batch.texts[ti++]!;
      const parsed = validator.parse(JSON.parse(text));
      // The parse thread accepted this very text with the same validator.
      if (!parsed.ok || !isIngestMessage(parsed.message)) {
        throw new Error(
          `record codec: a line the parse thread accepted does not validate: ${text.slice(0, 200)}`,
        );
      }
      out[i] = { message: parsed.message, hubId: 'replay', receivedAt: times[i]! };
    }
  }
  return out;
}
