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
}
