import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { ResultsBus } from '../../../src/ingest/results-bus.js';
import { type Message, Message as MessageSchema } from '../../../src/protocol/index.js';

export const silent = pino({ level: 'silent' });

/** A logger that shows warnings when SBP_TEST_LOG is set (debugging a failing test). */
export function testLogger(): pino.Logger {
  return process.env.SBP_TEST_LOG ? pino({ level: process.env.SBP_TEST_LOG }) : silent;
}

export function tempDir(prefix = 'sbp-ingest-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Collects every message published on a bus, and every one that does not validate against the protocol. */
export function collect(bus: ResultsBus): { messages: Message[]; invalid: unknown[]; stop: () => void } {
  const messages: Message[] = [];
  const invalid: unknown[] = [];
  const stop = bus.subscribe((m) => {
    messages.push(m);
    const check = MessageSchema.safeParse(m);
    if (!check.success) invalid.push({ message: m, issue: check.error.issues[0] });
  });
  return { messages, invalid, stop };
}

export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  stepMs = 10,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
