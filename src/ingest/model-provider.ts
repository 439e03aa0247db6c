import { type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { readLatest } from '../training/model-dir.js';
import { loadModelSet } from './load-model-set.js';
import { NO_MODELS, type WorkerModels } from './worker-models.js';

export type ModelSetLoader = (versionPath: string | null) => Promise<WorkerModels>;

export interface ModelProviderOptions {
  /** The model root (LATEST names the version); absent = no trained models. */
  modelDir?: string;
  /** @defaultValue loadModelSet */
  load?: ModelSetLoader;
  /** How often LATEST is checked even without a file-system event. @defaultValue 2000 */
  pollMs?: number;
  logger: Logger;
  /** Told after a new version is in use. */
  onChange?: (models: WorkerModels) => void;
}

/**
 * The models the worker uses now. Watches the model directory (fs.watch, with a poll as fallback: watch events are
 * unreliable on network file systems and some platforms) and swaps in a newly published version without a restart.
 * A version that fails to load is logged and skipped; the previous one stays in use.
 */
export class ModelProvider {
  private models: WorkerModels = NO_MODELS;
  private loadedVersion: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private checking: Promise<void> | null = null;
  private failedVersion: string | null = null;
  private closed = false;

  private constructor(private readonly o: ModelProviderOptions) {}

  static async open(options: ModelProviderOptions): Promise<ModelProvider> {
    const provider = new ModelProvider(options);
    const load = options.load ?? loadModelSet;
    if (options.modelDir === undefined) {
      provider.models = await load(null);
      options.onChange?.(provider.models);
      return provider;
    }
    await provider.check();
    if (provider.loadedVersion === null) {
      // Nothing trained yet: run with what needs no training until a version appears.
      provider.models = await load(null);
      options.onChange?.(provider.models);
    }
    provider.timer = setInterval(() => void provider.check(), options.pollMs ?? 2000);
    provider.timer.unref();
    try {
      provider.watcher = watch(options.modelDir, () => void provider.check());
      provider.watcher.on('error', () => {
        provider.watcher?.close();
        provider.watcher = null;
      });
    } catch {
      // The directory may not exist yet; polling covers it.
    }
    return provider;
  }

  current(): WorkerModels {
    return this.models;
  }

  /** Checks LATEST now; resolves once a new version (if any) is in use. */
  check(): Promise<void> {
    this.checking ??= this.doCheck().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async doCheck(): Promise<void> {
    const dir = this.o.modelDir;
    if (dir === undefined || this.closed) return;
    let latest: string | null;
    try {
      latest = await readLatest(dir);
    } catch (err) {
      this.o.logger.warn({ err, modelDir: dir }, 'cannot read the model directory');
      return;
    }
    if (latest === null || latest === this.loadedVersion || latest === this.failedVersion) return;
    const started = Date.now();
    try {
      const models = await (this.o.load ?? loadModelSet)(join(dir, latest));
      if (this.closed) return;
      this.models = models;
      this.loadedVersion = latest;
      this.failedVersion = null;
      this.o.logger.info(
        {
          version: latest,
          positioner: models.positioner !== null,
          behaviour: models.behaviour !== null,
          trust: models.trust !== null,
          ms: Date.now() - started,
        },
        'model version in use',
      );
      this.o.onChange?.(models);
    } catch (err) {
      this.failedVersion = latest;
      this.o.logger.error({ err, version: latest }, 'cannot load model version; keeping the previous one');
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
  }
}
