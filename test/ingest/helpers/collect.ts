import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { ResultsBus } from '../../../src/ingest/results-bus.js';
import type { Message } from '../../../src/protocol/index.js';

export const silent = pino({ level: 'silent' });

/** A logger that shows warnings when SBP_TEST_LOG is set (debugging a failing test). */
export function testLogger(): pino.Logger {
  return process.env.SBP_TEST_LOG ? pino({ level: process.env.SBP_TEST_LOG }) : silent;
}

export function tempDir(prefix = 'sbp-ingest-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Collects every message published on a bus. */
export function collect(bus: ResultsBus): { messages: Message[]; stop: () => void } {
  const messages: Message[] = [];
  const stop = bus.subscribe((m) => messages.push(m));
  return { messages, stop };
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
