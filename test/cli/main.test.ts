import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ProcessResult, runProcess } from '../helpers/run-process.js';

// The `sbp` command as a user reaches it right after `npm install`: through npx, with no build step.

const ROOT = resolve(import.meta.dirname, '../..');
const COMMANDS = ['demo', 'hub', 'worker', 'agent', 'train', 'evaluate', 'anomaly', 'replay', 'simulate'];

/** bin/sbp.js run by this Node directly: what npx runs, without npx's own start-up. */
function sbp(args: string[]): Promise<ProcessResult> {
  return runProcess(process.execPath, [resolve(ROOT, 'bin/sbp.js'), ...args], { cwd: ROOT });
}

function npxSbp(args: string[]): Promise<ProcessResult> {
  // --no-install: the package's own bin, never a download.
  return runProcess('npx', ['--no-install', 'sbp', ...args], { cwd: ROOT });
}

describe('npx sbp', () => {
  it('--help lists every command and exits 0; --version prints the package version', async () => {
    const help = await npxSbp(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^sbp \d+\.\d+\.\d+ — SmartBlueprint/);
    for (const c of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const version = await npxSbp(['--version']);
    expect(version.stdout.trim()).toBe(
      (await import('../../package.json', { with: { type: 'json' } })).default.version,
    );
  });

  it('each command has its own --help; an unknown command is a usage error (exit 2)', async () => {
    const hub = await npxSbp(['hub', '--help']);
    expect(hub.code).toBe(0);
    expect(hub.stdout).toMatch(/^usage: sbp hub --tokens FILE/);
    expect(hub.stdout).toMatch(/--port N .*0 = a free one/);
    const agent = await npxSbp(['agent', '--help']);
    expect(agent.code).toBe(0);
    expect(agent.stdout).toMatch(/sbp agent calibrate/);
    const unknown = await npxSbp(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('an unknown flag is a usage error of its command (exit 2, the usage printed), never a crash', async () => {
    const cases = COMMANDS.map((c) => (c === 'anomaly' ? [c, 'evaluate'] : [c]));
    const results = await Promise.all(cases.map((c) => sbp([...c, '--bogus'])));
    results.forEach((r, i) => {
      const name = cases[i]![0]!;
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toMatch(new RegExp(`^sbp ${name}: Unknown option '--bogus'`));
      expect(r.stderr, name).toMatch(/usage/i);
      expect(r.stderr, name).not.toMatch(/\n\s+at /);
    });
    // Nine processes loading their commands at once: slow on a loaded 2-core machine.
  }, 60_000);
});
