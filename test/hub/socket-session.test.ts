import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIngestMessage, type Message, parseFrame } from '../../src/protocol/index.js';
import {
  AGENT,
  AGENT_TOKEN,
  Client,
  EXAMPLES,
  example as exampleOf,
  OTHER_AGENT,
  RecordingSink,
  startHub,
  type TestHub,
  VIEWER_TOKEN,
} from './helpers.js';

// Property-based fuzz: thousands of random and mutated frames through a real socket. After each batch the hub must
// have answered every bad frame (in order, with the code and path our parser gives), accepted every good one (sink
// and viewer), and still serve.

/** `textBytes`: raw bytes sent as a text frame, valid UTF-8 or not. */
type Frame = { text: string } | { binary: Uint8Array } | { textBytes: Uint8Array };
type Expected = { ok: true; message: Message } | { ok: false; code: string; path: string };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** What the hub must do with a frame: the oracle is the protocol parser plus the token's agent binding. */
function expectation(frame: Frame): Expected {
  let text: string;
  if ('binary' in frame || 'textBytes' in frame) {
    try {
      text = strictUtf8.decode('binary' in frame ? frame.binary : frame.textBytes);
    } catch {
      return { ok: false, code: 'INVALID_DATA', path: '' };
    }
  } else {
    text = Buffer.from(frame.text, 'utf8').toString('utf8'); // what arrives after ws encodes lone surrogates
  }
  const r = parseFrame(text);
  if (!r.ok) return { ok: false, code: r.error.code, path: r.error.path ?? '' };
  if (r.message.agentId !== AGENT) return { ok: false, code: 'AUTH_FAILED', path: 'agentId' };
  return { ok: true, message: r.message };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path in a value: ['data'], ['data','measurements',0,'rtt'], … */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [
    prefix,
    ...keys.flatMap((k) => paths((value as Record<string | number, Json>)[k] as Json, [...prefix, k])),
  ];
}

const interesting: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    -200,
    1e308,
    -1e308,
    '',
    'x'.repeat(5000),
    '2025-13-45T99:99:99Z',
    '2025-06-16T18:45:00+02:00',
    '999.1.1.1',
    'fe80::1',
    'aa:bb:cc:dd:ee',
    [],
    {},
    OTHER_AGENT,
  ),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

function mutate(base: Json, path: (string | number)[], op: 'set' | 'delete' | 'add', value: Json): Json {
  const copy = structuredClone(base);
  if (path.length === 0) return op === 'set' ? value : copy;
  let parent = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (op === 'set') parent[last] = value;
  else if (op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    const target = parent[last];
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
      (target as Record<string, Json>).unexpectedKey = value;
    } else parent[last] = value;
  }
  return copy;
}

const example = fc.constantFrom(...(EXAMPLES as unknown as Json[]));
const mutated = example.chain((e) =>
  fc
    .tuple(
      fc.constantFrom(...paths(e)),
      fc.constantFrom('set', 'delete', 'add') as fc.Arbitrary<'set' | 'delete' | 'add'>,
      interesting,
    )
    .map(([path, op, value]) => JSON.stringify(mutate(e, path, op, value))),
);

const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 4, arbitrary: mutated.map((text) => ({ text })) },
  { weight: 2, arbitrary: example.map((e) => ({ text: JSON.stringify(e) })) }, // valid ones
  {
    weight: 1,
    arbitrary: example
      .map((e) => JSON.stringify(e))
      .chain((t) => fc.nat({ max: t.length }).map((n) => ({ text: t.slice(0, n) }))),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((binary) => ({ binary })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((textBytes) => ({ textBytes })) },
  { weight: 1, arbitrary: example.map((e) => ({ binary: new Uint8Array(Buffer.from(JSON.stringify(e))) })) },
);

describe('hub under fuzzed frames', () => {
  let h: TestHub;
  let agent: Client;
  let viewer: Client;
  beforeAll(async () => {
    h = await startHub({ rateLimit: { messagesPerMinute: 1e9 } });
    agent = await Client.connect(h.url, AGENT_TOKEN);
    viewer = await Client.connect(h.url, VIEWER_TOKEN);
  });
  afterAll(async () => {
    await agent.close();
    await viewer.close();
    await h.close();
  });

  it('answers every bad frame in order with its code and path, accepts every good one, and keeps serving', async () => {
    let totalFrames = 0;
    let totalBad = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 150, maxLength: 400 }), async (frames) => {
        const expected = frames.map(expectation);
        const bad = expected.filter((e): e is Extract<Expected, { ok: false }> => !e.ok);
        const good = expected.filter((e): e is Extract<Expected, { ok: true }> => e.ok).map((e) => e.message);
        const errorsBefore = agent.received.length;
        const viewerBefore = viewer.received.length;
        const sinkBefore = h.sink.records.length;
        for (const f of frames) {
          if ('binary' in f) agent.socket.send(f.binary, { binary: true });
          else if ('textBytes' in f) agent.socket.send(f.textBytes, { binary: false });
          else agent.socket.send(f.text);
        }
        agent.socket.send('end of batch'); // one more bad frame: its reply marks the end
        const replies = (await agent.waitFor(errorsBefore + bad.length + 1, undefined, 20_000)).slice(
          errorsBefore,
        );
        expect(replies.length).toBe(bad.length + 1);
        expect(
          replies
            .slice(0, -1)
            .map((r) => (r.type === 'error' ? [r.data.errorCode, r.data.context?.path] : r.type)),
        ).toEqual(bad.map((b) => [b.code, b.path]));
        for (const r of replies) expect(parseFrame(JSON.stringify(r)).ok).toBe(true);
        expect(h.sink.records.slice(sinkBefore).map((r) => r.message)).toEqual(good.filter(isIngestMessage));
        const fanned = (await viewer.waitFor(viewerBefore + good.length, undefined, 20_000)).slice(
          viewerBefore,
        );
        expect(fanned).toEqual(good);
        totalFrames += frames.length;
        totalBad += bad.length;
      }),
      { numRuns: 20, seed: 20250616 },
    );
    console.log(`fuzz: ${totalFrames} frames, ${totalBad} bad`);
    expect(totalFrames).toBeGreaterThan(3000);
    expect(totalBad).toBeGreaterThan(totalFrames / 3);
    expect(totalBad).toBeLessThan(totalFrames);

    // Still serving: a new connection works, the old ones are open, /health answers.
    expect(agent.closeCode).toBeUndefined();
    const fresh = await Client.connect(h.url, AGENT_TOKEN);
    expect((await fresh.request('{}')).type).toBe('error');
    await fresh.close();
    expect((await h.hub.app.inject({ url: '/health' })).statusCode).toBe(200);
  });
});

describe('reading under load', () => {
  it('hands the hub at most a bounded number of one socket’s frames per event-loop turn, in order', async () => {
    const turns: number[] = [];
    let turn = 0;
    let ticking = true;
    const tick = () => {
      turn += 1;
      if (ticking) setImmediate(tick);
    };
    const sink = new (class extends RecordingSink {
      override offer(record: Parameters<RecordingSink['offer']>[0]) {
        turns.push(turn);
        return super.offer(record);
      }
    })();
    const h = await startHub({ rateLimit: { messagesPerMinute: 1e9, burst: 1e9 } }, { sink });
    const agent = await Client.connect(h.url, AGENT_TOKEN);
    try {
      const n = 4000;
      const frames = Array.from({ length: n }, (_, i) => {
        const m = exampleOf('pingResult');
        m.data.sequenceNumber = i;
        return JSON.stringify(m);
      });
      // Everything in the kernel's buffers before the hub reads: one corked write, then the loop held still.
      const raw = (agent.socket as unknown as { _socket: import('node:net').Socket })._socket;
      raw.cork();
      for (const f of frames) agent.socket.send(f);
      raw.uncork();
      const until = Date.now() + 200;
      while (Date.now() < until) {
        // busy: the kernel moves the bytes to the hub's side meanwhile
      }
      setImmediate(tick);
      await waitUntil(() => sink.records.length === n);
      const perTurn = new Map<number, number>();
      for (const t of turns) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
      // 256 frames, plus what ws had already read of the socket when it paused (one 64 KB read: ~200 of these).
      expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(600);
      expect(sink.records.map((r) => (r.message.data as { sequenceNumber: number }).sequenceNumber)).toEqual(
        frames.map((_, i) => i),
      );
    } finally {
      ticking = false;
      agent.socket.terminate();
      await h.close();
    }
  });
});

async function waitUntil(ready: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
