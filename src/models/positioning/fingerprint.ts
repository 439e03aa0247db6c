import { encodeStandardised, type FeatureSpec, featureLength, heardCount } from './features.js';
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
  /** Widths of one member's hidden layers. */
  hidden: number[];
  /**
   * Networks in the ensemble (absent: 1). The stored dense stack holds them all: first-layer kernels side by side,
   * later ones block-diagonal, member k's outputs in columns 3k..3k+2.
   */
  members?: number;
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
  outputs = 3,
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
      units: outputs,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 100 }),
      ...(hidden.length === 0 ? { inputShape: [inputDim] } : {}),
    }),
  );
  return model;
}

interface PlainDense {
  units: number;
  /** The float32 weights of TF.js, widened once. */
  kernel: Float64Array;
  bias: Float64Array;
  relu: boolean;
}

export class FingerprintNet {
  constructor(
    readonly model: tf.LayersModel,
    readonly meta: FingerprintMeta,
  ) {}

  /**
   * How scoring runs: `plain` (default) the typed-array forward pass, `tfjs` through `model.predict` — kept for the
   * benchmark's baseline and the equality test; both give the same outputs to 1e-5.
   */
  inference: 'plain' | 'tfjs' = 'plain';

  get inputDim(): number {
    return featureLength(this.meta.spec);
  }

  get members(): number {
    return this.meta.members ?? 1;
  }

  /**
   * Raw outputs for a batch of encoded rows: position (m) and per-axis variance (m², uncalibrated). Runs the
   * plain typed-array forward pass (`forwardRows`); `predictRowsTf` is the same through `model.predict`.
   */
  predictRows(rows: Float32Array, count: number): Array<{ x: number; y: number; variance: number }> {
    if (this.inference === 'tfjs') return this.predictRowsTf(rows, count);
    const out = new Float64Array(3 * this.members * count);
    this.forwardRows(rows, count, out);
    return this.decode(out, count);
  }

  /** The same outputs through TF.js (`model.predict` in `tf.tidy`): the reference the plain pass is tested against. */
  predictRowsTf(rows: Float32Array, count: number): Array<{ x: number; y: number; variance: number }> {
    let data: Float32Array | Int32Array | Uint8Array = new Float32Array(0);
    tf.tidy(() => {
      const out = this.model.predict(tf.tensor2d(rows, [count, this.inputDim])) as tf.Tensor;
      data = out.dataSync();
    });
    return this.decode(data, count);
  }

  /**
   * Raw outputs (3 per member per row) → the ensemble's position and per-axis variance: the members' mean, and
   * their mean variance plus their spread about the mean (the mixture's variance, made isotropic).
   */
  private decode(data: ArrayLike<number>, count: number): Array<{ x: number; y: number; variance: number }> {
    const { cx, cy, scale } = this.meta.target;
    const M = this.members;
    const res: Array<{ x: number; y: number; variance: number }> = [];
    for (let i = 0; i < count; i++) {
      let mx = 0;
      let my = 0;
      let mv = 0;
      for (let k = 0; k < M; k++) {
        const o = 3 * (i * M + k);
        mx += data[o]!;
        my += data[o + 1]!;
        // The variance head's raw output is squashed into [LOG_VAR_MIN, LOG_VAR_MAX] (same as in training).
        mv += Math.exp(LOG_VAR_MIN + (LOG_VAR_MAX - LOG_VAR_MIN) / (1 + Math.exp(-data[o + 2]!)));
      }
      mx /= M;
      my /= M;
      let spread = 0;
      for (let k = 0; k < M; k++) {
        const o = 3 * (i * M + k);
        spread += (data[o]! - mx) ** 2 + (data[o + 1]! - my) ** 2;
      }
      res.push({
        x: cx + scale * mx,
        y: cy + scale * my,
        variance: (mv / M + spread / (2 * M)) * scale * scale,
      });
    }
    return res;
  }

  /**
   * The network's raw outputs (3 per member per row) by a plain forward pass over its dense layers' weights, copied
   * once out of TF.js. Per call, `model.predict` costs tens of µs of graph and tensor bookkeeping for a few thousand
   * multiply-adds; this loop costs a few µs (bench/positioning/positioner-speed.ts compares both; the test holds
   * them equal to 1e-5). After the first layer, each member's units read only its own block of the layer before
   * (the kernel is block-diagonal), so the loop skips the zeros between members. Weights are float32 as in TF.js,
   * sums in float64.
   */
  forwardRows(rows: Float32Array, count: number, out: Float64Array): void {
    const layers = this.plainLayers();
    const dim = this.inputDim;
    const M = this.members;
    const width = 3 * M;
    const [a, b] = this.scratch!;
    for (let r = 0; r < count; r++) {
      // Activations ping-pong between a and b; the input row is copied into a first.
      for (let i = 0; i < dim; i++) a[i] = rows[r * dim + i]!;
      let input = a;
      let output = b;
      let inDim = dim;
      for (let li = 0; li < layers.length; li++) {
        const l = layers[li]!;
        const units = l.units;
        const k = l.kernel;
        for (let j = 0; j < units; j++) output[j] = l.bias[j]!;
        // Kernel is row-major [inDim, units]: one input times one contiguous kernel run per step. The first layer
        // is dense (every member reads the whole input); later ones are M blocks [inDim/M, units/M].
        const blocks = li === 0 ? 1 : M;
        const inBlock = inDim / blocks;
        const outBlock = units / blocks;
        for (let blk = 0; blk < blocks; blk++) {
          const j0 = li === 0 ? 0 : blk * outBlock;
          const j1 = li === 0 ? units : j0 + outBlock;
          for (let i = blk * inBlock, iEnd = i + inBlock; i < iEnd; i++) {
            const v = input[i]!;
            if (v === 0) continue;
            for (let j = j0, o = i * units + j0; j < j1; j++, o++) output[j]! += v * k[o]!;
          }
        }
        if (l.relu) for (let j = 0; j < units; j++) if (output[j]! < 0) output[j] = 0;
        inDim = units;
        const t = input;
        input = output;
        output = t;
      }
      for (let j = 0; j < width; j++) out[width * r + j] = input[j]!;
    }
  }

  private plain: PlainDense[] | null = null;
  private scratch: [Float64Array, Float64Array] | null = null;

  private plainLayers(): PlainDense[] {
    if (!this.plain) {
      this.plain = this.model.layers.map((layer, i) => {
        const config = layer.getConfig() as { activation?: string };
        const activation = config.activation ?? 'linear';
        if (activation !== 'relu' && activation !== 'linear') {
          throw new Error(
            `fingerprint: layer ${i} has activation ${activation} (the plain pass knows relu, linear)`,
          );
        }
        const [kernel, bias] = layer.getWeights();
        if (!kernel || !bias || kernel.shape.length !== 2) {
          throw new Error(`fingerprint: layer ${i} is not a dense layer with a bias`);
        }
        return {
          units: kernel.shape[1]!,
          kernel: Float64Array.from(kernel.dataSync()),
          bias: Float64Array.from(bias.dataSync()),
          relu: activation === 'relu',
        };
      });
      const last = this.plain[this.plain.length - 1];
      if (last?.units !== 3 * this.members) {
        throw new Error(`fingerprint: the last layer must have 3 outputs per member (${3 * this.members})`);
      }
      const M = this.members;
      if (this.plain.some((l) => l.units % M !== 0)) {
        throw new Error(`fingerprint: layer widths must divide into ${M} members`);
      }
      const width = Math.max(this.inputDim, ...this.plain.map((l) => l.units));
      this.scratch = [new Float64Array(width), new Float64Array(width)];
    }
    return this.plain;
  }

  /** Calibrated fixes for several measurement sets at once (null where no anchor of the model was heard). */
  predictMany(batch: ReadonlyArray<readonly Observation[]>): Array<Fix | null> {
    const dim = this.inputDim;
    const spec = this.meta.spec;
    const idx: number[] = [];
    const heard: number[] = [];
    for (let i = 0; i < batch.length; i++) {
      const h = heardCount(spec, batch[i]!);
      if (h > 0) {
        idx.push(i);
        heard.push(h);
      }
    }
    const out: Array<Fix | null> = batch.map(() => null);
    if (idx.length === 0) return out;
    const rows = new Float32Array(idx.length * dim);
    idx.forEach((i, r) => {
      encodeStandardised(spec, batch[i]!, rows.subarray(r * dim, (r + 1) * dim));
    });
    const pred = this.predictRows(rows, idx.length);
    idx.forEach((i, r) => {
      const p = pred[r]!;
      const v = Math.max(p.variance, this.meta.varFloorM2) * this.meta.covScale;
      out[i] = { x: p.x, y: p.y, cov: [v, 0, v], model: 'fingerprint', anchors: heard[r]! };
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
