import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Agent, packageVersion, startAgent } from '../../src/agent/agent.js';
import { formatResult, type ResultMessage } from '../../src/agent/format-result.js';
import { makeMessage, parseMessage } from '../../src/protocol/index.js';
import { FakeClock } from './helpers/fake-clock.js';
import { MiniHub, waitFor } from './helpers/mini-hub.js';
import { ManualSource } from './helpers/test-source.js';

const AGENT = 'agent_core_01';
const TOKEN = 'core-token-01';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(extra: Partial<Parameters<typeof startAgent>[0]> = {}) {
  const hub = new MiniHub({ agents: { [AGENT]: TOKEN } });
  const url = await hub.listen();
  cleanups.push(() => hub.close());
  const clock = new FakeClock();
  const source = new ManualSource();
  const agent = startAgent({
    hubUrl: url,
    agentId: AGENT,
    token: TOKEN,
    source,
    clock,
    logger: pino({ level: 'silent' }),
    maxMessagesPerMinute: 0,
    ...extra,
  });
  cleanups.push(() => agent.stop({ flushMs: 0 }));
  await waitFor(() => agent.state === 'open' && hub.received.length >= 2, 5000, 'registration');
  return { hub, clock, source, agent };
}

describe('Agent', () => {
  it('registers with real system facts, then heartbeats every 30 s with buffer counts', async () => {
    const { hub, clock } = await setup();
    const [register, firstBeat] = hub.received;
    expect(register?.type).toBe('agent_register');
    if (register?.type !== 'agent_register') throw new Error('no register');
    expect(register.data.version).toBe(packageVersion());
    expect(register.data.networkInterface).toBe('127.0.0.1');
    expect(register.data.systemInfo.nodeVersion).toBe(process.versions.node);
    expect(register.data.systemInfo.cpus).toBeGreaterThan(0);
    expect(register.data.capabilities).toEqual(['ping_probe']);
    expect(firstBeat).toMatchObject({
      type: 'agent_heartbeat',
      data: { status: 'active', bufferedMessages: 0, droppedMessages: 0 },
    });
    clock.advance(30_000);
    await waitFor(() => hub.ofType('agent_heartbeat').length === 2);
    const beat = hub.ofType('agent_heartbeat')[1]!.data;
    expect(beat.uptime).toBe(30);
    expect(beat.cpuUsage).toBeGreaterThanOrEqual(0);
    expect(beat.cpuUsage).toBeLessThanOrEqual(100);
    expect(beat.memoryUsage).toBeGreaterThan(0);
  });

  it('reports its own health and a clean integrity report; both validate', async () => {
    const { hub, clock, source, agent } = await setup({
      healthIntervalMs: 60_000,
      integrityIntervalMs: 60_000,
    });
    await waitFor(() => agent.stats().connection.hubRttMs !== undefined, 5000, 'a pong');
    source.emit(5);
    clock.advance(60_000);
    await waitFor(
      () => hub.ofType('systemHealth').length === 1 && hub.ofType('dataIntegrityReport').length === 1,
    );
    const health = hub.ofType('systemHealth')[0]!.data;
    // This machine is shared: high CPU or memory elsewhere may degrade it, but then a warning must say why.
    expect(health.errors).toEqual([]);
    if (health.status !== 'healthy') {
      expect(health.status).toBe('degraded');
      expect(health.warnings.length).toBeGreaterThan(0);
      for (const w of health.warnings) expect(w).toMatch(/CPU|memory|core/);
    }
    expect(health.services).toMatchObject({
      hubConnection: 'running',
      pingProber: 'running',
      dataIntegrity: 'running',
    });
    expect(health.metrics.diskUsage).toBeGreaterThan(0);
    expect(health.metrics.networkLatency).toBeGreaterThanOrEqual(0);
    const integrity = hub.ofType('dataIntegrityReport')[0]!.data;
    expect(integrity).toMatchObject({
      status: 'clean',
      suspiciousItems: 0,
      violationsFound: [],
      authenticDataSources: ['test'],
    });
    // register + heartbeat + 5 probes + the heartbeat at 30 s + health, at least.
    expect(integrity.scannedItems).toBeGreaterThanOrEqual(7);
    for (const m of hub.received) expect(parseMessage(m).ok).toBe(true);
    expect(hub.invalid).toEqual([]);
  });

  it('turns an invalid message of its own into a local error and an integrity violation, never a hub rejection', async () => {
    const { hub, clock, agent, source } = await setup({ integrityIntervalMs: 60_000 });
    const local: string[] = [];
    agent.on('invalid_outgoing', ({ path }) => local.push(path));
    source.emit(2);
    const ok = source.ctx!.emit({
      type: 'pingResult',
      data: {
        targetIp: '127.0.0.1',
        targetType: 'device',
        rtt: -1,
        sequenceNumber: source.ctx!.nextSequence(),
        success: true,
      },
    });
    expect(ok).toBe(false);
    source.emit(2);
    expect(local).toEqual(['data.rtt']);
    clock.advance(60_000);
    await waitFor(() => hub.ofType('dataIntegrityReport').length === 1);
    const report = hub.ofType('dataIntegrityReport')[0]!.data;
    expect(report.status).toBe('violations');
    expect(report.violationsFound).toEqual([expect.objectContaining({ kind: 'schema_violation' })]);
    // The sequence gap left by the refused probe is accounted for: no sequence_gap violation.
    expect(report.violationsFound.some((v) => typeof v === 'object' && v.kind === 'sequence_gap')).toBe(
      false,
    );
    expect(hub.ofType('pingResult')).toHaveLength(4);
    expect(hub.invalid).toEqual([]);
  });

  it('heartbeats report what the buffer dropped during an outage', async () => {
    const { hub, source, agent } = await setup({ bufferCapacity: 10 });
    hub.dropAll();
    await waitFor(() => agent.state === 'waiting');
    const seqs = source.emit(25);
    expect(agent.stats().connection.outbox).toMatchObject({ size: 10, dropped: 15 });
    // The retry (1 s on the fake clock) reconnects; the greeting heartbeat tells the hub about the loss.
    (agent as unknown as { connection: { reconnectNow(): void } }).connection.reconnectNow();
    await waitFor(() => hub.ofType('pingResult').length === 10);
    const beats = hub.ofType('agent_heartbeat');
    expect(beats.at(-1)!.data).toMatchObject({ droppedMessages: 15, bufferedMessages: 10 });
    expect(hub.ofType('pingResult').map((m) => m.data.sequenceNumber)).toEqual(seqs.slice(15));
  });

  it('shows results from the hub as events and readable lines', async () => {
    const { hub, agent } = await setup();
    const results: ResultMessage[] = [];
    agent.on('result', (m) => results.push(m));
    const samples = [
      makeMessage('deviceUpdate', AGENT, {
        deviceId: 'aa:bb:cc:dd:ee:ff',
        rssi: -48,
        location: { x: 15.2, y: 8.7, confidence: 0.85, uncertainty: 1.4, room: 'living' },
      }),
      makeMessage('mlScoreUpdate', AGENT, {
        deviceId: 'aa:bb:cc:dd:ee:ff',
        scores: { anomalyScore: 0.12, trustScore: 0.89 },
      }),
      makeMessage('anomalyDetected', AGENT, {
        anomalyId: 'an1',
        deviceId: 'aa:bb:cc:dd:ee:ff',
        anomalyType: 'signal_drop',
        severity: 'medium',
        confidence: 0.87,
        mlModel: 'isolation_forest',
        features: { rssi_variance: 15.2 },
        recommendedAction: 'investigate_interference',
      }),
      makeMessage('trustAlert', AGENT, {
        alertId: 'al1',
        deviceId: 'unknown:device',
        severity: 'high',
        alertType: 'port_scan',
        description: 'scanning',
        evidence: { portScans: 15 },
        recommendedAction: 'block_device',
        autoBlocked: false,
      }),
      makeMessage('trustUpdate', AGENT, {
        deviceId: 'aa:bb:cc:dd:ee:ff',
        previousTrust: 'unknown',
        newTrust: 'trusted',
        reason: 'user_approved',
        confidence: 0.98,
        behaviorScore: 85.2,
      }),
    ] as const;
    for (const m of samples) hub.broadcast(m);
    await waitFor(() => results.length === 5);
    const lines = results.map(formatResult);
    expect(lines).toEqual([
      'device aa:bb:cc:dd:ee:ff | at (15.2, 8.7) m ±1.4 m in living conf 0.85 | rssi -48 dBm',
      'scores aa:bb:cc:dd:ee:ff: anomaly 0.12 trust 0.89',
      'ANOMALY [medium] signal_drop on aa:bb:cc:dd:ee:ff (confidence 0.87, isolation_forest): rssi_variance=15.2 → investigate_interference',
      'TRUST ALERT [high] port_scan on unknown:device: scanning → block_device',
      'trust aa:bb:cc:dd:ee:ff: unknown → trusted (user_approved, behaviour 85.2/100)',
    ]);
    expect(agent.stats().results).toBe(5);
  });

  it('stops cleanly: the source stops, a shutting_down heartbeat goes out, done resolves', async () => {
    const { hub, agent, source } = await setup();
    const a: Agent = agent;
    await a.stop({ flushMs: 1000 });
    expect(await a.done).toEqual({ reason: 'stopped' });
    expect(source.stopped).toBe(true);
    await waitFor(() => hub.ofType('agent_heartbeat').some((h) => h.data.status === 'shutting_down'));
  });

  it('ends with auth_failed when the token is wrong', async () => {
    const hub = new MiniHub({ agents: { [AGENT]: TOKEN } });
    const url = await hub.listen();
    cleanups.push(() => hub.close());
    const source = new ManualSource();
    const agent = startAgent({
      hubUrl: url,
      agentId: AGENT,
      token: 'nope',
      source,
      logger: pino({ level: 'silent' }),
    });
    const exit = await agent.done;
    expect(exit.reason).toBe('auth_failed');
    expect(source.stopped).toBe(true);
  });

  it('ends with source_failed when the probe source cannot start', async () => {
    const hub = new MiniHub({ agents: { [AGENT]: TOKEN } });
    const url = await hub.listen();
    cleanups.push(() => hub.close());
    const source = new ManualSource();
    source.start = async () => {
      throw new Error('no such interface: wlan9');
    };
    const agent = startAgent({
      hubUrl: url,
      agentId: AGENT,
      token: TOKEN,
      source,
      logger: pino({ level: 'silent' }),
    });
    expect(await agent.done).toEqual({ reason: 'source_failed', message: 'no such interface: wlan9' });
  });
});
