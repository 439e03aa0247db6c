import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

// A worker thread does not inherit the main thread's tsx loader: loading the TypeScript parse worker through tsx
// (parse-worker-entry.mjs) costs ~0.5 s of CPU per start (every module of zod and ours through the loader hooks).
// Bundled into one plain ES module by esbuild (a dependency of tsx, present wherever `sbp` runs), it starts in a few
// tens of milliseconds. The bundle is built once and kept in node_modules/.cache/smartblueprint/, with the hash of
// every input file: any change to a source file rebuilds it. Anything wrong on the way (no esbuild, read-only
// directory) falls back to the tsx entry: slower to start, same code, same results.

const ENTRY = new URL('./parse-worker.ts', import.meta.url);
const FALLBACK = new URL('./parse-worker-entry.mjs', import.meta.url);
const CACHE = new URL('../../node_modules/.cache/smartblueprint/', import.meta.url);

interface Manifest {
  bundle: string;
  /** Absolute path → sha1 of its content, for every file in the bundle. */
  inputs: Record<string, string>;
}

function sha1(text: string | Buffer): string {
  return createHash('sha1').update(text).digest('hex');
}

async function upToDate(manifest: Manifest): Promise<boolean> {
  for (const [path, hash] of Object.entries(manifest.inputs)) {
    const content = await readFile(path).catch(() => null);
    if (content === null || sha1(content) !== hash) return false;
  }
  return true;
}

async function build(manifestPath: URL): Promise<URL> {
  const esbuild = await import('esbuild');
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(ENTRY)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: root,
  });
  const code = result.outputFiles[0]!.text;
  const inputs: Record<string, string> = {};
  for (const rel of Object.keys(result.metafile.inputs)) {
    const path = fileURLToPath(new URL(rel, pathToFileURL(root)));
    inputs[path] = sha1(await readFile(path));
  }
  const name = `parse-worker-${sha1(code).slice(0, 16)}.mjs`;
  const bundle = new URL(name, CACHE);
  await mkdir(CACHE, { recursive: true });
  // Written under a temporary name and renamed: a concurrent replay never loads half a file.
  const tmp = new URL(`${name}.${process.pid}.tmp`, CACHE);
  await writeFile(tmp, code);
  await rename(tmp, bundle);
  const manifest: Manifest = { bundle: name, inputs };
  const tmpManifest = new URL(`parse-worker.json.${process.pid}.tmp`, CACHE);
  await writeFile(tmpManifest, JSON.stringify(manifest));
  await rename(tmpManifest, manifestPath);
  // Bundles of older sources are not needed any more (a replay running one has it loaded already).
  for (const old of await readdir(CACHE)) {
    if (old.startsWith('parse-worker-') && old.endsWith('.mjs') && old !== name) {
      await rm(new URL(old, CACHE), { force: true });
    }
  }
  return bundle;
}

let pending: Promise<URL> | null = null;

/** The module to start the capture parse worker from: the cached bundle, built if missing or stale. */
export function parseWorkerUrl(): Promise<URL> {
  pending ??= (async () => {
    // Running from plain JavaScript (a build), the worker module needs no bundling.
    if (!import.meta.url.endsWith('.ts')) return new URL('./parse-worker.js', import.meta.url);
    const manifestPath = new URL('parse-worker.json', CACHE);
    try {
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
      if (await upToDate(manifest)) return new URL(manifest.bundle, CACHE);
    } catch {
      // No cache yet, or unreadable: build it.
    }
    try {
      return await build(manifestPath);
    } catch {
      return FALLBACK;
    }
  })();
  return pending;
}
