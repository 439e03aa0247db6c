import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * Model directory layout (docs/models.md):
 *   MODEL_DIR/
 *     LATEST                      text: the version workers should load
 *     <version>/metadata.json     parameters, training data summary, metrics
 *     <version>/positioning/...   written by the positioning trainer
 *     <version>/anomaly/...       written by the anomaly trainer
 * A version directory is complete before LATEST names it (LATEST is replaced by rename), so a worker polling
 * LATEST never loads a half-written model.
 */

export const LATEST_FILE = 'LATEST';
export const METADATA_FILE = 'metadata.json';
export const MODEL_DIR_FORMAT = 1;

export interface ModelMetadata {
  formatVersion: typeof MODEL_DIR_FORMAT;
  version: string;
  /** ISO 8601. */
  createdAt: string;
  /** The version this one was derived from (retraining), if any. */
  parent?: string;
  /** One entry per model family present in the version: its parameters, data summary and metrics. */
  positioning?: Record<string, unknown>;
  anomaly?: Record<string, unknown>;
}

/** Sortable and unique: `20261125T183000Z-3fa2`. */
export function newVersionName(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export async function createVersionDir(
  root: string,
  now: Date = new Date(),
): Promise<{ version: string; path: string }> {
  const version = newVersionName(now);
  const path = join(root, version);
  await mkdir(path, { recursive: true });
  return { version, path };
}

export async function writeMetadata(versionPath: string, metadata: ModelMetadata): Promise<void> {
  await writeFile(join(versionPath, METADATA_FILE), `${JSON.stringify(metadata, null, 2)}\n`);
}

export async function readMetadata(versionPath: string): Promise<ModelMetadata> {
  const text = await readFile(join(versionPath, METADATA_FILE), 'utf8');
  const parsed = JSON.parse(text) as ModelMetadata;
  if (parsed.formatVersion !== MODEL_DIR_FORMAT) {
    throw new Error(`${versionPath}: unsupported model directory format ${String(parsed.formatVersion)}`);
  }
  return parsed;
}

/** Points LATEST at `version` atomically. */
export async function publishVersion(root: string, version: string): Promise<void> {
  const tmp = join(root, `.${LATEST_FILE}.${process.pid}.${randomBytes(3).toString('hex')}`);
  await writeFile(tmp, `${version}\n`);
  await rename(tmp, join(root, LATEST_FILE));
}

/** The version LATEST names, or null when the directory has none yet. */
export async function readLatest(root: string): Promise<string | null> {
  try {
    const text = (await readFile(join(root, LATEST_FILE), 'utf8')).trim();
    return text.length > 0 ? text : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function listVersions(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Resolves a user's `--model` argument: a version directory (has metadata.json) or a model root (uses LATEST).
 */
export async function resolveVersionPath(
  pathOrRoot: string,
): Promise<{ root: string | null; version: string; path: string }> {
  try {
    const meta = await readMetadata(pathOrRoot);
    return { root: null, version: meta.version, path: pathOrRoot };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const latest = await readLatest(pathOrRoot);
  if (latest === null) {
    throw new Error(
      `${pathOrRoot} is not a model directory: no ${METADATA_FILE} and no ${LATEST_FILE} (train one with \`sbp train\`)`,
    );
  }
  return { root: pathOrRoot, version: latest, path: join(pathOrRoot, latest) };
}
