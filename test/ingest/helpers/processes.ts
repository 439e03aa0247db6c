import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const SBP = resolve(import.meta.dirname, '../../../bin/sbp.js');

export interface Spawned {
  proc: ChildProcess;
  /** stdout and stderr so far (printed when a test fails). */
  output: () => string;
  /** Resolves with the first stdout line matching `pattern`. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `sbp <args>` as a real child process. */
export function spawnSbp(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const proc = spawn(process.execPath, [SBP, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    stdout += chunk;
    for (const w of [...waiters]) {
      const line = stdout.split('\n').find((l) => w.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    output: () => out,
    line(pattern, timeoutMs = 30_000) {
      const existing = stdout.split('\n').find((l) => pattern.test(l));
      if (existing !== undefined) return Promise.resolve(existing);
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matching ${pattern} after ${timeoutMs} ms; output:\n${out}`)),
          timeoutMs,
        );
        const onExit = () => reject(new Error(`process exited before printing ${pattern}; output:\n${out}`));
        proc.once('exit', onExit);
        waiters.push({
          pattern,
          resolve: (l) => {
            clearTimeout(timer);
            proc.off('exit', onExit);
            resolveLine(l);
          },
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}
