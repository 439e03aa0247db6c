import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listVersions, type ModelMetadata, readLatest, readMetadata } from '../../training/model-dir.js';

export interface ModelVersionsResponse {
  /** False when the hub runs without a model directory. */
  configured: boolean;
  /** The version LATEST names (what workers load), or null. */
  latest: string | null;
  /** Newest first; each version's metadata.json as written by the trainers. */
  versions: { version: string; latest: boolean; metadata: ModelMetadata }[];
}

/**
 * Reads the newest `limit` versions of a model directory. A version is immutable once complete, so its metadata is
 * read once and remembered; a version still being written (no readable metadata yet) is left out until it is done.
 */
export class ModelVersionReader {
  readonly #cache = new Map<string, ModelMetadata>();
  #site: { version: string; site: unknown } | undefined;

  constructor(private readonly root: string | undefined) {}

  async read(limit: number): Promise<ModelVersionsResponse> {
    if (this.root === undefined) return { configured: false, latest: null, versions: [] };
    const root = this.root;
    const [latest, names] = await Promise.all([readLatest(root), listVersions(root)]);
    const newest = names.slice(-limit).reverse();
    const versions: ModelVersionsResponse['versions'] = [];
    for (const version of newest) {
      let metadata = this.#cache.get(version);
      if (metadata === undefined) {
        try {
          metadata = await readMetadata(join(root, version));
        } catch {
          continue;
        }
        this.#cache.set(version, metadata);
      }
      versions.push({ version, latest: version === latest, metadata });
    }
    return { configured: true, latest, versions };
  }

  /**
   * The site the live positioning model was trained on (a trained model keeps its site: `site` or `data.site` in a
   * JSON file of `<version>/positioning/`), for hubs started without a site file. Undefined when there is none.
   */
  async siteOfLatest(): Promise<unknown> {
    if (this.root === undefined) return undefined;
    const latest = await readLatest(this.root);
    if (latest === null) return undefined;
    if (this.#site?.version === latest) return this.#site.site;
    const dir = join(this.root, latest, 'positioning');
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
    } catch {
      return undefined;
    }
    for (const name of names) {
      const path = join(dir, name);
      // Model files can hold whole walks (kNN); a site is never worth reading more than this.
      if ((await stat(path)).size > 64 * 1024 * 1024) continue;
      let json: unknown;
      try {
        json = JSON.parse(await readFile(path, 'utf8'));
      } catch {
        continue;
      }
      const site = siteIn(json);
      if (site !== undefined) {
        this.#site = { version: latest, site };
        return site;
      }
    }
    return undefined;
  }
}

function siteIn(json: unknown): unknown {
  const isSite = (v: unknown): boolean =>
    typeof v === 'object' && v !== null && 'bounds' in v && 'anchors' in v;
  if (typeof json !== 'object' || json === null) return undefined;
  const o = json as { site?: unknown; data?: { site?: unknown } };
  if (isSite(o.site)) return o.site;
  if (isSite(o.data?.site)) return o.data?.site;
  return undefined;
}
