import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';

/**
 * Tests that need a system component (Redis, Chromium, Jupyter) fail in CI (`CI=true`) when it is absent, and on a
 * developer's machine skip with one loud line saying what to install.
 */
export function reportMissing(component: string, install: string): boolean {
  if (process.env.CI === 'true') {
    throw new Error(`${component} is required in CI but is not available. ${install}`);
  }
  console.warn(`\n*** SKIPPING tests that need ${component}: not found. To run them: ${install} ***\n`);
  return false;
}

export const REDIS_URL = process.env.SBP_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function tcpReachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolveReachable) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolveReachable(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when Redis answers on REDIS_URL; otherwise skip loudly (or throw in CI). */
export async function haveRedis(): Promise<boolean> {
  const url = new URL(REDIS_URL);
  if (await tcpReachable(url.hostname, Number(url.port || 6379))) return true;
  return reportMissing(
    `Redis at ${REDIS_URL}`,
    'apt-get install redis-server && redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no',
  );
}

export const CHROMIUM_PATH = process.env.SBP_CHROMIUM ?? '/usr/bin/chromium';

export function haveChromium(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  return reportMissing('Chromium', 'apt-get install -y chromium');
}

export function haveJupyter(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import nbconvert, ipykernel'], { stdio: 'ignore' });
    return true;
  } catch {
    return reportMissing(
      "Debian's Jupyter (nbconvert, ipykernel)",
      'apt-get install -y jupyter-notebook python3-nbconvert python3-ipykernel',
    );
  }
}
