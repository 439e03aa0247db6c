// `npm run bench [-- [--quick] [--write] [name ...]]`: runs the benchmarks (all, or the named ones), prints their
// tables, and with --write replaces docs/benchmarks.md with this run's results and the machine they ran on.

import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import type { BenchModule, BenchResult } from './types.js';

const BENCHES: Record<string, () => Promise<BenchModule>> = {};
// Each benchmark registers here: name → lazy import of bench/<name>.ts.
const NAMES = ['hub', 'pipeline', 'positioning', 'anomaly', 'replay'] as const;
for (const name of NAMES) BENCHES[name] = () => import(`./${name}.js`) as Promise<BenchModule>;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const write = args.includes('--write');
const selected = args.filter((a) => !a.startsWith('--'));
const names = selected.length > 0 ? selected : [...NAMES];

const results: Array<{ name: string; results: BenchResult[]; seconds: number }> = [];
for (const name of names) {
  const load = BENCHES[name];
  if (!load) {
    console.error(`unknown benchmark "${name}"; known: ${NAMES.join(', ')}`);
    process.exit(2);
  }
  const started = performance.now();
  let mod: BenchModule;
  try {
    mod = await load();
  } catch (error) {
    console.error(`bench ${name}: not available (${(error as Error).message})`);
    continue;
  }
  console.log(`\n## ${name}${quick ? ' (quick)' : ''}`);
  const out = await mod.run({ quick });
  const list = Array.isArray(out) ? out : [out];
  for (const r of list) {
    console.log(`\n### ${r.title}\n\n${r.table}\n`);
    for (const n of r.notes ?? []) console.log(`- ${n}`);
  }
  results.push({ name, results: list, seconds: (performance.now() - started) / 1000 });
}

if (write) {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const header = [
    '# Benchmarks',
    '',
    `Latest run: ${new Date().toISOString()} on ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB,`,
    `Node ${process.version}. Command: \`npm run bench -- --write${quick ? ' --quick' : ''}${selected.length ? ` ${selected.join(' ')}` : ''}\``,
    '',
    'Every table measures its baseline in the same run; ratios compare the two. Regenerate with the command above',
    'on a quiet machine (other load changes absolute figures by up to ~50%).',
    '',
  ];
  const body = results.flatMap(({ name, results: rs, seconds }) => [
    `## ${name} (${seconds.toFixed(0)} s)`,
    '',
    ...rs.flatMap((r) => [`### ${r.title}`, '', r.table, '', ...(r.notes ?? []).map((n) => `- ${n}`), '']),
  ]);
  writeFileSync(resolve(import.meta.dirname, '../docs/benchmarks.md'), [...header, ...body].join('\n'));
  console.log('\nwrote docs/benchmarks.md');
}
