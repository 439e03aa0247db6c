import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BullmqIngestQueue } from '../../../src/ingest/bullmq-queue.js';
import type { MemoryIngestQueue } from '../../../src/ingest/memory-queue.js';
import type { OpenedPipeline } from '../../../src/ingest/open-pipeline.js';
import { partitionOf } from '../../../src/ingest/partition.js';
import { Message, type MessageOf } from '../../../src/protocol/index.js';
import { collect, waitFor } from './collect.js';
import { calibration, join, probe, record } from './messages.js';

export interface SuiteTarget {
  /** Opens a pipeline (the same storage each time within one test, so a reopen sees what was stored). */
  open(): Promise<OpenedPipeline>;
  /** Calibration samples stored durably so far. */
  calibrations(): Promise<Array<MessageOf<'pingCalibration'>>>;
  cleanup(): Promise<void>;
}

function rssiMarker(seq: number): number {
  // Unique per probe of a device (seq < 100000): the deviceUpdate echoes the newest probe's rssi.
  return -(seq % 100_000) / 1000 - 1;
}

/**
 * The end-to-end ingestion suite, run against every queue kind (embedded and Redis): the hub's side (sink, results
 * bus, registry, dead letters) in, the worker's effects out.
 */
export function pipelineSuite(name: string, makeTarget: () => SuiteTarget): void {
  describe(`ingestion pipeline end to end (${name})`, () => {
    let target: SuiteTarget;
    let pipeline: OpenedPipeline;

    beforeEach(async () => {
      target = makeTarget();
      pipeline = await target.open();
    });

    afterEach(async () => {
      await pipeline.close();
      await target.cleanup();
    });

    it('publishes valid results for probes, addressed to the agent that sent them', async () => {
      const got = collect(pipeline.results);
      if ('ready' in pipeline.results) await (pipeline.results as { ready(): Promise<void> }).ready();
      for (let s = 0; s < 40; s++) {
        expect(pipeline.sink.offer(record(probe(`agent-${s % 2}`, `dev-${s % 4}`, s)))).toBeNull();
      }
      await waitFor('a deviceUpdate per device', () => {
        const devices = new Set(
          got.messages.flatMap((m) => (m.type === 'deviceUpdate' ? [m.data.deviceId] : [])),
        );
        return devices.size === 4;
      });
      for (const m of got.messages) {
        expect(Message.safeParse(m).success).toBe(true);
        const device = (m.data as { deviceId: string }).deviceId;
        // dev-0, dev-2 are probed by agent-0; dev-1, dev-3 by agent-1.
        expect(m.agentId).toBe(`agent-${Number(device.slice(4)) % 2}`);
      }
      const update = got.messages.find((m) => m.type === 'deviceUpdate') as MessageOf<'deviceUpdate'>;
      expect(update.data.location?.model).toBe('test_centroid');
      expect(got.invalid).toEqual([]);
      got.stop();
    });

    it('keeps each device in order and applies a resent message only once', async () => {
      const got = collect(pipeline.results);
      if ('ready' in pipeline.results) await (pipeline.results as { ready(): Promise<void> }).ready();
      const devices = 6;
      const perDevice = 60;
      const sent: ReturnType<typeof probe>[] = [];
      for (let i = 0; i < perDevice; i++) {
        for (let d = 0; d < devices; d++) {
          const seq = i * devices + d;
          sent.push(probe('agent-o', `ord-${d}`, seq, { rssi: rssiMarker(seq) }));
        }
      }
      for (const m of sent) expect(pipeline.sink.offer(record(m))).toBeNull();
      // The agent resends the last 100 (as after a reconnect), in later jobs: no effect.
      await pipeline.drain();
      for (const m of sent.slice(-100)) expect(pipeline.sink.offer(record(m))).toBeNull();
      // Then one more probe per device: once its result is out, everything before it in its partition is applied.
      const finalSeq = (d: number) => perDevice * devices + d;
      for (let d = 0; d < devices; d++) {
        pipeline.sink.offer(
          record(probe('agent-o', `ord-${d}`, finalSeq(d), { rssi: rssiMarker(finalSeq(d)) })),
        );
      }
      await waitFor('every device to report its last probe', () =>
        Array.from({ length: devices }, (_, d) => d).every((d) =>
          got.messages.some(
            (m) =>
              m.type === 'deviceUpdate' &&
              m.data.deviceId === `ord-${d}` &&
              m.data.rssi === rssiMarker(finalSeq(d)),
          ),
        ),
      );
      await pipeline.drain();
      for (let d = 0; d < devices; d++) {
        const markers = got.messages
          .filter(
            (m): m is MessageOf<'deviceUpdate'> =>
              m.type === 'deviceUpdate' && m.data.deviceId === `ord-${d}`,
          )
          .map((m) => m.data.rssi!);
        // The newest probe's marker only ever moves forward (markers decrease with seq).
        for (let i = 1; i < markers.length; i++) expect(markers[i]!).toBeLessThan(markers[i - 1]!);
      }
      const stats = await pipeline.store.counters();
      expect(stats['probe:agent-o']).toBe(devices * (perDevice + 1));
      // Nothing was dead-lettered: the test positioner throws on out-of-order readings.
      expect(await pipeline.deadLetters()).toEqual([]);
      expect(got.invalid).toEqual([]);
      got.stop();
    });

    it('dead-letters malformed jobs and bad records while the queue keeps flowing', async () => {
      const got = collect(pipeline.results);
      if ('ready' in pipeline.results) await (pipeline.results as { ready(): Promise<void> }).ready();
      const queue = pipeline.queue as MemoryIngestQueue | BullmqIngestQueue;
      const p = partitionOf(probe('agent-x', 'dl-dev', 1), queue.partitions);
      await queue.addRaw(p, { not: 'a batch' });
      await queue.addRaw(p, 'garbage');
      // A good batch with one bad record inside.
      await queue.addRaw(p, {
        v: 1,
        h: 'hub-test',
        r: JSON.stringify([
          [probe('agent-x', 'dl-dev', 1), Date.now()],
          [{ ...probe('agent-x', 'dl-dev', 2), type: 'pingResult', data: { rtt: -5 } }, Date.now()],
          [probe('agent-x', 'dl-dev', 3), Date.now()],
        ]),
      });
      for (let s = 4; s < 10; s++) pipeline.sink.offer(record(probe('agent-x', 'dl-dev', s)));
      await waitFor('results after the bad jobs', () =>
        got.messages.some((m) => m.type === 'deviceUpdate' && m.data.deviceId === 'dl-dev'),
      );
      await waitFor('three dead letters', async () => (await pipeline.deadLetters()).length === 3);
      const letters = await pipeline.deadLetters();
      const reasons = letters.map((l) => l.reason).join('\n');
      expect(reasons).toMatch(/malformed batch/);
      expect(reasons).toMatch(/INVALID_DATA/);
      for (const l of letters) expect(l.payload).toBeDefined();
      await waitFor(
        'all good probes applied',
        async () => (await pipeline.store.counters())['probe:agent-x'] === 8,
      );
      expect(got.invalid).toEqual([]);
      got.stop();
    });

    it('stores calibration samples once, and the registry and trust decisions survive a restart', async () => {
      pipeline.sink.offer(record(calibration('agent-c', 'cal-1')));
      pipeline.sink.offer(record(calibration('agent-c', 'cal-2')));
      pipeline.sink.offer(record(calibration('agent-c', 'cal-1'))); // resent
      pipeline.sink.offer(record(join('agent-c', 'tv-1')));
      for (let s = 0; s < 5; s++) pipeline.sink.offer(record(probe('agent-c', 'tv-1', s)));
      await waitFor('calibrations stored', async () => (await target.calibrations()).length >= 2);
      await waitFor(
        'device registered',
        async () => (await pipeline.registry.get('tv-1'))?.location !== undefined,
      );
      // The user blocks the device through the hub.
      await pipeline.registry.upsert('tv-1', 'agent-c', { userDecision: 'blocked', trustLevel: 'blocked' });
      await pipeline.drain();
      await pipeline.close();

      pipeline = await target.open();
      const device = await pipeline.registry.get('tv-1');
      expect(device).toMatchObject({
        hostname: 'host-tv-1',
        vendor: 'Acme',
        userDecision: 'blocked',
        trustLevel: 'blocked',
      });
      expect(device?.location?.model).toBe('test_centroid');
      // Idempotency keys survive too: the same calibration resent after the restart is not stored again.
      pipeline.sink.offer(record(calibration('agent-c', 'cal-2')));
      pipeline.sink.offer(record(calibration('agent-c', 'cal-3')));
      await waitFor('cal-3 stored', async () =>
        (await target.calibrations()).some((c) => c.data.calibrationId === 'cal-3'),
      );
      const ids = (await target.calibrations()).map((c) => c.data.calibrationId).sort();
      expect(ids).toEqual(['cal-1', 'cal-2', 'cal-3']);
      // The worker obeys the stored decision: no trust change away from "blocked".
      const got = collect(pipeline.results);
      if ('ready' in pipeline.results) await (pipeline.results as { ready(): Promise<void> }).ready();
      for (let s = 5; s < 8; s++) pipeline.sink.offer(record(probe('agent-c', 'tv-1', s)));
      await waitFor('an update for tv-1', () =>
        got.messages.some((m) => m.type === 'deviceUpdate' && m.data.deviceId === 'tv-1'),
      );
      expect(got.messages.filter((m) => m.type === 'trustUpdate')).toEqual([]);
      expect(got.invalid).toEqual([]);
      got.stop();
    });
  });
}
