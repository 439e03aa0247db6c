import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveJupyter } from '../helpers/system-requirement.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const NOTEBOOKS = join(ROOT, 'notebooks');
const PYTHON = '/usr/bin/python3';
const jupyterOk = haveJupyter();
const tmp = mkdtempSync(join(tmpdir(), 'sbp-notebooks-'));

// Everything Jupyter writes (kernel spec, runtime files, config) stays in a temporary folder, never the user's home.
const env = {
  ...process.env,
  PATH: `${join(ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
  JUPYTER_PATH: join(tmp, 'prefix', 'share', 'jupyter'),
  JUPYTER_DATA_DIR: join(tmp, 'data'),
  JUPYTER_CONFIG_DIR: join(tmp, 'config'),
  JUPYTER_RUNTIME_DIR: join(tmp, 'runtime'),
  IPYTHONDIR: join(tmp, 'ipython'),
};

interface Output {
  output_type: string;
  name?: string;
  text?: string[] | string;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.runIf(jupyterOk)('notebooks (tslab kernel, executed headlessly by nbconvert)', () => {
  beforeAll(async () => {
    // Registers the tslab kernel into the temporary prefix (`npx tslab install --prefix`).
    await run(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'tslab', 'bin', 'tslab'),
        'install',
        `--python=${PYTHON}`,
        `--prefix=${join(tmp, 'prefix')}`,
      ],
      { env, timeout: 60_000 },
    );
  }, 90_000);

  const notebooks = readdirSync(NOTEBOOKS)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();

  it('finds the notebooks', () => {
    expect(notebooks).toEqual([
      '01-train-from-a-walk.ipynb',
      '02-replay-a-capture.ipynb',
      '03-inspect-anomalies.ipynb',
    ]);
  });

  for (const name of notebooks) {
    it(`${name} runs from top to bottom without an error and shows its plots`, async () => {
      const out = join(tmp, name);
      try {
        await run(
          PYTHON,
          [
            '-m',
            'nbconvert',
            '--to',
            'notebook',
            '--execute',
            '--ExecutePreprocessor.timeout=240',
            '--ExecutePreprocessor.kernel_name=tslab',
            '--output',
            out,
            join(NOTEBOOKS, name),
          ],
          { env, cwd: NOTEBOOKS, timeout: 300_000, maxBuffer: 64 * 2 ** 20 },
        );
      } catch (error) {
        const e = error as { stderr?: string; message: string };
        throw new Error(`${name} failed:\n${(e.stderr ?? e.message).split('\n').slice(-40).join('\n')}`);
      }
      const executed = JSON.parse(readFileSync(out, 'utf8')) as {
        cells: Array<{ cell_type: string; outputs?: Output[] }>;
      };
      const outputs = executed.cells.flatMap((c) => c.outputs ?? []);
      expect(outputs.filter((o) => o.output_type === 'error')).toEqual([]);
      const stderr = outputs.filter((o) => o.output_type === 'stream' && o.name === 'stderr');
      expect(stderr.map((o) => (Array.isArray(o.text) ? o.text.join('') : o.text))).toEqual([]);
      const svgs = outputs.filter((o) => o.data?.['image/svg+xml'] !== undefined);
      expect(svgs.length).toBeGreaterThan(0);
      for (const o of svgs) expect(String(o.data!['image/svg+xml'])).toContain('<svg');
    }, 300_000);
  }
});
