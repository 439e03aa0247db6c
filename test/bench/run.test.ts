import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ProcessResult, runProcess } from '../helpers/run-process.js';

// `npm run bench` runs every benchmark (over an hour on 2 cores) unless told which: a flag it does not know must
// stop it with its usage, not fall through to the full run.

const ROOT = resolve(import.meta.dirname, '../..');

function bench(args: string[]): Promise<ProcessResult> {
  return runProcess(process.execPath, ['bin/run-ts.js', 'bench/run.ts', ...args], { cwd: ROOT });
}

describe('npm run bench', () => {
  it('--help prints the usage and the benchmark names, and runs nothing', async () => {
    const r = await bench(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run bench -- \[--quick\] \[--write\] \[name \.\.\.\]/);
    expect(r.stdout).toContain('positioning');
    expect(r.stdout).not.toMatch(/^## /m);
  });

  it('an unknown flag is an error (exit 2) with the usage, before any benchmark starts', async () => {
    const r = await bench(['--qiuck', 'hub']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^unknown option "--qiuck"/);
    expect(r.stdout).not.toMatch(/^## /m);
  });
});
