import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/protocol/index.js';
import { FastValidator } from '../../src/replay/fast-validate.js';
import { message, number, same, text } from './message-arbitraries.js';

// The fast path must never disagree with zod: whenever it accepts, zod accepts with the very same output (keys, key
// order, values, -0 included). Checked on generated valid messages, on the same messages mutated in every way a
// capture line could be wrong, and on every line of the committed data sets.

/** Values a mutation puts anywhere in a message. */
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  number,
  text,
  fc.constant([]),
  fc.constant({}),
  fc.constant(null),
);

type Json = Record<string, unknown>;

/** Every object (and array) inside `v`, with `v` itself. */
function containers(v: unknown, out: Json[] = []): Json[] {
  if (typeof v === 'object' && v !== null) {
    out.push(v as Json);
    for (const x of Object.values(v)) containers(x, out);
  }
  return out;
}

const mutation = fc.record({
  target: fc.nat(),
  key: fc.nat(),
  op: fc.constantFrom('set', 'delete', 'add', 'rename'),
  value: anyValue,
  newKey: fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'extra', 'type', 'data'),
    fc.string({ maxLength: 6 }),
  ),
});

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(m: unknown, mutations: ReadonlyArray<Mutation>): unknown {
  const copy = structuredClone(m);
  for (const mu of mutations) {
    // fc.constant values are shared instances: a copy, so that no mutation makes a cycle.
    const value: unknown = structuredClone(mu.value);
    const all = containers(copy);
    const obj = all[mu.target % all.length]!;
    const keys = Object.keys(obj);
    // JSON.parse never makes an array with other keys than its indices.
    if (Array.isArray(obj)) {
      if (mu.op === 'add' || keys.length === 0) (obj as unknown[]).push(value);
      else if (mu.op === 'set') (obj as unknown[])[mu.key % keys.length] = value;
      else (obj as unknown[]).splice(mu.key % keys.length, 1);
      continue;
    }
    const key = keys.length > 0 ? keys[mu.key % keys.length]! : mu.newKey;
    if (mu.op === 'set') obj[key] = value;
    else if (mu.op === 'delete') delete obj[key];
    else if (mu.op === 'add')
      Object.defineProperty(obj, mu.newKey, { value, enumerable: true, writable: true, configurable: true });
    else if (keys.length > 0) {
      const v = obj[key];
      delete obj[key];
      Object.defineProperty(obj, mu.newKey, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return copy;
}

/** Keys in a random order, as another writer could have serialised them (JSON.parse keeps text order). */
function shuffleKeys(v: unknown, seed: number): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map((x, i) => shuffleKeys(x, seed + i));
  const entries = Object.entries(v);
  entries.sort((a, b) => ((a[0].length * 31 + seed) % 7) - ((b[0].length * 31 + seed) % 7));
  const out: Json = {};
  for (const [k, x] of entries)
    Object.defineProperty(out, k, {
      value: shuffleKeys(x, seed + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

/** How often each verdict came up, so that a test cannot pass by never accepting (or never rejecting). */
const verdicts = { fast: 0, zodOnly: 0, rejected: 0 };

function agrees(validator: FastValidator, value: unknown): void {
  const zod = parseMessage(value);
  const fast = validator.tryFast(value);
  if (fast !== undefined) verdicts.fast += 1;
  else if (zod.ok) verdicts.zodOnly += 1;
  else verdicts.rejected += 1;
  if (fast !== undefined) {
    expect(zod.ok).toBe(true);
    if (zod.ok) expect(same(fast, zod.message)).toBe(true);
  }
  // The public entry point: same verdict, same message or same error as zod.
  const parsed = validator.parse(value);
  expect(parsed.ok).toBe(zod.ok);
  if (parsed.ok && zod.ok) expect(same(parsed.message, zod.message)).toBe(true);
  if (!parsed.ok && !zod.ok) expect(parsed.error.message).toBe(zod.error.message);
}

describe('FastValidator', () => {
  const validator = new FastValidator();

  it('agrees with zod on generated messages, valid or not', () => {
    verdicts.fast = verdicts.zodOnly = verdicts.rejected = 0;
    fc.assert(
      fc.property(message, (m) => agrees(validator, m)),
      { numRuns: 3000 },
    );
    expect(verdicts.fast).toBeGreaterThan(300);
    expect(verdicts.rejected).toBeGreaterThan(300);
  });

  it('agrees with zod on mutated messages (values replaced, keys removed, added or renamed, reordered)', () => {
    verdicts.fast = verdicts.zodOnly = verdicts.rejected = 0;
    fc.assert(
      fc.property(message, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.nat(), (m, ms, seed) => {
        const mutated = mutate(m, ms);
        agrees(validator, mutated);
        agrees(validator, shuffleKeys(mutated, seed));
        // What the value looks like after a trip through a file (the only input replay gives it).
        const json = JSON.stringify(mutated);
        if (json !== undefined) agrees(validator, JSON.parse(json));
      }),
      { numRuns: 3000 },
    );
    expect(verdicts.fast).toBeGreaterThan(300);
    expect(verdicts.rejected).toBeGreaterThan(600);
  });

  it('accepts every valid pingResult with an IPv4 target and every valid deviceUpdate itself (no zod)', () => {
    fc.assert(
      fc.property(message, (generated) => {
        const m: unknown = JSON.parse(JSON.stringify(generated));
        const zod = parseMessage(m);
        if (!zod.ok) return;
        if (zod.message.type === 'pingResult' && zod.message.data.targetIp.includes(':')) return; // IPv6: zod's
        expect(new FastValidator().tryFast(m)).toBeDefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('defers what JSON.parse cannot make but a caller could pass: other prototypes, getters, sparse arrays', () => {
    const ok = {
      type: 'pingResult',
      agentId: 'a',
      timestamp: '2025-06-16T18:45:00.000Z',
      data: { targetIp: '198.51.100.1', targetType: 'anchor', sequenceNumber: 1, success: false },
    };
    expect(validator.tryFast(ok)).toEqual(ok);
    const nullProto = Object.assign(Object.create(null) as Json, ok);
    expect(validator.tryFast(nullProto)).toBeUndefined();
    agrees(validator, nullProto);
    class Msg {
      type = 'pingResult';
      agentId = 'a';
      timestamp = '2025-06-16T18:45:00.000Z';
      data = ok.data;
    }
    expect(validator.tryFast(new Msg())).toBeUndefined();
    const sparse = {
      ...ok,
      type: 'deviceUpdate',
      data: { deviceId: 'd', activity: { services: new Array<string>(2).fill('x', 1) } },
    };
    agrees(validator, sparse);
    agrees(
      validator,
      JSON.parse(
        '{"type":"pingResult","agentId":"a","timestamp":"2025-06-16T18:45:00.000Z","data":{"targetIp":"1.2.3.4","targetType":"anchor","sequenceNumber":1,"success":true,"rtt":1e999}}',
      ),
    );
    agrees(
      validator,
      JSON.parse(
        '{"type":"pingResult","agentId":"a","timestamp":"2025-06-16T18:45:00.000Z","data":{"__proto__":1,"targetIp":"1.2.3.4","targetType":"anchor","sequenceNumber":1,"success":false}}',
      ),
    );
    const negZero = JSON.parse(
      '{"type":"pingResult","agentId":"a","timestamp":"2025-06-16T18:45:00.000Z","data":{"targetIp":"1.2.3.4","targetType":"anchor","sequenceNumber":-0,"success":true,"rtt":-0,"rssi":-0}}',
    );
    const out = validator.tryFast(negZero);
    expect(out?.type === 'pingResult' && Object.is(out.data.rtt, -0)).toBe(true);
    agrees(validator, negZero);
  });

  it('agrees with zod on every line of the committed data sets, and takes the fast path for nearly all', () => {
    const dir = join(import.meta.dirname, '../../datasets');
    const v = new FastValidator();
    let lines = 0;
    for (const name of ['capture.jsonl', 'baseline.jsonl', 'walk.jsonl']) {
      for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
        if (line === '') continue;
        lines += 1;
        agrees(v, JSON.parse(line));
      }
    }
    // Calibrations, registrations, heartbeats, joins and leaves go to zod; probes and updates do not.
    expect(v.fast / lines).toBeGreaterThan(0.9);
  });
});
