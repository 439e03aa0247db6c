import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startAgent } from '../../src/agent/agent.js';
import { type Message, parseMessage } from '../../src/protocol/index.js';
import { freePort, type HubProcess, startHubProcess } from './helpers/hub-process.js';
import { waitFor } from './helpers/mini-hub.js';
import { ManualSource } from './helpers/test-source.js';

// The real hub (`node bin/sbp.js hub`, embedded pipeline) is SIGKILLed in the middle of a probe stream and started
// again on the same port. Loopback only.

const AGENT = 'agent_restart_01';
const TOKEN = 'restart-agent-token';
const VIEWER = 'restart-viewer-token';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function lab() {
  const dir = mkdtempSync(join(tmpdir(), 'sbp-agent-restart-'));
  const tokens = join(dir, 'tokens.json');
  writeFileSync(tokens, JSON.stringify({ agents: { [AGENT]: TOKEN }, viewers: [VIEWER] }));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, tokens };
}

async function hub(port: number, dir: string, tokens: string, capture: string): Promise<HubProcess> {
  const h = await startHubProcess([
    '--port',
    String(port),
    '--tokens',
    tokens,
    '--rate-limit',
    '1000000',
    '--data-dir',
    join(dir, 'data'),
    '--capture',
    capture,
    '--log-level',
    'warn',
  ]);
  cleanups.push(async () => {
    if (h.proc.exitCode === null && h.proc.signalCode === null) {
      h.proc.kill('SIGKILL');
      await h.exited;
    }
  });
  return h;
}

/** A viewer sees every message the hub accepts, the moment it accepts it. */
function viewer(url: string): { seqs: number[]; ready: Promise<void>; close(): void } {
  const seqs: number[] = [];
  const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${VIEWER}` } });
  ws.on('error', () => {});
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as Message;
    if (m.type === 'pingResult' && m.agentId === AGENT) seqs.push(m.data.sequenceNumber);
  });
  return {
    seqs,
    ready: new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    close: () => ws.terminate(),
  };
}

function captured(file: string): Message[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Message);
}

describe('agent across a hub crash (SIGKILL) and restart on the same port', () => {
  it('delivers every probe, in order, when the outage stays below the buffer bound', {
    timeout: 90_000,
  }, async () => {
    const { dir, tokens } = lab();
    const port = await freePort();
    const hub1 = await hub(port, dir, tokens, join(dir, 'capture-1.jsonl'));
    const v1 = viewer(hub1.url);
    await v1.ready;
    cleanups.push(() => v1.close());

    const source = new ManualSource();
    const agent = startAgent({
      hubUrl: hub1.url,
      agentId: AGENT,
      token: TOKEN,
      source,
      logger: pino({ level: 'silent' }),
      maxMessagesPerMinute: 0,
    });
    cleanups.push(() => agent.stop({ flushMs: 0 }));
    await waitFor(() => agent.state === 'open', 10_000, 'agent connected');

    // A steady stream of ~100 probes/s. During the outage it stops after 400 probes, so the test stays below the
    // 1000-message bound however long the hub takes to start on a loaded machine.
    const produced: number[] = [];
    let outageLimit = Number.POSITIVE_INFINITY;
    const stream = setInterval(() => {
      if (produced.length < outageLimit || agent.state === 'open') produced.push(...source.emit(1));
    }, 10);
    cleanups.push(() => clearInterval(stream));

    await waitFor(() => v1.seqs.length >= 200, 20_000, '200 probes through the first hub');
    hub1.proc.kill('SIGKILL');
    expect(await hub1.exited).toBe('SIGKILL');
    const killedAt = produced.length;
    outageLimit = killedAt + 400;
    await waitFor(() => agent.state !== 'open', 5000, 'the agent to notice');

    // Restart on the same port after ~1.5 s; the agent is in its backoff meanwhile.
    await new Promise((r) => setTimeout(r, 1500));
    const hub2 = await hub(port, dir, tokens, join(dir, 'capture-2.jsonl'));
    await waitFor(() => agent.state === 'open', 30_000, 'the agent to reconnect');
    const outageProbes = Math.min(produced.length, outageLimit) - killedAt;
    expect(outageProbes).toBeGreaterThan(100);
    await waitFor(
      () => produced.length >= killedAt + outageProbes + 100,
      10_000,
      'more probes after the restart',
    );
    clearInterval(stream);
    await waitFor(
      () => agent.stats().connection.outbox.size === 0 && agent.stats().connection.unconfirmed === 0,
      20_000,
      'drain',
    );

    // A clean stop of the second hub writes its whole capture.
    hub2.proc.kill('SIGTERM');
    await hub2.exited;
    const after = captured(join(dir, 'capture-2.jsonl'));
    for (const m of after) expect(parseMessage(m).ok).toBe(true);
    expect(after[0]?.type).toBe('agent_register');
    const seqs2 = after.flatMap((m) => (m.type === 'pingResult' ? [m.data.sequenceNumber] : []));

    const stats = agent.stats().connection;
    expect(stats.outbox.dropped).toBe(0);
    expect(stats.outbox.highWater).toBeGreaterThan(50);
    expect(stats.outbox.highWater).toBeLessThan(1000);
    // In order after the restart: strictly increasing.
    for (let i = 1; i < seqs2.length; i++) expect(seqs2[i]!).toBeGreaterThan(seqs2[i - 1]!);
    // None lost: everything produced reached one hub or the other.
    const seen = new Set([...v1.seqs, ...seqs2]);
    const missing = produced.filter((s) => !seen.has(s));
    expect(missing).toEqual([]);
    // Duplicates only for what was in flight at the kill, and the agent counted them as resends.
    const dup = v1.seqs.filter((s) => seqs2.includes(s));
    expect(dup.length).toBeLessThanOrEqual(stats.resent);
    expect(stats.resent).toBeLessThan(300);
    console.log(
      `hub restart: ${produced.length} probes, ${outageProbes} produced during the outage, buffer high water ${stats.outbox.highWater}, ${stats.resent} resent, ${dup.length} duplicates at the hub, 0 lost`,
    );
  });

  it('beyond the bound drops exactly the oldest, and the next heartbeat reports it', {
    timeout: 90_000,
  }, async () => {
    const { dir, tokens } = lab();
    const port = await freePort();
    const hub1 = await hub(port, dir, tokens, join(dir, 'capture-1.jsonl'));
    const source = new ManualSource();
    const agent = startAgent({
      hubUrl: hub1.url,
      agentId: AGENT,
      token: TOKEN,
      source,
      logger: pino({ level: 'silent' }),
      maxMessagesPerMinute: 0,
      bufferCapacity: 200,
    });
    cleanups.push(() => agent.stop({ flushMs: 0 }));
    await waitFor(() => agent.state === 'open', 10_000, 'agent connected');
    source.emit(50);
    await waitFor(() => agent.stats().connection.confirmed >= 52, 10_000, 'first probes confirmed');
    hub1.proc.kill('SIGKILL');
    await hub1.exited;
    await waitFor(() => agent.state !== 'open', 5000, 'the agent to notice');
    const during = source.emit(500);
    expect(agent.stats().connection.outbox).toMatchObject({ size: 200, dropped: 300 });

    const hub2 = await hub(port, dir, tokens, join(dir, 'capture-2.jsonl'));
    await waitFor(() => agent.state === 'open', 30_000, 'the agent to reconnect');
    await waitFor(
      () => agent.stats().connection.outbox.size === 0 && agent.stats().connection.unconfirmed === 0,
      20_000,
      'drain',
    );
    hub2.proc.kill('SIGTERM');
    await hub2.exited;
    const after = captured(join(dir, 'capture-2.jsonl'));
    const seqs2 = after.flatMap((m) => (m.type === 'pingResult' ? [m.data.sequenceNumber] : []));
    expect(seqs2).toEqual(during.slice(300));
    const beat = after.find((m) => m.type === 'agent_heartbeat');
    expect(beat?.type === 'agent_heartbeat' && beat.data).toMatchObject({
      droppedMessages: 300,
      bufferedMessages: 200,
    });
  });
});
