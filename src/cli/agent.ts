import { readFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { type Logger, pino } from 'pino';
import { type Agent, startAgent } from '../agent/agent.js';
import { SPEC_BACKOFF } from '../agent/backoff.js';
import { Coverage } from '../agent/calibration/coverage.js';
import { parsePointLine, parsePointsFile, type WalkPoint } from '../agent/calibration/points.js';
import { ScanCalibrationSampler } from '../agent/calibration/scan-sampler.js';
import { runCalibrationWalk } from '../agent/calibration/walk.js';
import { systemClock } from '../agent/clock.js';
import type { TlsClientOptions } from '../agent/connection.js';
import { formatResult } from '../agent/format-result.js';
import type { CalibrationSampler, ProbeContext, ProbeSource } from '../agent/probe-source.js';
import { createScanSource, type ScanSourceOptions } from '../agent/sources/scan-source.js';
import { loadSite } from '../agent/sources/sim-adapter.js';
import { createSimulatedSource, type SimulatedSourceOptions } from '../agent/sources/simulated-source.js';
import { type Command, parseFlags, UsageError } from './command.js';

const USAGE = `usage: sbp agent --hub URL --agent-id ID --token T [options]
       sbp agent calibrate --agent-id ID --site SITE.json --out WALK.jsonl [--hub URL --token T] [options]

Runs the bundled agent: connects to the hub, registers, sends probes from the simulator (default) or from the real
network (--scan), heartbeats every 30 s, and prints the results the hub sends back. Survives hub outages: backoff
1, 2, 4, 8, 16 s capped at 30 s, 10 attempts (then exit code 3: manual intervention needed), up to --buffer
messages kept while disconnected. A wrong token or agent id exits with code 4.

connection:
  --hub URL                 ws://HOST:PORT/ws or wss://… (required)
  --agent-id ID             this agent's persistent id, as in the hub's token file (required)
  --token T                 the agent's token (or SBP_AGENT_TOKEN, or --token-file FILE)
  --token-file FILE         read the token from FILE (first line)
  --ca FILE                 trust this CA certificate (PEM) for wss://
  --insecure                accept any wss:// certificate (labs only)
  --buffer N                messages kept while disconnected; the oldest are dropped beyond it  (default 1000)
  --max-retries N           reconnection attempts before giving up (exit code 3)               (default 10)
  --send-rate N             messages per minute, at most (the hub's limit; 0 = unpaced)         (default 100)
  --heartbeat-timeout S     reconnect when the hub is silent this long                          (default 90)
  --health-interval S       systemHealth period                                                 (default 60)
  --integrity-interval S    dataIntegrityReport period                                          (default 300)

simulator (the default source):
  --seed N                  reproducible world and behaviour                                    (default 1)
  --devices N               simulated devices                                                   (default 5)
  --rate P                  probes per second                                                   (default 1)
  --site FILE               a site file (anchors named by IP) instead of the demo home
  --anomalies N             injected anomalies of each type per simulated day                   (default 2)
  --baseline-minutes M      no anomaly in the first M minutes                                   (default 10)
  --update-interval S       seconds between a device's behaviour updates                        (default 30)

real network (--scan; sends traffic on your network: see docs/agent.md):
  --scan                    probe the real network instead of the simulator
  --targets IP,IP           addresses to probe every round                                      (default none)
  --gateway auto|none|IP    also probe the default gateway                                      (default auto)
  --interface NAME          interface to probe from and report neighbours of                    (default the default route's)
  --interval S              seconds between probe rounds                                        (default 10)
  --method auto|icmp|tcp    ICMP via the system ping, or TCP connect time                       (default auto)
  --tcp-port N              port for TCP probes                                                 (default 80)
  --timeout-ms N            per-probe timeout                                                   (default 1000)
  --discover-on ADDR        send mDNS and SSDP discovery from this IPv4 address (off without it)
  --discovery-interval S    seconds between discoveries                                         (default 300)
  --leave-after S           deviceLeave for a device unseen this long                           (default 600)
  --no-neighbours           do not read the neighbour table (ARP/NDP)
  --no-wifi                 do not read the WiFi RSSI

output:
  --json                    print results as JSON lines instead of readable lines
  --quiet                   print no results, only connection changes
  --log-level L             fatal|error|warn|info|debug|trace|silent, to stderr                 (default warn)

calibrate (a calibration walk; see docs/agent.md):
  --site FILE               the site (anchors, rooms) (required)
  --out FILE                append pingCalibration messages, one per line (required)
  --samples N               measurements of every anchor per point                              (default 5)
  --points FILE             points to measure (JSON array, or "x y [room]" per line); without it the
                            walk asks in a terminal, or reads points from stdin when it is not a terminal
  --source simulator|scan   where measurements come from                                        (default simulator)
  --hub, --token            also send each message to the hub (optional)

See docs/agent.md.`;

const OPTIONS = {
  hub: { type: 'string' },
  'agent-id': { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  ca: { type: 'string' },
  insecure: { type: 'boolean' },
  buffer: { type: 'string' },
  'max-retries': { type: 'string' },
  'send-rate': { type: 'string' },
  'heartbeat-timeout': { type: 'string' },
  'health-interval': { type: 'string' },
  'integrity-interval': { type: 'string' },
  seed: { type: 'string' },
  devices: { type: 'string' },
  rate: { type: 'string' },
  site: { type: 'string' },
  anomalies: { type: 'string' },
  'baseline-minutes': { type: 'string' },
  'update-interval': { type: 'string' },
  scan: { type: 'boolean' },
  targets: { type: 'string' },
  gateway: { type: 'string' },
  interface: { type: 'string' },
  interval: { type: 'string' },
  method: { type: 'string' },
  'tcp-port': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'discover-on': { type: 'string' },
  'discovery-interval': { type: 'string' },
  'leave-after': { type: 'string' },
  'no-neighbours': { type: 'boolean' },
  'no-wifi': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  'log-level': { type: 'string' },
  out: { type: 'string' },
  samples: { type: 'string' },
  points: { type: 'string' },
  source: { type: 'string' },
} as const;

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

/** Exit codes beyond 0/1/2, so scripts and supervisors can tell why the agent ended. */
export const EXIT_GAVE_UP = 3;
export const EXIT_AUTH_FAILED = 4;

function num(
  values: Values,
  flag: keyof typeof OPTIONS,
  check: { min?: number; max?: number; integer?: boolean } = {},
): number | undefined {
  const raw = values[flag];
  if (raw === undefined || typeof raw === 'boolean') return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${flag} must be a number, got "${raw}"`);
  if (check.integer === true && !Number.isInteger(n))
    throw new UsageError(`--${flag} must be an integer, got ${raw}`);
  if (check.min !== undefined && n < check.min)
    throw new UsageError(`--${flag} must be ≥ ${check.min}, got ${raw}`);
  if (check.max !== undefined && n > check.max)
    throw new UsageError(`--${flag} must be ≤ ${check.max}, got ${raw}`);
  return n;
}

function readJsonFile(flag: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --${flag} ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--${flag} ${file} is not JSON: ${(error as Error).message}`);
  }
}

function tokenFrom(values: Values, required: boolean): string | undefined {
  if (values.token !== undefined) return values.token;
  if (values['token-file'] !== undefined) {
    try {
      const token = readFileSync(values['token-file'], 'utf8').split('\n')[0]?.trim() ?? '';
      if (token === '') throw new UsageError(`--token-file ${values['token-file']} is empty`);
      return token;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`cannot read --token-file: ${(error as Error).message}`);
    }
  }
  const env = process.env.SBP_AGENT_TOKEN;
  if (env !== undefined && env !== '') return env;
  if (required) throw new UsageError('--token T (or --token-file FILE, or SBP_AGENT_TOKEN) is required');
  return undefined;
}

function tlsFrom(values: Values): TlsClientOptions | undefined {
  if (values.insecure === true && values.ca !== undefined)
    throw new UsageError('--ca and --insecure exclude each other');
  if (values.insecure === true) {
    console.error('sbp agent: --insecure: the hub certificate is NOT checked');
    return { rejectUnauthorized: false };
  }
  if (values.ca === undefined) return undefined;
  try {
    return { ca: readFileSync(values.ca) };
  } catch (error) {
    throw new UsageError(`cannot read --ca ${values.ca}: ${(error as Error).message}`);
  }
}

function hubUrl(values: Values, required: boolean): string | undefined {
  const url = values.hub;
  if (url === undefined) {
    if (required) throw new UsageError('--hub URL is required (e.g. ws://127.0.0.1:8080/ws)');
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--hub must be a URL like ws://127.0.0.1:8080/ws, got "${url}"`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new UsageError(`--hub must start with ws:// or wss://, got "${url}"`);
  }
  return url;
}

function agentIdFrom(values: Values): string {
  const id = values['agent-id'];
  if (id === undefined) throw new UsageError('--agent-id ID is required');
  if (!/^[A-Za-z0-9_.:@-]{1,128}$/.test(id)) {
    throw new UsageError(`--agent-id must be 1-128 characters of A-Z a-z 0-9 _ . : @ -, got "${id}"`);
  }
  return id;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
function loggerFrom(values: Values): Logger {
  const level = values['log-level'] ?? 'warn';
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join('|')}`);
  return pino({ level, redact: ['token', '*.token', 'headers.authorization'] }, pino.destination(2));
}

function simulatorOptions(values: Values): SimulatedSourceOptions {
  const o: SimulatedSourceOptions = {};
  const seed = num(values, 'seed', { integer: true, min: 0 });
  if (seed !== undefined) o.seed = seed;
  const devices = num(values, 'devices', { integer: true, min: 1, max: 1000 });
  if (devices !== undefined) o.devices = devices;
  const rate = num(values, 'rate', { min: 0.001, max: 100_000 });
  if (rate !== undefined) o.rate = rate;
  const anomalies = num(values, 'anomalies', { integer: true, min: 0, max: 1000 });
  if (anomalies !== undefined) o.anomaliesPerType = anomalies;
  const baseline = num(values, 'baseline-minutes', { min: 0 });
  if (baseline !== undefined) o.baselineMinutes = baseline;
  const update = num(values, 'update-interval', { min: 1 });
  if (update !== undefined) o.updateIntervalSeconds = update;
  if (values.site !== undefined) o.site = readJsonFile('site', values.site);
  return o;
}

function scanOptions(values: Values): ScanSourceOptions {
  const o: ScanSourceOptions = {};
  if (values.targets !== undefined)
    o.targets = values.targets
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  if (values.gateway !== undefined) o.gateway = values.gateway;
  if (values.interface !== undefined) o.interface = values.interface;
  const interval = num(values, 'interval', { min: 1 });
  if (interval !== undefined) o.intervalMs = interval * 1000;
  if (values.method !== undefined) {
    if (!['auto', 'icmp', 'tcp'].includes(values.method))
      throw new UsageError('--method must be auto, icmp or tcp');
    o.method = values.method as 'auto' | 'icmp' | 'tcp';
  }
  const port = num(values, 'tcp-port', { integer: true, min: 1, max: 65_535 });
  if (port !== undefined) o.tcpPort = port;
  const timeout = num(values, 'timeout-ms', { min: 10, max: 60_000 });
  if (timeout !== undefined) o.timeoutMs = timeout;
  if (values['discover-on'] !== undefined) o.discoverOn = values['discover-on'];
  const di = num(values, 'discovery-interval', { min: 10 });
  if (di !== undefined) o.discoveryIntervalMs = di * 1000;
  const leave = num(values, 'leave-after', { min: 1 });
  if (leave !== undefined) o.leaveAfterMs = leave * 1000;
  if (values['no-neighbours'] === true) o.neighbours = false;
  if (values['no-wifi'] === true) o.wifi = false;
  return o;
}

const SIM_ONLY = ['seed', 'devices', 'rate', 'anomalies', 'baseline-minutes', 'update-interval'] as const;
const SCAN_ONLY = [
  'targets',
  'gateway',
  'interface',
  'interval',
  'method',
  'tcp-port',
  'discover-on',
  'discovery-interval',
  'leave-after',
  'no-neighbours',
  'no-wifi',
] as const;

function parse(argv: string[]): Values {
  return parseFlags(argv, OPTIONS) as Values;
}

function time(): string {
  return new Date().toISOString().slice(11, 19);
}

// ---------------------------------------------------------------------------------------------------------------
// sbp agent

async function runAgent(argv: string[]): Promise<number> {
  const values = parse(argv);
  const url = hubUrl(values, true)!;
  const agentId = agentIdFrom(values);
  const token = tokenFrom(values, true)!;
  const tls = tlsFrom(values);
  const logger = loggerFrom(values);
  for (const flag of values.scan === true ? SIM_ONLY : SCAN_ONLY) {
    if (values[flag] !== undefined) {
      throw new UsageError(`--${flag} is a ${values.scan === true ? 'simulator' : '--scan'} option`);
    }
  }
  if (values.scan === true && values.site !== undefined) throw new UsageError('--site is a simulator option');
  for (const flag of ['out', 'samples', 'points', 'source'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} belongs to \`sbp agent calibrate\``);
  }
  let source: ProbeSource;
  try {
    if (values.scan === true) {
      source = createScanSource(scanOptions(values));
    } else {
      const sim = createSimulatedSource(simulatorOptions(values));
      // Builds the world now, so a bad --site is a usage error before anything connects.
      sim.prepare(Date.now());
      source = sim;
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
  if (values.scan === true) {
    console.error(
      `sbp agent: --scan: probing the real network (targets ${values.targets ?? 'none'}, gateway ${
        values.gateway ?? 'auto'
      }, discovery ${values['discover-on'] ?? 'off'})`,
    );
  }

  const buffer = num(values, 'buffer', { integer: true, min: 1, max: 10_000_000 });
  const maxRetries = num(values, 'max-retries', { integer: true, min: 0, max: 1_000_000 });
  const sendRate = num(values, 'send-rate', { min: 0 });
  const hbTimeout = num(values, 'heartbeat-timeout', { min: 1 });
  const health = num(values, 'health-interval', { min: 1 });
  const integrity = num(values, 'integrity-interval', { min: 1 });
  const agent = startAgent({
    hubUrl: url,
    agentId,
    token,
    source,
    logger,
    ...(tls === undefined ? {} : { tls }),
    ...(buffer === undefined ? {} : { bufferCapacity: buffer }),
    ...(maxRetries === undefined ? {} : { backoff: { ...SPEC_BACKOFF, maxAttempts: maxRetries } }),
    ...(sendRate === undefined ? {} : { maxMessagesPerMinute: sendRate }),
    ...(hbTimeout === undefined ? {} : { heartbeatTimeoutMs: hbTimeout * 1000 }),
    ...(health === undefined ? {} : { healthIntervalMs: health * 1000 }),
    ...(integrity === undefined ? {} : { integrityIntervalMs: integrity * 1000 }),
  });
  console.log(`sbp agent ${agentId}: ${source.name} source → ${url}`);
  printEvents(agent, values);

  const onSignal = (signal: NodeJS.Signals) => {
    console.log(`${time()} ${signal}: stopping (flushing the buffer for up to 2 s)`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    setTimeout(() => process.exit(1), 10_000).unref();
    void agent.stop({ flushMs: 2000 });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const exit = await agent.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  const stats = agent.stats();
  console.log(
    `${time()} sent ${stats.connection.sent} · buffered ${agent.stats().connection.outbox.size} · dropped ${
      stats.connection.outbox.dropped
    } · results ${stats.results}`,
  );
  if (exit.reason === 'gave_up') {
    console.error(
      `sbp agent: could not reach the hub at ${url} after ${exit.attempts} attempts (${exit.lastError}). ` +
        'Manual intervention is needed: check that the hub runs and is reachable, then restart the agent.',
    );
    return EXIT_GAVE_UP;
  }
  if (exit.reason === 'auth_failed') {
    console.error(`sbp agent: ${exit.message}`);
    return EXIT_AUTH_FAILED;
  }
  if (exit.reason === 'source_failed') {
    console.error(`sbp agent: the ${source.name} source failed: ${exit.message}`);
    return 1;
  }
  return 0;
}

function printEvents(agent: Agent, values: Values): void {
  agent.on('connected', ({ connection }) => {
    console.log(`${time()} connected (connection ${connection}), registered`);
  });
  agent.on('disconnected', ({ code, buffered }) => {
    console.log(`${time()} disconnected (code ${code}); buffering (${buffered} waiting)`);
  });
  agent.on('reconnect_scheduled', ({ attempt, delayMs, maxAttempts }) => {
    console.log(`${time()} reconnecting in ${delayMs / 1000} s (attempt ${attempt}/${maxAttempts})`);
  });
  let lastDropLine = 0;
  agent.on('dropped', ({ totalDropped }) => {
    const now = Date.now();
    if (now - lastDropLine > 10_000) {
      lastDropLine = now;
      console.log(`${time()} buffer full: dropping the oldest messages (${totalDropped} dropped so far)`);
    }
  });
  agent.on('hub_error', (e) => {
    if (e.data.errorCode !== 'AUTH_FAILED')
      console.log(`${time()} hub: ${e.data.errorCode} ${e.data.errorMessage}`);
  });
  agent.on('invalid_outgoing', ({ type, path, reason }) => {
    console.error(
      `${time()} agent bug: ${type} did not validate at ${path || 'message'}: ${reason} (not sent)`,
    );
  });
  if (values.quiet === true) return;
  agent.on('result', (m) => {
    console.log(values.json === true ? JSON.stringify(m) : `${time()} ${formatResult(m)}`);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// sbp agent calibrate

async function runCalibrate(argv: string[]): Promise<number> {
  const values = parse(argv);
  const agentId = agentIdFrom(values);
  const url = hubUrl(values, false);
  const token = url === undefined ? undefined : tokenFrom(values, true);
  if (values.site === undefined) throw new UsageError('--site SITE.json is required');
  if (values.out === undefined) throw new UsageError('--out WALK.jsonl is required');
  const samples = num(values, 'samples', { integer: true, min: 1, max: 10_000 }) ?? 5;
  const sourceName = values.source ?? 'simulator';
  if (sourceName !== 'simulator' && sourceName !== 'scan')
    throw new UsageError('--source must be simulator or scan');
  const logger = loggerFrom(values);
  const siteValue = readJsonFile('site', values.site);
  let site: ReturnType<typeof loadSite>;
  try {
    site = loadSite(siteValue);
  } catch (error) {
    throw new UsageError(`--site ${values.site}: ${(error as Error).message}`);
  }

  let sampler: CalibrationSampler;
  let roomAt: (p: { x: number; y: number }) => string | undefined;
  try {
    if (sourceName === 'simulator') {
      const sim = createSimulatedSource({ ...simulatorOptions(values), site: siteValue });
      sim.prepare(Date.now());
      sampler = sim;
      roomAt = (p) => sim.roomAt(p);
    } else {
      const method = values.method === 'tcp' ? 'tcp' : 'icmp';
      const timeout = num(values, 'timeout-ms', { min: 10, max: 60_000 });
      const port = num(values, 'tcp-port', { integer: true, min: 1, max: 65_535 });
      sampler = new ScanCalibrationSampler({
        anchors: site.anchors.map((a) => a.id),
        method,
        ...(timeout === undefined ? {} : { timeoutMs: timeout }),
        ...(port === undefined ? {} : { tcpPort: port }),
      });
      const sim = createSimulatedSource({ site: siteValue });
      sim.prepare(0);
      roomAt = (p) => sim.roomAt(p);
      console.error(
        `sbp agent calibrate: --source scan: probing the site's anchors (${sampler.anchors().join(', ')})`,
      );
    }
  } catch (error) {
    throw new UsageError((error as Error).message);
  }

  let points: AsyncIterable<WalkPoint> | Iterable<WalkPoint>;
  const interactive = values.points === undefined && process.stdin.isTTY === true;
  if (values.points !== undefined) {
    let text: string;
    try {
      text = readFileSync(values.points, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --points ${values.points}: ${(error as Error).message}`);
    }
    try {
      points = parsePointsFile(text);
    } catch (error) {
      throw new UsageError(`--points ${values.points}: ${(error as Error).message}`);
    }
  } else {
    points = interactive ? promptPoints() : stdinPoints();
  }

  let agent: Agent | undefined;
  if (url !== undefined && token !== undefined) {
    const tls = tlsFrom(values);
    agent = startAgent({
      hubUrl: url,
      agentId,
      token,
      source: idleSource(sourceName),
      logger,
      ...(tls === undefined ? {} : { tls }),
    });
    agent.on('connected', () => console.error(`${time()} connected to ${url}`));
    agent.on('reconnect_scheduled', ({ attempt, delayMs }) =>
      console.error(
        `${time()} hub unreachable; retry ${attempt} in ${delayMs / 1000} s (messages are buffered)`,
      ),
    );
  }

  await mkdir(dirname(values.out), { recursive: true });
  const out = values.out;
  const coverage = new Coverage(site, roomAt);
  if (interactive) {
    console.log(
      `Calibration walk on ${site.name ?? values.site}: ${site.anchors.length} anchors, ${site.rooms.length} rooms.`,
    );
    console.log(
      'At each prompt, stand at a point and type its position: x y [room]  (metres; empty line to finish)',
    );
    console.log(coverage.map());
  }
  const summary = await runCalibrationWalk({
    agentId,
    sampler,
    coverage,
    samples,
    points,
    clock: systemClock,
    writeLine: (line) => appendFile(out, `${line}\n`, 'utf8'),
    ...(agent === undefined ? {} : { send: (d) => agent!.emitDraft(d) }),
    onSample: (done, of) => {
      if (interactive) process.stdout.write(`\r  measuring… ${done}/${of}`);
    },
    onPoint: (p) => {
      if (interactive) process.stdout.write('\n');
      const where = `(${p.point.x}, ${p.point.y})${p.room === undefined ? '' : ` ${p.room}`}`;
      const heard = `${p.anchorsHeard}/${p.anchorsTotal} anchors heard`;
      const empty = p.emptySamples > 0 ? `, ${p.emptySamples} samples heard nothing` : '';
      console.log(`point ${p.index} ${where}: ${p.messages} messages, ${heard}${empty}`);
      console.log(`  coverage: ${coverage.line()}`);
      if (interactive) console.log(coverage.map(p.point));
    },
  });
  console.log(`walk done: ${summary.points} points, ${summary.messages} messages appended to ${out}`);
  if (!interactive) console.log(coverage.map());
  await sampler.close();
  if (agent !== undefined) {
    const pending = agent.stats().connection.outbox.size + agent.stats().connection.unconfirmed;
    if (pending > 0)
      console.log(`waiting for ${pending} messages to reach the hub (paced at its rate limit)…`);
    // Waits through reconnects (the agent gives up after the spec's 10 attempts); every message is in the file anyway.
    const drained = await agent.drain();
    const left = agent.stats().connection.outbox.size + agent.stats().connection.unconfirmed;
    await agent.stop({ flushMs: 1000 });
    if (!drained) {
      console.error(`sbp agent calibrate: ${left} messages did not reach the hub; they are all in ${out}`);
      return 1;
    }
  }
  return 0;
}

/** A source that produces nothing by itself: the calibration walk sends through the agent. */
function idleSource(name: string): ProbeSource {
  return {
    name: `calibration_${name}`,
    capabilities: ['calibration_walk'],
    dataSources: [name === 'scan' ? 'ping_probe' : 'simulator'],
    start: async (_ctx: ProbeContext) => {},
    stop: async () => {},
    health: () => ({
      services: { calibrationWalk: 'running' },
      probes: 0,
      probeFailures: 0,
      recentErrors: [],
    }),
    interfaceAddress: () => undefined,
  };
}

async function* promptPoints(): AsyncGenerator<WalkPoint> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const ask = (q: string) => new Promise<string>((resolve) => rl.question(q, resolve));
  try {
    for (let n = 1; ; n++) {
      const answer = await ask(`point ${n} — x y [room]: `);
      if (answer.trim() === '') return;
      try {
        const p = parsePointLine(answer);
        if (p !== undefined) yield p;
      } catch (error) {
        console.log(`  ${(error as Error).message}; try again`);
        n--;
      }
    }
  } finally {
    rl.close();
  }
}

async function* stdinPoints(): AsyncGenerator<WalkPoint> {
  const rl = createInterface({ input: process.stdin });
  let n = 0;
  for await (const line of rl) {
    n++;
    let p: WalkPoint | undefined;
    try {
      p = parsePointLine(line);
    } catch (error) {
      throw new UsageError(`stdin line ${n}: ${(error as Error).message}`);
    }
    if (p !== undefined) yield p;
  }
}

export const command: Command = {
  name: 'agent',
  summary:
    'run the bundled agent (simulator by default, --scan for real probes); `agent calibrate` for a calibration walk',
  usage: USAGE,
  async run(argv) {
    if (argv[0] === 'calibrate') return runCalibrate(argv.slice(1));
    return runAgent(argv);
  },
};
