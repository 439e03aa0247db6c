import { encodeStandardised, type FeatureSpec, featureLength, hearsAny } from './features.js';
import type { Fix } from './fix.js';
import type { Observation } from './observation.js';
import { tf } from './tf-runtime.js';

// The TF.js fingerprint network: standardised measurement vector (values + mask bits, missing anchors imputed)
// → position (x, y) and a log-variance, trained with MSE on the position and a Gaussian NLL on the variance head
// (residual detached, so the variance head cannot distort the mean). Needs no anchor positions. Scoring runs in
// tf.tidy(): no tensor outlives a call (a test checks tf.memory()).

export interface FingerprintMeta {
  spec: FeatureSpec;
  /** Targets are (x − cx)/scale, (y − cy)/scale. */
  target: { cx: number; cy: number; scale: number };
  hidden: number[];
  /** Calibration factor on the predicted variance (from cross-validation). */
  covScale: number;
  /** Lower bound on the per-axis variance, m². */
  varFloorM2: number;
}

/** Weights as plain data: what the model directory stores (JSON topology + one binary file). */
export interface FingerprintArtifacts {
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

export const LOG_VAR_MIN = -9;
// Variance is in units of the targets' spread²: e² ≈ 7 times the spread of the walk's points is vague enough.
export const LOG_VAR_MAX = 2;

/** L2 weight decay is applied by the training loop (src/training/positioning/train-fingerprint.ts). */
export function createFingerprintNetwork(
  inputDim: number,
  hidden: readonly number[],
  seed: number,
): tf.LayersModel {
  const model = tf.sequential();
  hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: seed + i }),
        ...(i === 0 ? { inputShape: [inputDim] } : {}),
      }),
    );
  });
  model.add(
    tf.layers.dense({
      units: 3,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 100 }),
      ...(hidden.length === 0 ? { inputShape: [inputDim] } : {}),
    }),
  );
  return model;
}

export class FingerprintNet {
  constructor(
    readonly model: tf.LayersModel,
    readonly meta: FingerprintMeta,
  ) {}

  get inputDim(): number {
    return featureLength(this.meta.spec);
  }

  /** Raw outputs for a batch of encoded rows: position (m) and per-axis variance (m², uncalibrated). */
  predictRows(rows: Float32Array, count: number): Array<{ x: number; y: number; variance: number }> {
    let data: Float32Array | Int32Array | Uint8Array = new Float32Array(0);
    tf.tidy(() => {
      const out = this.model.predict(tf.tensor2d(rows, [count, this.inputDim])) as tf.Tensor;
      data = out.dataSync();
    });
    const { cx, cy, scale } = this.meta.target;
    const res: Array<{ x: number; y: number; variance: number }> = [];
    for (let i = 0; i < count; i++) {
      // The variance head's raw output is squashed into [LOG_VAR_MIN, LOG_VAR_MAX] (same as in training).
      const s = LOG_VAR_MIN + (LOG_VAR_MAX - LOG_VAR_MIN) / (1 + Math.exp(-data[3 * i + 2]!));
      res.push({
        x: cx + scale * data[3 * i]!,
        y: cy + scale * data[3 * i + 1]!,
        variance: Math.exp(s) * scale * scale,
      });
    }
    return res;
  }

  /** Calibrated fixes for several measurement sets at once (null where no anchor of the model was heard). */
  predictMany(batch: ReadonlyArray<readonly Observation[]>): Array<Fix | null> {
    const dim = this.inputDim;
    const ok = batch.map((o) => hearsAny(this.meta.spec, o));
    const idx = batch.map((_, i) => i).filter((i) => ok[i]);
    const out: Array<Fix | null> = batch.map(() => null);
    if (idx.length === 0) return out;
    const rows = new Float32Array(idx.length * dim);
    idx.forEach((i, r) => {
      encodeStandardised(this.meta.spec, batch[i]!, rows.subarray(r * dim, (r + 1) * dim));
    });
    const pred = this.predictRows(rows, idx.length);
    const spec = this.meta.spec;
    idx.forEach((i, r) => {
      const p = pred[r]!;
      const v = Math.max(p.variance, this.meta.varFloorM2) * this.meta.covScale;
      const heard = new Set(batch[i]!.map((o) => o.anchorId));
      out[i] = {
        x: p.x,
        y: p.y,
        cov: [v, 0, v],
        model: 'fingerprint',
        anchors: spec.anchors.filter((a) => heard.has(a)).length,
      };
    });
    return out;
  }

  predict(observations: readonly Observation[]): Fix | null {
    return this.predictMany([observations])[0] ?? null;
  }

  async toArtifacts(): Promise<FingerprintArtifacts> {
    let saved: FingerprintArtifacts | null = null;
    await this.model.save(
      tf.io.withSaveHandler(async (a) => {
        saved = {
          modelTopology: a.modelTopology as object,
          weightSpecs: a.weightSpecs ?? [],
          weightData: concatWeightData(a.weightData),
        };
        return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
      }),
    );
    if (!saved) throw new Error('fingerprint: the save handler was not called');
    return saved;
  }

  static async fromArtifacts(
    artifacts: FingerprintArtifacts,
    meta: FingerprintMeta,
  ): Promise<FingerprintNet> {
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: artifacts.modelTopology,
        weightSpecs: artifacts.weightSpecs,
        weightData: artifacts.weightData,
      }),
    );
    return new FingerprintNet(model, meta);
  }

  dispose(): void {
    this.model.dispose();
  }
}

function concatWeightData(data: ArrayBuffer | ArrayBuffer[] | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  if (!Array.isArray(data)) return data;
  const total = data.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  return out.buffer;
}
