import type { BiasGrid } from './bias-map.js';
import type { AnchorPosition, Bounds, MultilaterationParams } from './multilateration-params.js';
import { searchBox, termTable } from './multilateration-start-grid.js';
import { channelTemplate, makeTerm, type Term } from './multilateration-terms.js';
import type { Observation } from './observation.js';
import type { AnchorRanging } from './ranging.js';

// A model's terms prepared once: per anchor, everything of its terms but the measured value, with the start-grid
// tables precomputed. A fix then only fills in its measurements (the live path without allocating, `TermPool`).

/** Per anchor, its terms without the measured value (and their start-grid tables): built once per model. */
export interface AnchorTermTemplates {
  range: Omit<Term, 'value'> | null;
  /** Range correction: value = (range − offsetM)/scale, as `correctRange`. */
  offsetM: number;
  scale: number;
  rssi: Omit<Term, 'value'> | null;
}

/**
 * What `buildTerms` would build for every anchor, minus the measurement, with the start-grid tables of the box
 * `bounds ± params.marginM` precomputed. `termsFromTemplates` then builds a fix's terms without lookups by name.
 */
export function termTemplates(
  anchors: ReadonlyMap<string, AnchorPosition>,
  ranging: ReadonlyMap<string, AnchorRanging>,
  params: MultilaterationParams,
  bounds: Bounds,
  bias?: ReadonlyMap<string, BiasGrid>,
): Map<string, AnchorTermTemplates> {
  const box = searchBox(bounds, params.marginM);
  const out = new Map<string, AnchorTermTemplates>();
  for (const [id, a] of anchors) {
    const r = ranging.get(id);
    if (!r) continue;
    const dz2 = a.z === undefined ? 0 : (a.z - params.deviceHeight) ** 2;
    const range =
      params.useRtt && r.rtt?.informative ? channelTemplate(id, a, dz2, 0, r.rtt.sigmaM, 0, 0, bias) : null;
    if (range) range.table = termTable(range, box, params.gridPoints);
    const rssi =
      params.useRssi && r.rssi
        ? channelTemplate(id, a, dz2, 1, r.rssi.sigmaDb, r.rssi.p0, 10 * r.rssi.exponent, bias)
        : null;
    if (rssi) rssi.table = termTable(rssi, box, params.gridPoints);
    if (range || rssi) {
      out.set(id, { range, rssi, offsetM: r.rtt?.offsetM ?? 0, scale: r.rtt?.scale ?? 1 });
    }
  }
  return out;
}

/** The same terms as `buildTerms` (same order, same values), from templates. */
export function termsFromTemplates(
  observations: readonly Observation[],
  templates: ReadonlyMap<string, AnchorTermTemplates>,
): Term[] {
  const terms: Term[] = [];
  for (const o of observations) {
    const tp = templates.get(o.anchorId);
    if (!tp) continue;
    if (tp.range && o.range !== undefined) {
      terms.push(makeTerm(tp.range, (o.range - tp.offsetM) / tp.scale));
    }
    if (tp.rssi && o.rssi !== undefined) terms.push(makeTerm(tp.rssi, o.rssi));
  }
  return terms;
}

/**
 * Reusable terms of one model's templates, for a caller that is done with a fix's terms before it builds the next
 * fix's (the live path): `termsFromTemplates` without allocating the terms or the array.
 */
export class TermPool {
  private readonly terms = new Map<Omit<Term, 'value'>, Term>();
  private readonly out: Term[] = [];

  /** The same terms as `termsFromTemplates` (same order, same values); valid until the next call. */
  build(observations: readonly Observation[], templates: ReadonlyMap<string, AnchorTermTemplates>): Term[] {
    const out = this.out;
    out.length = 0;
    for (const o of observations) {
      const tp = templates.get(o.anchorId);
      if (!tp) continue;
      if (tp.range && o.range !== undefined) out.push(this.term(tp.range, (o.range - tp.offsetM) / tp.scale));
      if (tp.rssi && o.rssi !== undefined) out.push(this.term(tp.rssi, o.rssi));
    }
    return out;
  }

  private term(template: Omit<Term, 'value'>, value: number): Term {
    const t = this.terms.get(template);
    if (t === undefined) {
      const made = makeTerm(template, value);
      this.terms.set(template, made);
      return made;
    }
    // An anchor listed twice in one fix: its second term is a fresh one.
    if (this.out.includes(t)) return makeTerm(template, value);
    t.value = value;
    return t;
  }
}
