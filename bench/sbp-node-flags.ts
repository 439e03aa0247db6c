import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { SBP_NODE_FLAGS } from '../src/cli/node-flags.js';

/**
 * Benchmarks that run product code in their own process (replay, positioning, anomaly) measure it under the V8
 * flags `sbp` runs with (SBP_NODE_FLAGS: `npx sbp replay` gets them from bin/sbp.js's shebang), not node's defaults.
 * Started without them (`node bin/run-ts.js bench/…`), the bench runs itself again in a child process with them and
 * exits with its status; returns when this process already has them.
 */
export function ensureSbpNodeFlags(): void {
  if (SBP_NODE_FLAGS.every((f) => process.execArgv.includes(f))) return;
  const runner = resolve(import.meta.dirname, '..', 'bin', 'run-ts.js');
  const child = spawnSync(
    process.execPath,
    [...SBP_NODE_FLAGS, ...process.execArgv, runner, process.argv[1]!, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(child.status ?? 1);
}
