import type { IsolationForest } from './isolation-forest.js';

/** A forest as a plain JSON-safe object: typed arrays as little-endian base64, so scores survive bit for bit. */
export interface SerialisedForest {
  format: 'sbp-isolation-forest';
  formatVersion: 1;
  trees: number;
  sampleSize: number;
  cols: number;
  maxDepth: number;
  seed: number;
  treeOffset: string;
  feature: string;
  threshold: string;
  left: string;
  size: string;
  boxMin: string;
  boxMax: string;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function encode(a: Int32Array | Float64Array): string {
  if (!LITTLE_ENDIAN) throw new Error('forest serialisation needs a little-endian machine');
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function decode<T extends Int32Array | Float64Array>(
  text: unknown,
  Ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
  name: string,
): T {
  if (typeof text !== 'string') throw new Error(`serialised forest: ${name} must be a base64 string`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % Ctor.BYTES_PER_ELEMENT !== 0) {
    throw new Error(`serialised forest: ${name} has ${bytes.byteLength} bytes, not whole elements`);
  }
  // Copy into a fresh, aligned buffer (Buffer pools are not aligned for Float64Array).
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return new Ctor(copy);
}

export function serialiseForest(forest: IsolationForest): SerialisedForest {
  return {
    format: 'sbp-isolation-forest',
    formatVersion: 1,
    trees: forest.trees,
    sampleSize: forest.sampleSize,
    cols: forest.cols,
    maxDepth: forest.maxDepth,
    seed: forest.seed,
    treeOffset: encode(forest.treeOffset),
    feature: encode(forest.feature),
    threshold: encode(forest.threshold),
    left: encode(forest.left),
    size: encode(forest.size),
    boxMin: encode(forest.boxMin),
    boxMax: encode(forest.boxMax),
  };
}

/** Rebuilds a forest, checking every index so a corrupt file fails here rather than mid-scoring. */
export function deserialiseForest(value: unknown): IsolationForest {
  if (typeof value !== 'object' || value === null) throw new Error('serialised forest: not an object');
  const s = value as Partial<SerialisedForest>;
  if (s.format !== 'sbp-isolation-forest' || s.formatVersion !== 1) {
    throw new Error(`serialised forest: unsupported format ${String(s.format)} v${String(s.formatVersion)}`);
  }
  const ints = ['trees', 'sampleSize', 'cols', 'maxDepth', 'seed'] as const;
  for (const k of ints) {
    if (typeof s[k] !== 'number' || !Number.isFinite(s[k])) throw new Error(`serialised forest: bad ${k}`);
  }
  const trees = s.trees!;
  const cols = s.cols!;
  const treeOffset = decode(s.treeOffset, Int32Array, 'treeOffset');
  const feature = decode(s.feature, Int32Array, 'feature');
  const threshold = decode(s.threshold, Float64Array, 'threshold');
  const left = decode(s.left, Int32Array, 'left');
  const size = decode(s.size, Int32Array, 'size');
  const boxMin = decode(s.boxMin, Float64Array, 'boxMin');
  const boxMax = decode(s.boxMax, Float64Array, 'boxMax');
  const nodes = feature.length;
  if (
    treeOffset.length !== trees + 1 ||
    treeOffset[trees] !== nodes ||
    threshold.length !== nodes ||
    left.length !== nodes ||
    size.length !== nodes ||
    boxMin.length !== trees * cols ||
    boxMax.length !== trees * cols
  ) {
    throw new Error('serialised forest: array lengths do not agree');
  }
  for (let i = 0; i < nodes; i++) {
    const f = feature[i]!;
    if (f >= cols || f < -1) throw new Error(`serialised forest: node ${i} splits on feature ${f}`);
    if (f >= 0 && (left[i]! <= i || left[i]! + 1 >= nodes)) {
      throw new Error(`serialised forest: node ${i} has child ${left[i]}`);
    }
    if (size[i]! < 1 || size[i]! > s.sampleSize!)
      throw new Error(`serialised forest: node ${i} has size ${size[i]}`);
  }
  return {
    trees,
    sampleSize: s.sampleSize!,
    cols,
    maxDepth: s.maxDepth!,
    seed: s.seed!,
    treeOffset,
    feature,
    threshold,
    left,
    size,
    boxMin,
    boxMax,
  };
}
