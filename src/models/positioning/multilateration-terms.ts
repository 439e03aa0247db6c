import type { BiasGrid } from './bias-map.js';
import type { AnchorPosition, Bounds, MultilaterationParams } from './multilateration-params.js';
import type { Observation } from './observation.js';
import { type AnchorRanging, correctRange } from './ranging.js';

// The residual terms the multilateration solver fits: one per heard range and RSSI of an anchor, and the linear
// pseudo-measurements of a prior. `buildTerms` makes them from the observations by anchor name; a model's fixes
// use the precomputed templates of multilateration-templates.ts instead (same terms).

/** One residual term, already normalised by its σ. */
export interface Term {
  ax: number;
  ay: number;
  /** Squared vertical offset anchor–device, m². */
  dz2: number;
  /**
   * 0: corrected range (value in m); 1: RSSI (value in dBm); 2: a linear pseudo-measurement of the position
   * (a whitened Gaussian prior: r = value − (ax·x + ay·y)), see `priorTerms`.
   */
  kind: 0 | 1 | 2;
  value: number;
  sigma: number;
  p0: number;
  /** 10·n. */
  n10: number;
  anchor: string;
  /** Location-dependent bias of this anchor and channel (same units as value), when the model has a bias map. */
  bias?: BiasGrid | undefined;
  /** log(σ_local/σ): the local noise of this anchor and channel, when the model's bias map has one. */
  logScale?: BiasGrid | undefined;
  /** Everything but the measured value, precomputed at the start grid's points (see `termTemplates`). */
  table?: TermTable | undefined;
}

/**
 * A term's measurement-independent parts at every point of the start grid of one box: predicted value (corrected
 * range d, or 10n·log10 d for RSSI), bias, local σ and log(σ_local/σ). With it the grid's cost is a few
 * operations per point and term, with exactly the arithmetic of the direct evaluation (same results).
 */
export interface TermTable {
  box: Bounds;
  nx: number;
  ny: number;
  pred: Float64Array;
  bias: Float64Array;
  sigma: Float64Array;
  logScale: Float64Array;
}

/**
 * Every term is built here, with its fields in one order: the solver's hot loops then see a single object shape
 * (spreads and literals with other field orders made them polymorphic and slower). Same values as before.
 */
export function makeTerm(t: Omit<Term, 'value'>, value: number): Term {
  return {
    ax: t.ax,
    ay: t.ay,
    dz2: t.dz2,
    kind: t.kind,
    value,
    sigma: t.sigma,
    p0: t.p0,
    n10: t.n10,
    anchor: t.anchor,
    bias: t.bias,
    logScale: t.logScale,
    table: t.table,
  };
}

/**
 * One range (kind 0) or RSSI (kind 1) term without its value (no start-grid table): what `buildTerms` measures into
 * and `termTemplates` precomputes. The two channels differ only in kind, σ, p0, n10 and the keys of their bias maps
 * (`${anchor}|range` or `${anchor}|rssi`, `|ls` appended for the local σ).
 */
export function channelTemplate(
  anchor: string,
  a: AnchorPosition,
  dz2: number,
  kind: 0 | 1,
  sigma: number,
  p0: number,
  n10: number,
  bias: ReadonlyMap<string, BiasGrid> | undefined,
): Omit<Term, 'value'> {
  const channel = kind === 0 ? 'range' : 'rssi';
  return {
    bias: bias?.get(`${anchor}|${channel}`),
    logScale: bias?.get(`${anchor}|${channel}|ls`),
    table: undefined,
    ax: a.x,
    ay: a.y,
    dz2,
    kind,
    sigma,
    p0,
    n10,
    anchor,
  };
}

export function buildTerms(
  observations: readonly Observation[],
  anchors: ReadonlyMap<string, AnchorPosition>,
  ranging: ReadonlyMap<string, AnchorRanging>,
  params: Pick<MultilaterationParams, 'useRssi' | 'useRtt' | 'deviceHeight'>,
  bias?: ReadonlyMap<string, BiasGrid>,
): Term[] {
  const terms: Term[] = [];
  for (const o of observations) {
    const a = anchors.get(o.anchorId);
    const r = ranging.get(o.anchorId);
    if (!a || !r) continue;
    const dz2 = a.z === undefined ? 0 : (a.z - params.deviceHeight) ** 2;
    if (params.useRtt && o.range !== undefined && r.rtt?.informative) {
      terms.push(
        makeTerm(
          channelTemplate(o.anchorId, a, dz2, 0, r.rtt.sigmaM, 0, 0, bias),
          correctRange(r.rtt, o.range),
        ),
      );
    }
    if (params.useRssi && o.rssi !== undefined && r.rssi) {
      terms.push(
        makeTerm(
          channelTemplate(o.anchorId, a, dz2, 1, r.rssi.sigmaDb, r.rssi.p0, 10 * r.rssi.exponent, bias),
          o.rssi,
        ),
      );
    }
  }
  return terms;
}

export function countAnchors(terms: readonly Term[]): number {
  let n = 0;
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i]!;
    if (t.kind === 2) continue;
    let seen = false;
    for (let j = 0; j < i; j++) {
      if (terms[j]!.kind !== 2 && terms[j]!.anchor === t.anchor) {
        seen = true;
        break;
      }
    }
    if (!seen) n++;
  }
  return n;
}

/**
 * A Gaussian prior on the position N(mean, cov) as two whitened linear residuals (L⁻¹(θ − mean) with cov = LLᵀ),
 * so the solver treats it like any measurement — under the same robust loss, so strong evidence can overrule it.
 */
export function priorTerms(mean: { x: number; y: number }, cov: readonly [number, number, number]): Term[] {
  const l11 = Math.sqrt(Math.max(cov[0], 1e-9));
  const l21 = cov[1] / l11;
  const l22 = Math.sqrt(Math.max(cov[2] - l21 * l21, 1e-9));
  const a2 = -l21 / (l11 * l22);
  const b2 = 1 / l22;
  return [priorTerm(1 / l11, 0, mean.x / l11), priorTerm(a2, b2, a2 * mean.x + b2 * mean.y)];
}

function priorTerm(ax: number, ay: number, value: number): Term {
  return {
    ax,
    ay,
    dz2: 0,
    kind: 2,
    value,
    sigma: 1,
    p0: 0,
    n10: 0,
    anchor: 'prior',
    bias: undefined,
    logScale: undefined,
    table: undefined,
  };
}
