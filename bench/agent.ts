// The agent's send path on loopback: validate every message, serialise, queue, write with ping barriers — against
// raw `ws` sending the same messages already serialised, measured in the same run.
// Run alone: `node bin/run-ts.js bench/agent.ts [--quick]`, or `npm run bench -- agent`.

import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import { systemClock } from '../src/agent/clock.js';
import { AgentConnection } from '../src/agent/connection.js';
import { type Message, makeMessage, parseMessage } from '../src/protocol/index.js';
import { markdownTable } from './markdown-table.js';
import type { BenchOptions, BenchResult } from './types.js';

const AGENT = 'bench_agent_01';

function probes(n: number): Message[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) =>
    makeMessage(
      'pingResult',
      AGENT,
      {
        targetIp: `198.51.100.${(i % 5) + 1}`,
        targetType: 'anchor',
        rtt: 1.5 + (i % 7) * 0.1,
        sequenceNumber: i,
        success: true,
        deviceId: '02:00:00:00:00:01',
        rssi: -60 - (i % 20),
      },
      new Date(now + i),
    ),
  );
}

async function server(): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  await new Promise<void>((r) => wss.once('listening', r));
  let received = 0;
  wss.on('connection', (ws) => {
    ws.on('message', () => {
      received++;
    });
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    count: () => received,
    close: () =>
      new Promise((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setImmediate(r));
}

async function raw(messages: Message[]): Promise<number> {
  const s = await server();
  const ws = new WebSocket(s.url, { perMessageDeflate: false });
  await new Promise<void>((r) => ws.once('open', () => r()));
  const started = performance.now();
  for (const m of messages) ws.send(JSON.stringify(m));
  await until(() => s.count() >= messages.length);
  const seconds = (performance.now() - started) / 1000;
  ws.terminate();
  await s.close();
  return messages.length / seconds;
}

async function agent(messages: Message[]): Promise<{ rate: number; confirmedAll: boolean }> {
  const s = await server();
  const c = new AgentConnection({
    url: s.url,
    agentId: AGENT,
    token: 'bench',
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    maxMessagesPerMinute: 0,
    bufferCapacity: messages.length + 10,
    greeting: () => [],
  });
  c.start();
  await until(() => c.isOpen);
  const started = performance.now();
  for (const m of messages) c.send(m);
  await until(() => s.count() >= messages.length);
  const seconds = (performance.now() - started) / 1000;
  await until(() => c.pending === 0);
  const confirmedAll = c.stats().confirmed === messages.length;
  await c.stop();
  await s.close();
  return { rate: messages.length / seconds, confirmedAll };
}

function validationOnly(messages: Message[]): number {
  const started = performance.now();
  for (const m of messages) if (!parseMessage(m).ok) throw new Error('invalid bench message');
  return messages.length / ((performance.now() - started) / 1000);
}

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const n = opts.quick ? 5_000 : 50_000;
  const messages = probes(n);
  // Warm-up of the JIT and of zod's compiled schemas.
  await raw(probes(1000));
  await agent(probes(1000));
  const rawRate = await raw(messages);
  const agentRun = await agent(messages);
  const validate = validationOnly(messages);
  const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
  return {
    title: `Agent send path on loopback (${fmt(n)} pingResults)`,
    table: markdownTable(
      ['path', 'messages/s', 'vs raw ws'],
      [
        ['raw ws: JSON.stringify + send (baseline)', fmt(rawRate), '1.00'],
        [
          'agent: validate + queue + send + ping barrier',
          fmt(agentRun.rate),
          (agentRun.rate / rawRate).toFixed(2),
        ],
        ['zod validation alone (parseMessage)', fmt(validate), (validate / rawRate).toFixed(2)],
      ],
    ),
    notes: [
      `every message confirmed by a pong: ${agentRun.confirmedAll}`,
      'The spec limits an agent to 100 messages per minute; this measures the headroom of the send path, not a rate the hub accepts by default.',
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run({ quick: process.argv.includes('--quick') });
  console.log(`\n### ${result.title}\n\n${result.table}\n`);
  for (const note of result.notes ?? []) console.log(`- ${note}`);
}
