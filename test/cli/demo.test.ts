import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveView } from '../../src/cli/demo-view.js';
import { makeMessage } from '../../src/protocol/index.js';
import { PrivateRedis } from '../ingest/helpers/redis.js';

function haveRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('redis-server is required in CI');
    console.warn(
      '\n*** SKIPPING sbp demo --redis: redis-server not found. To run it: apt-get install redis-server ***\n',
    );
    return false;
  }
}

const SBP = resolve(import.meta.dirname, '../../bin/sbp.js');
const dir = mkdtempSync(join(tmpdir(), 'sbp-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LiveView', () => {
  it('folds results into a table and lists anomalies as they arrive', () => {
    const view = new LiveView();
    view.apply(
      makeMessage('deviceUpdate', 'a1', {
        deviceId: 'aa:bb:cc:dd:ee:ff',
        location: { x: 1.25, y: 2.5, confidence: 0.8, uncertainty: 1.1, room: 'living' },
      }),
      0,
    );
    view.apply(
      makeMessage('mlScoreUpdate', 'a1', { deviceId: 'aa:bb:cc:dd:ee:ff', scores: { anomalyScore: 0.3 } }),
      0,
    );
    const line = view.apply(
      makeMessage('anomalyDetected', 'a1', {
        anomalyId: 'x',
        deviceId: 'aa:bb:cc:dd:ee:ff',
        anomalyType: 'signal_drop',
        severity: 'high',
        confidence: 0.9,
        mlModel: 'isolation_forest',
        features: { rssi_mean: -80 },
        recommendedAction: 'investigate_interference',
      }),
      1000,
    );
    expect(line).toContain('ANOMALY aa:bb:cc:dd:ee:ff: high signal_drop');
    const table = view.render('header', 5000);
    expect(table).toMatch(/aa:bb:cc:dd:ee:ff\s+\(1\.3, 2\.5\) ±1\.1\s+living\s+0\.80\s+0\.30/);
    expect(table).toContain(
      '4s ago  aa:bb:cc:dd:ee:ff  high signal_drop: rssi_mean=-80; investigate_interference',
    );
  });
});

/** `sbp demo` as a child process, with a way to wait for its live view. */
function spawnDemo(extra: string[]): {
  waitFor(re: RegExp, ms: number): Promise<RegExpExecArray>;
  stop(): Promise<number | null>;
} {
  const child = spawn(
    process.execPath,
    [
      SBP,
      'demo',
      '--port',
      '0',
      '--data-dir',
      join(dir, 'data'),
      '--model-dir',
      join(dir, 'models'),
      ...extra,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    async waitFor(re, ms) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const m = re.exec(out);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`demo exited ${child.exitCode}: ${err}`);
        await new Promise((w) => setTimeout(w, 100));
      }
      throw new Error(`timed out waiting for ${re}\nstdout:\n${out}\nstderr:\n${err}`);
    },
    stop() {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/** Polls the hub's registry until a device with a location is in it (the registry is written asynchronously). */
async function locatedDevices(url: string, token: string): Promise<Array<{ location?: { x: number } }>> {
  let devices: Array<{ location?: { x: number } }> = [];
  for (let i = 0; i < 100 && !devices.some((d) => d.location !== undefined); i++) {
    const res = await fetch(`${url}api/devices`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    devices = ((await res.json()) as { devices: typeof devices }).devices;
    if (!devices.some((d) => d.location !== undefined)) await new Promise((w) => setTimeout(w, 200));
  }
  return devices;
}

describe('sbp demo (npm start)', () => {
  it('trains on first run, then runs hub + worker + simulated agent: devices located, dashboard and API served', async () => {
    const demo = spawnDemo([]);
    try {
      await demo.waitFor(/trained in/, 240_000);
      const [, url, token] = await demo.waitFor(
        /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)\?token=([0-9a-f]+)/,
        60_000,
      );
      // A located device appears in the live view: "(x, y) ±r  room".
      await demo.waitFor(/\(-?\d+\.\d, -?\d+\.\d\) ±\d+\.\d\s+\S+/, 60_000);
      const page = await fetch(url!);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      expect((await fetch(`${url}api/devices`)).status).toBe(401);
      const devices = await locatedDevices(url!, token!);
      expect(devices.length).toBeGreaterThanOrEqual(1);
      expect(devices.some((d) => d.location !== undefined)).toBe(true);
    } finally {
      expect(await demo.stop()).toBe(0);
    }
  }, 360_000);

  it.runIf(haveRedisServer())(
    '--redis URL: the same over BullMQ and Redis (a private redis-server), keys under the sbp-demo prefix',
    async () => {
      const redis = new PrivateRedis();
      await redis.start();
      const check = new Redis(redis.url);
      try {
        // Trains first unless the test above already did (same model directory).
        const demo = spawnDemo(['--redis', redis.url]);
        try {
          const [, url, token] = await demo.waitFor(
            /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)\?token=([0-9a-f]+)/,
            60_000,
          );
          await demo.waitFor(/\(-?\d+\.\d, -?\d+\.\d\) ±\d+\.\d\s+\S+/, 60_000);
          const devices = await locatedDevices(url!, token!);
          expect(devices.some((d) => d.location !== undefined)).toBe(true);
          // It really ran on Redis: the registry, the effect counters and the partition queues are there.
          expect(await check.scard('sbp-demo:devices')).toBeGreaterThanOrEqual(devices.length);
          const counters = await check.hgetall('sbp-demo:counters');
          expect(Number(counters['probe:demo_agent_001'])).toBeGreaterThan(0);
          expect((await check.keys('sbp-demo:bull:*')).length).toBeGreaterThan(0);
        } finally {
          expect(await demo.stop()).toBe(0);
        }
      } finally {
        check.disconnect();
        await redis.destroy();
      }
    },
    360_000,
  );
});
