// The import rules of docs/architecture.md, checked on the source: which top-level folder of src/ may import which,
// that src/models/ stays free of I/O, that nothing imports src/cli/, that the page only takes protocol types, and
// that the folders have no cycle. A new import across a boundary fails here with the file and the rule.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** What each folder of src/ may import besides itself (docs/architecture.md). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  protocol: [],
  models: ['protocol'],
  store: ['protocol'],
  sim: ['models', 'protocol'],
  training: ['models', 'protocol'],
  report: ['models', 'protocol'],
  agent: ['protocol', 'sim'],
  hub: ['protocol', 'ingest', 'store'],
  ingest: ['protocol', 'models', 'store', 'training'],
  replay: ['protocol', 'ingest', 'models', 'training', 'store', 'sim', 'report'],
};
/** Folders (and src/index.ts, the package's API) that may import everything. */
const ANYTHING = new Set(['cli', 'index.ts']);

/** The documented exceptions, file to file (docs/architecture.md says why). */
const EXCEPTIONS = new Set([
  'src/agent/sources/sim-adapter.ts -> src/models/positioning/site.ts',
  'src/agent/sources/scan-source.ts -> src/models/trust/oui.ts',
  'src/hub/dashboard/model-versions.ts -> src/training/model-dir.ts',
]);

/** Packages and built-ins src/models/ must not import: models are functions of data. */
const IO = /^(node:|fs$|net$|http$|ws$|bullmq$|ioredis$|fastify|@fastify\/|pino$)/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Module specifiers of static imports, re-exports and dynamic imports with a literal. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/g)) out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+'([^']+)'/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) out.push(m[1]!);
  return out;
}

const rel = (p: string) => relative(ROOT, p).replaceAll('\\', '/');
/** The folder of src/ a file belongs to ('index.ts' for src/index.ts). */
const folderOf = (p: string) => relative(SRC, p).split(/[\\/]/)[0]!;

interface Edge {
  from: string;
  to: string;
  fromFolder: string;
  toFolder: string;
}

function srcEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      edges.push({
        from: rel(file),
        to: rel(target),
        fromFolder: folderOf(file),
        toFolder: folderOf(target),
      });
    }
  }
  return edges;
}

describe('architecture (docs/architecture.md)', () => {
  const edges = srcEdges();

  it('reads the imports it checks', () => {
    // The parser found the imports (a broken regex would make every rule below pass vacuously).
    expect(edges.length).toBeGreaterThan(500);
    expect(edges).toContainEqual(
      expect.objectContaining({ from: 'src/hub/connection-registry.ts', toFolder: 'protocol' }),
    );
  });

  it('each folder of src/ imports only what its row allows, or a documented exception', () => {
    const broken: string[] = [];
    const used = new Set<string>();
    for (const e of edges) {
      if (e.fromFolder === e.toFolder || ANYTHING.has(e.fromFolder)) continue;
      const allowed = MAY_IMPORT[e.fromFolder];
      if (allowed === undefined) {
        broken.push(`${e.from}: src/${e.fromFolder}/ has no row in docs/architecture.md`);
        continue;
      }
      const key = `${e.from} -> ${e.to}`;
      if (allowed.includes(e.toFolder)) continue;
      if (EXCEPTIONS.has(key)) {
        used.add(key);
        continue;
      }
      broken.push(`${key} (src/${e.fromFolder}/ may import ${allowed.join(', ') || 'no other folder'})`);
    }
    expect(broken).toEqual([]);
    // An exception that is no longer needed is removed from the list and the docs.
    expect([...EXCEPTIONS].filter((x) => !used.has(x))).toEqual([]);
  });

  it('nothing imports src/cli/', () => {
    expect(edges.filter((e) => e.toFolder === 'cli' && e.fromFolder !== 'cli').map((e) => e.from)).toEqual(
      [],
    );
  });

  it('src/models/ never imports sockets, queues, Redis or the file system', () => {
    const io: string[] = [];
    for (const file of sourceFiles(join(SRC, 'models')))
      for (const spec of specifiers(readFileSync(file, 'utf8')))
        if (IO.test(spec)) io.push(`${rel(file)} imports ${spec}`);
    expect(io).toEqual([]);
  });

  it('only src/cli/ reads the command line and the environment (config is parsed once and passed down)', () => {
    const reads: string[] = [];
    for (const file of sourceFiles(SRC)) {
      if (folderOf(file) === 'cli') continue;
      const text = readFileSync(file, 'utf8');
      // Handing the whole environment on to a child process (`{ ...process.env, LC_ALL: 'C' }`) reads no setting.
      for (const m of text.matchAll(/process\.(argv|env\s*[.[])/g)) reads.push(`${rel(file)}: ${m[0]}`);
    }
    expect(reads).toEqual([]);
  });

  it('the folders of src/ have no import cycle', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      if (e.fromFolder === e.toFolder || ANYTHING.has(e.fromFolder)) continue;
      graph.set(e.fromFolder, (graph.get(e.fromFolder) ?? new Set()).add(e.toFolder));
    }
    const cycles = new Set<string>();
    const visit = (node: string, path: string[]) => {
      for (const next of graph.get(node) ?? []) {
        if (path.includes(next)) cycles.add([...path.slice(path.indexOf(next)), next].join(' -> '));
        else visit(next, [...path, next]);
      }
    };
    for (const node of graph.keys()) visit(node, [node]);
    expect([...cycles]).toEqual([]);
  });

  it('the page (web/) takes only types from src/, and only from the protocol', () => {
    const bad: string[] = [];
    for (const file of sourceFiles(join(ROOT, 'web/src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(import(?:\s+type)?)\s[^;]*?\sfrom\s+'([^']+)'/g)) {
        const target = resolve(dirname(file), m[2]!);
        if (!target.startsWith(SRC)) continue;
        if (m[1] !== 'import type' || folderOf(target) !== 'protocol')
          bad.push(`${rel(file)}: ${m[0].trim()}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
