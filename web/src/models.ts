// Model versions as the page shows them, read from GET /api/models: each version's metadata.json (the model
// directory's format, docs/models.md). Metric names are looked up by name at any depth, so the page keeps working
// while trainers add fields.

export interface Metric {
  key: string;
  label: string;
  value: number;
  unit: 'm' | '%' | '' | 'ms';
}

export interface HeldOutPoint {
  x: number;
  y: number;
  /** Held-out position error in metres. */
  error: number;
  room?: string;
}

export interface ModelVersionView {
  version: string;
  createdAt?: number;
  latest: boolean;
  parent?: string;
  positioning: Metric[];
  anomaly: Metric[];
  /** Per-point cross-validated errors of the calibration walk, when the trainer kept them. */
  heldOut: HeldOutPoint[];
  /** Calibration positions without an error (fallback for the coverage view). */
  walkPoints: { x: number; y: number }[];
  hasPositioning: boolean;
  hasAnomaly: boolean;
}

const POSITIONING_METRICS: readonly [string, string, Metric['unit']][] = [
  ['meanError', 'mean', 'm'],
  ['medianError', 'median', 'm'],
  ['p90Error', 'p90', 'm'],
  ['p95Error', 'p95', 'm'],
  ['roomAccuracy', 'room', '%'],
  ['coverage95', '95% radius holds', '%'],
  ['located', 'located', '%'],
  ['n', 'samples', ''],
];
const ANOMALY_METRICS: readonly [string, string, Metric['unit']][] = [
  ['auc', 'ROC AUC', ''],
  ['prAuc', 'PR AUC', ''],
  ['threshold', 'threshold', ''],
  ['alertsPerWeek', 'alerts / week', ''],
  ['precision', 'precision', '%'],
  ['recall', 'recall', '%'],
  ['rows', 'rows', ''],
];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Breadth-first: the shallowest number stored under `key`. */
function findNumber(root: unknown, key: string, maxDepth = 4): number | undefined {
  let level: unknown[] = [root];
  for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const node of level) {
      if (!isRecord(node)) continue;
      const v = node[key];
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      for (const child of Object.values(node)) if (isRecord(child)) next.push(child);
    }
    level = next;
  }
  return undefined;
}

/**
 * Where a trainer reports several estimators' held-out metrics side by side (`cv: {knn: {…}, fusion: {…}}`) and names
 * the one the model uses (`primary: "fusion"`), that one's metrics are the model's.
 */
function primaryMetrics(root: unknown, maxDepth = 4): unknown {
  let level: unknown[] = [root];
  for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const node of level) {
      if (!isRecord(node)) continue;
      if (typeof node.primary === 'string' && isRecord(node.cv) && isRecord(node.cv[node.primary])) {
        return node.cv[node.primary];
      }
      // `heldOut: {meanError…}` (the model's) beside `crossValidation: {knn: {…}, fusion: {…}}`: the estimator whose
      // figures are the model's is the one the model uses; its other metrics (n, p95, coverage) complete them.
      const held = node.heldOut;
      const heldMean = isRecord(held) ? held.meanError : undefined;
      if (isRecord(held) && typeof heldMean === 'number') {
        for (const sibling of Object.values(node)) {
          if (!isRecord(sibling) || sibling === held) continue;
          const match = Object.values(sibling).find(
            (e) => isRecord(e) && typeof e.meanError === 'number' && Math.abs(e.meanError - heldMean) < 1e-9,
          );
          if (isRecord(match)) return { ...match, ...held };
        }
      }
      for (const child of Object.values(node)) if (isRecord(child)) next.push(child);
    }
    level = next;
  }
  return root;
}

function metrics(root: unknown, table: typeof POSITIONING_METRICS): Metric[] {
  root = primaryMetrics(root);
  if (!isRecord(root)) return [];
  const out: Metric[] = [];
  for (const [key, label, unit] of table) {
    const value = findNumber(root, key);
    if (value !== undefined) out.push({ key, label, value, unit });
  }
  return out;
}

const ERROR_KEYS = ['error', 'err', 'errorM', 'errorMetres', 'heldOutError'];

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Finds arrays of {x, y, error} (held-out) and of {x, y} (walk points) anywhere in the metadata. */
function findPointArrays(root: unknown): { heldOut: HeldOutPoint[]; walk: { x: number; y: number }[] } {
  let heldOut: HeldOutPoint[] = [];
  let walk: { x: number; y: number }[] = [];
  const visit = (node: unknown, depth: number): void => {
    if (depth > 5) return;
    if (Array.isArray(node)) {
      const first = node[0];
      if (isRecord(first) && finite(first.x) && finite(first.y)) {
        const errorKey = ERROR_KEYS.find((k) => finite(first[k]));
        if (errorKey && heldOut.length === 0) {
          heldOut = node.flatMap((p): HeldOutPoint[] => {
            const error = isRecord(p) ? p[errorKey] : undefined;
            if (!isRecord(p) || !finite(p.x) || !finite(p.y) || !finite(error)) return [];
            const point: HeldOutPoint = { x: p.x, y: p.y, error };
            if (typeof p.room === 'string') point.room = p.room;
            return [point];
          });
        } else if (!errorKey && walk.length === 0) {
          walk = node.flatMap((p) => (isRecord(p) && finite(p.x) && finite(p.y) ? [{ x: p.x, y: p.y }] : []));
        }
      }
      return;
    }
    if (isRecord(node)) for (const child of Object.values(node)) visit(child, depth + 1);
  };
  visit(root, 0);
  return { heldOut, walk };
}

function versionOf(raw: unknown, latestName: string | undefined): ModelVersionView | null {
  if (!isRecord(raw)) return null;
  const meta = isRecord(raw.metadata) ? raw.metadata : raw;
  const version = typeof raw.version === 'string' ? raw.version : meta.version;
  if (typeof version !== 'string') return null;
  const created = typeof meta.createdAt === 'string' ? Date.parse(meta.createdAt) : Number.NaN;
  const points = findPointArrays(meta.positioning);
  const view: ModelVersionView = {
    version,
    latest: raw.latest === true || version === latestName,
    positioning: metrics(meta.positioning, POSITIONING_METRICS),
    anomaly: metrics(meta.anomaly, ANOMALY_METRICS),
    heldOut: points.heldOut,
    walkPoints: points.walk.length > 0 ? points.walk : points.heldOut.map((p) => ({ x: p.x, y: p.y })),
    hasPositioning: isRecord(meta.positioning),
    hasAnomaly: isRecord(meta.anomaly),
  };
  if (!Number.isNaN(created)) view.createdAt = created;
  if (typeof meta.parent === 'string') view.parent = meta.parent;
  return view;
}

/** Reads GET /api/models: `{latest, versions: [...]}` or a bare array; newest first. */
export function parseModels(raw: unknown): ModelVersionView[] {
  const list = Array.isArray(raw) ? raw : isRecord(raw) && Array.isArray(raw.versions) ? raw.versions : [];
  const latest = isRecord(raw) && typeof raw.latest === 'string' ? raw.latest : undefined;
  const out = list.flatMap((v) => {
    const view = versionOf(v, latest);
    return view ? [view] : [];
  });
  // Version names sort by creation time (src/training/model-dir.ts).
  return out.sort((a, b) => (a.version < b.version ? 1 : a.version > b.version ? -1 : 0));
}

/** The version workers run: the one LATEST names, else the newest. */
export function liveVersion(versions: readonly ModelVersionView[]): ModelVersionView | undefined {
  return versions.find((v) => v.latest) ?? versions[0];
}
