import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessResult, runProcess } from '../helpers/run-process.js';
import { buildFixture, type Fixture } from './fixtures.js';

const SBP = resolve(import.meta.dirname, '../../bin/sbp.js');
const dir = mkdtempSync(join(tmpdir(), 'sbp-cli-replay-'));
let fx: Fixture;
beforeAll(async () => {
  fx = await buildFixture(dir);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sbp(...args: string[]): Promise<ProcessResult> {
  return runProcess(process.execPath, [SBP, 'replay', ...args], { timeout: 60_000 });
}

describe('sbp replay', () => {
  it('replays a capture with its labels, writes results and a report, and prints a JSON summary last', async () => {
    const out = join(dir, 'results.jsonl');
    const report = join(dir, 'report.html');
    const { code, stdout, stderr } = await sbp(
      '--input',
      fx.capture,
      '--model',
      fx.modelRoot,
      '--out',
      out,
      '--report',
      report,
      '--json',
    );
    expect(stderr).toBe(''); // --json: no progress lines
    expect(code).toBe(0);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(summary.messages).toBeGreaterThan(1000);
    expect(summary.badLines).toBe(0);
    expect(summary.position.n).toBeGreaterThan(300); // capture.labels.jsonl was found beside the capture
    expect(summary.position.medianError).toBeLessThan(3);
    expect(summary.emittedByType.deviceUpdate).toBe(
      readFileSync(out, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"deviceUpdate"')).length,
    );
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Floor plan');
    expect(html).not.toMatch(/https?:\/\//);
  }, 90_000);

  it('prints plain progress lines when not on a terminal and compares two model versions', async () => {
    const { code, stdout, stderr } = await sbp(
      '--input',
      fx.test,
      '--model',
      fx.modelRoot,
      '--compare',
      fx.modelRoot,
    );
    expect(code).toBe(0);
    expect(stderr).toMatch(/^replay: 100% .* 40 messages, 0 bad/m);
    expect(stdout).toMatch(/positions: 40 fixes, mean [\d.]+ m/);
    expect(stdout).toMatch(/compare: positions moved median 0\.00 m/);
  }, 90_000);

  it('refuses bad usage with exit code 2 and a clear message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /--input is required/],
      [['--input', join(dir, 'missing.jsonl')], /no such file/],
      [['--input', fx.test, '--speed', 'fast'], /--speed: speed must be max, realtime or a factor/],
      [['--input', fx.test, '--walk', 'run'], /--walk must be fix or track/],
      [['--input', fx.test, '--model', dir], /is not a model directory/],
      [['--input', fx.test, '--bogus'], /Unknown option '--bogus'/],
    ];
    const results = await Promise.all(cases.map(([args]) => sbp(...args)));
    results.forEach(({ code, stderr }, i) => {
      expect(code, cases[i]![0].join(' ')).toBe(2);
      expect(stderr).toMatch(cases[i]![1]);
    });
    expect(existsSync(join(dir, 'missing.jsonl'))).toBe(false);
  }, 90_000);
});
