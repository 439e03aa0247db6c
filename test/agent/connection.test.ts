import { createServer } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffSchedule } from '../../src/agent/backoff.js';
import { AgentConnection } from '../../src/agent/connection.js';
import { type Message, makeMessage, parseMessage } from '../../src/protocol/index.js';
import { FakeClock } from './helpers/fake-clock.js';
import { MiniHub, waitFor } from './helpers/mini-hub.js';

const logger = pino({ level: 'silent' });
const AGENT = 'agent_test_01';
const TOKEN = 'secret-token-01';

function ping(seq: number, now: number): Message {
  return makeMessage(
    'pingResult',
    AGENT,
    { targetIp: '127.0.0.1', targetType: 'device', rtt: 0.1, sequenceNumber: seq, success: true },
    new Date(now),
  );
}

function greeting(now: () => number) {
  return () => [
    makeMessage(
      'agent_register',
      AGENT,
      {
        version: '0.1.0',
        capabilities: ['ping_probe'],
        networkInterface: '127.0.0.1',
        systemInfo: { os: 'Linux', arch: 'x64', nodeVersion: '20.0.0' },
      },
      new Date(now()),
    ),
  ];
}

/** A loopback port with nothing listening (connections are refused at once). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function connection(
  url: string,
  clock: FakeClock,
  extra: Partial<ConstructorParameters<typeof AgentConnection>[0]> = {},
) {
  const c = new AgentConnection({
    url,
    agentId: AGENT,
    token: TOKEN,
    clock,
    logger,
    maxMessagesPerMinute: 0,
    greeting: greeting(() => clock.now()),
    ...extra,
  });
  cleanups.push(() => c.stop());
  return c;
}

async function hub(options: Partial<ConstructorParameters<typeof MiniHub>[0]> = {}) {
  const h = new MiniHub({ agents: { [AGENT]: TOKEN }, ...options });
  const url = await h.listen();
  cleanups.push(() => h.close());
  return { hub: h, url };
}

describe('AgentConnection', () => {
  it('connects with the Bearer token and sends the greeting first, then queued messages in order', async () => {
    const clock = new FakeClock();
    const { hub: h, url } = await hub();
    const c = connection(url, clock);
    for (let i = 0; i < 5; i++) expect(c.send(ping(i, clock.now())).ok).toBe(true);
    c.start();
    await waitFor(() => h.received.length === 6, 5000, '6 messages');
    expect(h.received[0]!.type).toBe('agent_register');
    expect(h.ofType('pingResult').map((m) => m.data.sequenceNumber)).toEqual([0, 1, 2, 3, 4]);
    // Every message the hub saw validates (the hub itself checked; the agent checked before sending).
    for (const m of h.received) expect(parseMessage(m).ok).toBe(true);
    await waitFor(() => c.stats().confirmed === 6, 5000, 'pongs confirming every message');
    expect(c.stats().unconfirmed).toBe(0);
    expect(c.stats().hubRttMs).toBeGreaterThanOrEqual(0);
  });

  it('backs off 1, 2, 4, 8, 16, 30, 30, 30, 30, 30 s on the fake clock, then gives up after 10 attempts', async () => {
    const clock = new FakeClock();
    const url = `ws://127.0.0.1:${await closedPort()}/ws`;
    const c = connection(url, clock);
    const delays: number[] = [];
    const attempts: number[] = [];
    c.on('reconnect_scheduled', ({ attempt, delayMs }) => {
      attempts.push(attempt);
      delays.push(delayMs);
    });
    let gaveUp: { attempts: number; lastError: string } | undefined;
    c.on('gave_up', (info) => {
      gaveUp = info;
    });
    c.start();
    for (let i = 0; i < 10; i++) {
      await waitFor(() => delays.length === i + 1, 5000, `retry ${i + 1} to be scheduled`);
      expect(c.state).toBe('waiting');
      // Nothing happens a millisecond early…
      clock.advance(delays[i]! - 1);
      expect(c.state).toBe('waiting');
      // …and the attempt starts exactly on time.
      clock.advance(1);
      expect(c.state).toBe('connecting');
    }
    await waitFor(() => gaveUp !== undefined, 5000, 'give-up');
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000]);
    expect(delays).toEqual(backoffSchedule());
    expect(attempts).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(gaveUp!.attempts).toBe(10);
    expect(gaveUp!.lastError).toMatch(/ECONNREFUSED/);
    expect(c.state).toBe('gave_up');
    // No timer is left running after giving up.
    clock.advance(10 * 60_000);
    expect(c.state).toBe('gave_up');
    expect(c.stats().failures).toBe(11);
  });

  it('resets the attempt counter after a successful connection', async () => {
    const clock = new FakeClock();
    const port = await closedPort();
    const url = `ws://127.0.0.1:${port}/ws`;
    const c = connection(url, clock);
    const delays: number[] = [];
    c.on('reconnect_scheduled', ({ delayMs }) => delays.push(delayMs));
    c.start();
    await waitFor(() => delays.length === 1);
    clock.advance(1000);
    await waitFor(() => delays.length === 2);
    expect(delays).toEqual([1000, 2000]);
    const h = new MiniHub({ agents: { [AGENT]: TOKEN }, port });
    await h.listen();
    cleanups.push(() => h.close());
    clock.advance(2000);
    await waitFor(() => c.state === 'open');
    h.dropAll();
    await waitFor(() => delays.length === 3);
    expect(delays[2]).toBe(1000);
  });

  it('stops at once when the hub refuses the token (HTTP 401), without retrying', async () => {
    const clock = new FakeClock();
    const { url } = await hub();
    const c = connection(url, clock, { token: 'wrong-token' });
    let reason = '';
    c.on('auth_failed', (info) => {
      reason = info.reason;
    });
    c.start();
    await waitFor(() => c.state === 'auth_failed');
    expect(reason).toMatch(/401/);
    expect(reason).toMatch(/token or the agentId is wrong/);
    clock.advance(60_000);
    expect(c.state).toBe('auth_failed');
    expect(c.stats().failures).toBe(0);
  });

  it('stops when the hub answers AUTH_FAILED for a spoofed agentId', async () => {
    const clock = new FakeClock();
    const { url } = await hub();
    const c = connection(url, clock, {
      greeting: () => [
        makeMessage(
          'agent_register',
          'someone_else',
          {
            version: '0.1.0',
            capabilities: [],
            networkInterface: '127.0.0.1',
            systemInfo: { os: 'Linux', arch: 'x64', nodeVersion: '20.0.0' },
          },
          new Date(clock.now()),
        ),
      ],
    });
    c.start();
    await waitFor(() => c.state === 'auth_failed');
  });

  it('buffers up to the bound while the hub is down, drops the OLDEST beyond it, and sends the rest in order', async () => {
    const clock = new FakeClock();
    const port = await closedPort();
    const c = connection(`ws://127.0.0.1:${port}/ws`, clock, { bufferCapacity: 100 });
    const dropped: number[] = [];
    c.on('dropped', (e) => {
      if (e.message.type === 'pingResult') dropped.push(e.message.data.sequenceNumber);
    });
    c.start();
    await waitFor(() => c.state === 'waiting');
    for (let i = 0; i < 250; i++) c.send(ping(i, clock.now()));
    expect(c.stats().outbox).toMatchObject({ size: 100, capacity: 100, dropped: 150 });
    expect(dropped).toEqual(Array.from({ length: 150 }, (_, i) => i));
    const h = new MiniHub({ agents: { [AGENT]: TOKEN }, port });
    await h.listen();
    cleanups.push(() => h.close());
    clock.advance(1000);
    await waitFor(() => h.ofType('pingResult').length === 100, 5000, '100 buffered probes');
    expect(h.ofType('pingResult').map((m) => m.data.sequenceNumber)).toEqual(
      Array.from({ length: 100 }, (_, i) => 150 + i),
    );
    expect(c.stats().outbox.droppedByType).toEqual({ pingResult: 150 });
  });

  it('resends what a crashed hub had not confirmed: nothing lost in flight, order kept', async () => {
    const clock = new FakeClock();
    const { hub: h, url } = await hub({ autoPong: false });
    const c = connection(url, clock);
    c.start();
    await waitFor(() => c.state === 'open');
    // The hub reads but never pongs, so nothing is confirmed: every probe stays in the resend window.
    for (let i = 0; i < 20; i++) c.send(ping(i, clock.now()));
    await waitFor(() => h.ofType('pingResult').length === 20);
    expect(c.stats().unconfirmed).toBe(21);
    h.dropAll();
    await waitFor(() => c.state === 'waiting');
    expect(c.stats().outbox.size).toBe(20);
    clock.advance(1000);
    await waitFor(() => h.ofType('pingResult').length === 40, 5000, 'the resent window');
    const seqs = h.ofType('pingResult').map((m) => m.data.sequenceNumber);
    expect(seqs.slice(20)).toEqual(seqs.slice(0, 20));
    expect(c.stats().resent).toBe(20);
  });

  it('detects a silent hub after 90 s without traffic and reconnects; pongs keep a live hub alive', async () => {
    const clock = new FakeClock();
    const silent = await hub({ autoPong: false });
    const c = connection(silent.url, clock);
    let timeouts = 0;
    c.on('heartbeat_timeout', () => timeouts++);
    c.start();
    await waitFor(() => c.state === 'open');
    clock.advance(89_999);
    expect(c.state).toBe('open');
    clock.advance(1);
    expect(timeouts).toBe(1);
    await waitFor(() => c.state === 'waiting');
    expect(c.stats().heartbeatTimeouts).toBe(1);

    const clock2 = new FakeClock();
    const live = await hub();
    const c2 = connection(live.url, clock2);
    let timeouts2 = 0;
    c2.on('heartbeat_timeout', () => timeouts2++);
    c2.start();
    await waitFor(() => c2.state === 'open');
    await waitFor(() => c2.stats().confirmed === 1, 5000, 'greeting pong');
    for (let k = 1; k <= 4; k++) {
      const pongs = c2.stats().pongs;
      clock2.advance(30_000);
      // The keepalive ping at each 30 s mark is answered: the silence never reaches 90 s.
      await waitFor(() => c2.stats().pongs === pongs + 1, 5000, `keepalive pong ${k}`);
    }
    expect(timeouts2).toBe(0);
    expect(c2.state).toBe('open');
  });

  it('QUEUE_FULL: keeps the refused message and resends it after a pause, in order', async () => {
    const clock = new FakeClock();
    let refusals = 0;
    const { hub: h, url } = await hub({
      refuse: (m) =>
        m.type === 'pingResult' && m.data.sequenceNumber === 3 && refusals++ === 0 ? 'QUEUE_FULL' : undefined,
    });
    const c = connection(url, clock);
    c.start();
    await waitFor(() => c.state === 'open');
    for (let i = 0; i < 6; i++) c.send(ping(i, clock.now()));
    await waitFor(() => h.refused.length === 1 && c.stats().queueFull === 1);
    await waitFor(() => h.ofType('pingResult').length === 5);
    expect(h.ofType('pingResult').map((m) => m.data.sequenceNumber)).toEqual([0, 1, 2, 4, 5]);
    expect(c.stats().outbox.size).toBe(1);
    clock.advance(999);
    await new Promise((r) => setTimeout(r, 30));
    expect(h.ofType('pingResult')).toHaveLength(5);
    clock.advance(1);
    await waitFor(() => h.ofType('pingResult').length === 6);
    expect(h.ofType('pingResult').at(-1)!.data.sequenceNumber).toBe(3);
    expect(c.stats().resent).toBe(1);
  });

  it('RATE_LIMITED: slows down, keeps the message and retries later', async () => {
    const clock = new FakeClock();
    let refusals = 0;
    const { hub: h, url } = await hub({
      refuse: (m) =>
        m.type === 'pingResult' && m.data.sequenceNumber === 1 && refusals++ === 0
          ? 'RATE_LIMITED'
          : undefined,
    });
    const c = connection(url, clock, { maxMessagesPerMinute: 600 });
    c.start();
    await waitFor(() => c.state === 'open');
    for (let i = 0; i < 3; i++) c.send(ping(i, clock.now()));
    await waitFor(() => c.stats().rateLimited === 1);
    const rate = c.stats().sendRate;
    expect(rate).toBeLessThan(600 * 0.95);
    clock.advance(2000);
    await waitFor(() => h.ofType('pingResult').length === 3);
    expect(h.ofType('pingResult').map((m) => m.data.sequenceNumber)).toEqual([0, 2, 1]);
  });

  it('INVALID_DATA from the hub: counted and logged, not resent (the same bytes would be refused again)', async () => {
    const clock = new FakeClock();
    const { hub: h, url } = await hub({
      refuse: (m) => (m.type === 'pingResult' && m.data.sequenceNumber === 1 ? 'INVALID_DATA' : undefined),
    });
    const c = connection(url, clock);
    c.start();
    await waitFor(() => c.state === 'open');
    for (let i = 0; i < 3; i++) c.send(ping(i, clock.now()));
    await waitFor(() => c.stats().rejectedByHub === 1 && h.ofType('pingResult').length === 2);
    clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.ofType('pingResult').map((m) => m.data.sequenceNumber)).toEqual([0, 2]);
    expect(c.stats().outbox.size).toBe(0);
    expect(c.stats().resent).toBe(0);
  });

  it('refuses to send a message that does not validate, and says where it is wrong', async () => {
    const clock = new FakeClock();
    const { hub: h, url } = await hub();
    const c = connection(url, clock);
    const bad = ping(1, clock.now());
    (bad.data as { rtt?: number }).rtt = -5;
    const result = c.send(bad);
    expect(result).toMatchObject({ ok: false, path: 'data.rtt' });
    c.start();
    await waitFor(() => c.state === 'open');
    c.send(ping(2, clock.now()));
    await waitFor(() => h.ofType('pingResult').length === 1);
    expect(h.invalid).toEqual([]);
    expect(c.stats().invalidOutgoing).toBe(1);
  });
});
