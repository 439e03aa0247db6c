import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SBP_NODE_FLAGS } from '../../src/cli/node-flags.js';

// The node flags of every `sbp` process (a larger young generation, src/cli/node-flags.ts) are written in three
// places that node reads before any of our code runs: bin/sbp.js's shebang, the `npm start` script, and the
// pipeline benchmark's process arguments (which import the constant). These must not drift apart.

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

describe('SBP_NODE_FLAGS', () => {
  it('are what bin/sbp.js asks for in its shebang and what npm start runs node with', () => {
    const shebang = readFileSync(resolve(ROOT, 'bin/sbp.js'), 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SBP_NODE_FLAGS.join(' ')}`);
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe(`node ${SBP_NODE_FLAGS.join(' ')} bin/sbp.js demo`);
  });

  it('reach the process when sbp is started as users start it (npx, through the shebang)', async () => {
    // A module preloaded into every node process of the command (npx's own too) prints its script and flags.
    const code = 'console.log("node=" + JSON.stringify([process.argv[1], process.execArgv]))';
    const probe = `data:text/javascript,${encodeURIComponent(code)}`;
    const { stdout } = await run('npx', ['--no-install', 'sbp', '--version'], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: `--import=${probe}` },
    });
    const processes = stdout
      .split('\n')
      .filter((l) => l.startsWith('node='))
      .map((l) => JSON.parse(l.slice('node='.length)) as [string, string[]]);
    const sbp = processes.filter(([script]) => /(^|\/)(sbp|sbp\.js)$/.test(script));
    expect(sbp).toHaveLength(1);
    for (const flag of SBP_NODE_FLAGS) expect(sbp[0]![1]).toContain(flag);
  });
});
