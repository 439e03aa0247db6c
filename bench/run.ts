// `npm run bench [-- [--quick] [--write] [name ...]]`: runs the benchmarks (all, or the named ones), prints their
// tables, and with --write replaces docs/benchmarks.md with this run's results and the machine they ran on.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { ensureSbpNodeFlags } from './sbp-node-flags.js';
import type { BenchModule, BenchResult } from './types.js';

ensureSbpNodeFlags();

const BENCHES: Record<string, () => Promise<BenchModule>> = {};
// Each benchmark registers here: name → lazy import of bench/<name>.ts.
const NAMES = ['hub', 'pipeline', 'positioning', 'anomaly', 'replay', 'dashboard', 'agent'] as const;
for (const name of NAMES) BENCHES[name] = () => import(`./${name}.js`) as Promise<BenchModule>;

const USAGE = `usage: npm run bench -- [--quick] [--write] [name ...]

Runs the benchmarks (all, or the named ones: ${NAMES.join(', ')}) and prints their tables.
  --quick   fewer seeds and repetitions (a smoke run; its figures are not the published ones)
  --write   replace the sections of the benchmarks run in docs/benchmarks.md with this run's results`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const unknownFlag = args.find((a) => a.startsWith('-') && a !== '--quick' && a !== '--write');
if (unknownFlag !== undefined) {
  // A mistyped flag must not fall through to "run everything" (the full set takes over an hour).
  console.error(`unknown option "${unknownFlag}"\n\n${USAGE}`);
  process.exit(2);
}
const quick = args.includes('--quick');
const write = args.includes('--write');
const selected = args.filter((a) => !a.startsWith('-'));
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
  // Sections of benchmarks not run this time are kept, so one benchmark can be refreshed on its own.
  const target = resolve(import.meta.dirname, '../docs/benchmarks.md');
  const previous = existsSync(target) ? readFileSync(target, 'utf8') : '';
  const sections = new Map<string, string>();
  for (const chunk of previous.split(/^(?=## )/m).slice(1)) {
    const name = /^## (\S+)/.exec(chunk)?.[1];
    if (name) sections.set(name, chunk.trimEnd());
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  for (const { name, results: rs, seconds } of results) {
    sections.set(
      name,
      [
        `## ${name}`,
        '',
        `Run ${new Date().toISOString()} on ${machine}; ${seconds.toFixed(0)} s. Command: \`npm run bench -- --write${quick ? ' --quick' : ''} ${name}\``,
        '',
        ...rs.flatMap((r) => [
          `### ${r.title}`,
          '',
          r.table,
          '',
          ...(r.notes ?? []).map((n) => `- ${n}`),
          '',
        ]),
      ]
        .join('\n')
        .trimEnd(),
    );
  }
  const header = [
    '# Benchmarks',
    '',
    'Every table measures its baseline in the same run; ratios compare the two. Each section names the command and',
    'machine that produced it. Regenerate on a quiet machine: other load changes absolute figures by up to ~50%.',
    '',
  ].join('\n');
  const ordered = [
    ...NAMES.filter((n) => sections.has(n)),
    ...[...sections.keys()].filter((n) => !NAMES.includes(n as never)),
  ];
  writeFileSync(target, `${header}\n${ordered.map((n) => sections.get(n)).join('\n\n')}\n`);
  console.log('\nwrote docs/benchmarks.md');
}
