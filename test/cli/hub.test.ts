import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/command.js';
import { command } from '../../src/cli/hub.js';
import { parseFrame } from '../../src/protocol/index.js';
import { redisKeys } from '../../src/store/redis-keys.js';
import { haveRedis, REDIS_URL } from '../helpers/system-requirement.js';
import { AGENT, AGENT_TOKEN, Client, example, roundTrip, TOKENS, VIEWER_TOKEN } from '../hub/helpers.js';
import { deleteKeys, testPrefix } from '../ingest/helpers/redis.js';

const redisOk = await haveRedis();

const SBP = resolve(import.meta.dirname, '../../bin/sbp.js');
const dir = mkdtempSync(join(tmpdir(), 'sbp-cli-hub-'));
const tokensFile = join(dir, 'tokens.json');
writeFileSync(tokensFile, JSON.stringify(TOKENS));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}
const started: Running[] = [];
afterEach(() => {
  for (const r of started.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
});

function sbp(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [SBP, ...args], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c) => (out += c));
  child.stderr?.on('data', (c) => (err += c));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const running = { child, stdout: () => out, stderr: () => err, exit };
  started.push(running);
  return running;
}

async function listening(r: Running): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const m = /^listening on (wss?:\/\/\S+)\n/.exec(r.stdout());
    if (m) return m[1]!;
    if (r.child.exitCode !== null) throw new Error(`sbp hub exited ${r.child.exitCode}: ${r.stderr()}`);
    await new Promise((w) => setTimeout(w, 25));
  }
  throw new Error(`sbp hub did not listen: ${r.stderr()}`);
}

function captured(file: string): string[] {
  // Oldest first: FILE.N … FILE.1, then FILE.
  const files: string[] = [];
  for (let i = 1; existsSync(`${file}.${i}`); i++) files.unshift(`${file}.${i}`);
  files.push(file);
  return files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
}

describe('sbp hub', () => {
  it('prints one listening line, captures every accepted message with rotation, and loses none on SIGTERM', async () => {
    const capture = join(dir, 'capture.jsonl');
    const hub = sbp([
      'hub',
      '--port',
      '0',
      '--tokens',
      tokensFile,
      '--capture',
      capture,
      '--capture-max-bytes',
      '65536',
      '--capture-flush-ms',
      '60000',
      '--rate-limit',
      '1000000',
      '--data-dir',
      join(dir, 'data'),
      '--log-level',
      'warn',
    ]);
    const url = await listening(hub);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    const viewer = await Client.connect(url, VIEWER_TOKEN);
    const agent = await Client.connect(url, AGENT_TOKEN);
    const N = 3000;
    const base = example('pingResult');
    for (let i = 0; i < N; i++) agent.send({ ...base, data: { ...base.data, sequenceNumber: i } });
    agent.send({ ...base, agentId: 'someone_else' }); // refused: must not be captured
    agent.send('end'); // its reply shows every frame before it has been handled
    const errors = await agent.waitFor(2, (m) => m.type === 'error');
    expect(errors.map((e) => e.type === 'error' && e.data.errorCode)).toEqual([
      'AUTH_FAILED',
      'INVALID_DATA',
    ]);
    // The last lines are still in the capture buffer (no timed flush for 60 s): SIGTERM must write them.
    hub.child.kill('SIGTERM');
    expect(await hub.exit).toBe(0);
    expect(await agent.closed).toBe(1001);
    await viewer.closed;

    expect(hub.stdout()).toBe(`listening on ${url}\n`);
    const lines = captured(capture);
    expect(lines).toHaveLength(N);
    expect(lines.map((l) => JSON.parse(l).data.sequenceNumber)).toEqual([...Array(N).keys()]);
    for (const l of lines.slice(0, 10)) expect(parseFrame(l).ok).toBe(true);
    expect(existsSync(`${capture}.2`)).toBe(true); // ~290 kB in 64 kB files
    expect(readFileSync(`${capture}.1`).length).toBeLessThanOrEqual(65536);
    expect(lines.every((l) => JSON.parse(l).agentId === AGENT)).toBe(true);
  });

  it('reads tokens from SBP_TOKENS and shuts down on SIGINT, writing the capture it still held', async () => {
    const capture = join(dir, 'capture-sigint.jsonl');
    const hub = sbp(
      [
        'hub',
        '--port',
        '0',
        '--log-level',
        'silent',
        '--data-dir',
        join(dir, 'data2'),
        '--capture',
        capture,
        '--capture-flush-ms',
        '60000',
      ],
      { SBP_TOKENS: JSON.stringify(TOKENS) },
    );
    const url = await listening(hub);
    const agent = await Client.connect(url, AGENT_TOKEN);
    agent.send(example('agent_heartbeat'));
    await roundTrip(agent);
    // The dashboard page is served at / (the web dashboard plugin).
    const page = await fetch(url.replace(/^ws/, 'http').replace(/\/ws$/, '/'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    hub.child.kill('SIGINT');
    expect(await hub.exit).toBe(0);
    expect(captured(capture).map((l) => JSON.parse(l).type)).toEqual(['agent_heartbeat']);
  });

  it('refuses bad flags and missing tokens with a usage error naming the problem (exit code 2)', async () => {
    const badFile = join(dir, 'bad-tokens.json');
    writeFileSync(badFile, JSON.stringify({ agents: { a: 'same' }, viewers: ['same'] }));
    const saved = process.env.SBP_TOKENS;
    const savedRedis = process.env.REDIS_URL;
    delete process.env.SBP_TOKENS;
    delete process.env.REDIS_URL;
    try {
      const cases: Array<[string[], string]> = [
        [['--port', '0'], '--tokens FILE (or the SBP_TOKENS environment variable) is required'],
        [['--tokens', tokensFile, '--frobnicate'], "Unknown option '--frobnicate'"],
        [['--tokens', tokensFile, '--port', '99999'], '--port:'],
        [['--tokens', tokensFile, '--port', 'abc'], '--port must be a number'],
        [['--tokens', tokensFile, '--rate-limit', '0'], '--rate-limit:'],
        [['--tokens', badFile], 'viewers.0: the same token is also given to agent a'],
        [['--tokens', join(dir, 'missing.json')], 'cannot read --tokens'],
        [['--tokens', tokensFile, '--tls-cert', 'x.pem'], '--tls-cert and --tls-key go together'],
        [['--tokens', tokensFile, '--capture-max-bytes', '10'], 'need --capture FILE'],
        [['--tokens', tokensFile, '--redis', 'redis://127.0.0.1:1', '--prefix', 'a b'], '--prefix: 1-64 of'],
        [['--tokens', tokensFile, '--prefix', 'deployment-1'], '--prefix needs --redis URL'],
      ];
      for (const [args, message] of cases) {
        const error = await command.run(args).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, args.join(' ')).toBeInstanceOf(UsageError);
        expect((error as Error).message, args.join(' ')).toContain(message);
        expect((error as Error).message).not.toContain('"same"');
      }
    } finally {
      if (saved !== undefined) process.env.SBP_TOKENS = saved;
      if (savedRedis !== undefined) process.env.REDIS_URL = savedRedis;
    }
    // Through the real entry point: usage on stderr, exit code 2.
    const real = sbp(['hub', '--tokens', tokensFile, '--frobnicate']);
    expect(await real.exit).toBe(2);
    expect(real.stderr()).toContain('usage: sbp hub');
  });

  it.runIf(redisOk)(
    '--prefix: two deployments on one Redis do not see each other’s jobs, workers or counters',
    async () => {
      const [a, b] = [testPrefix(), testPrefix()];
      const redis = new Redis(REDIS_URL);
      const probes = (device: string, from: number) =>
        Array.from({ length: 20 }, (_, i) => {
          const m = example('pingResult');
          return { ...m, data: { ...m.data, deviceId: device, sequenceNumber: from + i } };
        });
      const counters = async (prefix: string) => redis.hgetall(redisKeys(prefix).counters);
      /** Records in the BullMQ jobs waiting in every partition queue of a deployment. */
      const queued = async (prefix: string) => {
        const keys = redisKeys(prefix);
        let records = 0;
        for (let p = 0; p < 8; p++) {
          const queue = new Queue(keys.queueName(p), { connection: redis, prefix: keys.bullPrefix });
          for (const job of await queue.getWaiting()) records += JSON.parse(job.data.r).length;
          await queue.close();
        }
        return records;
      };
      const common = [
        '--port',
        '0',
        '--tokens',
        tokensFile,
        '--rate-limit',
        '1000000',
        '--log-level',
        'warn',
      ];
      try {
        const workerA = sbp(['worker', '--redis', REDIS_URL, '--prefix', a, '--log-level', 'warn']);
        const hubA = sbp([
          'hub',
          ...common,
          '--redis',
          REDIS_URL,
          '--prefix',
          a,
          '--data-dir',
          join(dir, 'pa'),
        ]);
        const hubB = sbp([
          'hub',
          ...common,
          '--redis',
          REDIS_URL,
          '--prefix',
          b,
          '--data-dir',
          join(dir, 'pb'),
        ]);
        const [agentA, agentB] = await Promise.all([
          listening(hubA).then((url) => Client.connect(url, AGENT_TOKEN)),
          listening(hubB).then((url) => Client.connect(url, AGENT_TOKEN)),
        ]);
        for (const m of probes('dev-of-a', 0)) agentA.send(m);
        for (const m of probes('dev-of-b', 0)) agentB.send(m);
        // Deployment a has a worker: its probes come back as results, counted in a's keys only.
        await agentA.waitFor(1, (m) => m.type === 'deviceUpdate', 30_000);
        const deadline = Date.now() + 20_000;
        while ((await counters(a))[`probe:${AGENT}`] !== '20' && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(await counters(a)).toEqual({ [`probe:${AGENT}`]: '20' });
        // Deployment b has none: a's worker never took b's jobs; they wait in b's queues.
        await roundTrip(agentB);
        const waitUntil = Date.now() + 10_000;
        while ((await queued(b)) < 20 && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 50));
        expect(await queued(b)).toBe(20);
        expect(await counters(b)).toEqual({});
        expect(agentB.received.filter((m) => m.type === 'deviceUpdate')).toEqual([]);
        // A worker for b takes them; a's counters do not move.
        sbp(['worker', '--redis', REDIS_URL, '--prefix', b, '--log-level', 'warn']);
        const updates = await agentB.waitFor(1, (m) => m.type === 'deviceUpdate', 30_000);
        expect(updates.every((m) => m.type === 'deviceUpdate' && m.data.deviceId === 'dev-of-b')).toBe(true);
        while ((await counters(b))[`probe:${AGENT}`] !== '20' && Date.now() < deadline + 20_000) {
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(await counters(b)).toEqual({ [`probe:${AGENT}`]: '20' });
        expect(await counters(a)).toEqual({ [`probe:${AGENT}`]: '20' });
        expect(
          agentA.received.filter((m) => m.type === 'deviceUpdate' && m.data.deviceId !== 'dev-of-a'),
        ).toEqual([]);
        expect(workerA.child.exitCode).toBeNull();
      } finally {
        for (const r of started.splice(0)) {
          if (r.child.exitCode === null) {
            r.child.kill('SIGTERM');
            await r.exit;
          }
        }
        redis.disconnect();
        await Promise.all([deleteKeys(a), deleteKeys(b)]);
      }
    },
    90_000,
  );
});
