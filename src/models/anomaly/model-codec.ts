import { AnomalyModel, type AnomalyModelData, type ForestGroup } from './behaviour-model.js';
import { FEATURE_NAMES, type FeatureConfig } from './features.js';
import { deserialiseForest, type SerialisedForest, serialiseForest } from './forest-codec.js';
import type { ThresholdState } from './thresholds.js';

/** The whole behaviour model as a JSON-safe object (written to `<version>/anomaly/model.json`). */
export interface SerialisedAnomalyModel extends Omit<AnomalyModelData, 'groups'> {
  format: 'sbp-anomaly-model';
  formatVersion: 1;
  groups: Array<Omit<ForestGroup, 'forest'> & { forest: SerialisedForest }>;
}

export function serialiseAnomalyModel(model: AnomalyModel): SerialisedAnomalyModel {
  const { groups, ...rest } = model.data;
  return {
    format: 'sbp-anomaly-model',
    formatVersion: 1,
    ...rest,
    groups: groups.map((g) => ({ ...g, features: [...g.features], forest: serialiseForest(g.forest) })),
  };
}

export function deserialiseAnomalyModel(value: unknown, version?: string): AnomalyModel {
  if (typeof value !== 'object' || value === null) throw new Error('anomaly model: not an object');
  const s = value as Partial<SerialisedAnomalyModel>;
  if (s.format !== 'sbp-anomaly-model' || s.formatVersion !== 1) {
    throw new Error(`anomaly model: unsupported format ${String(s.format)} v${String(s.formatVersion)}`);
  }
  const need = ['featureNames', 'config', 'params', 'impute', 'summary', 'groups'] as const;
  for (const k of need) if (s[k] === undefined) throw new Error(`anomaly model: missing ${k}`);
  if (!Array.isArray(s.impute) || s.impute.length !== FEATURE_NAMES.length) {
    throw new Error('anomaly model: impute must hold one value per feature');
  }
  const through = s.feedbackThrough;
  if (through !== undefined && !(Number.isInteger(through) && through >= 0)) {
    throw new Error('anomaly model: feedbackThrough must be a non-negative integer');
  }
  return new AnomalyModel({
    ...(through === undefined ? {} : { feedbackThrough: through }),
    version: version ?? s.version ?? 'unknown',
    featureNames: s.featureNames!,
    config: s.config as FeatureConfig,
    params: s.params!,
    groups: (Array.isArray(s.groups) ? s.groups : []).map((g) => {
      const t = g?.thresholds as ThresholdState | undefined;
      if (
        typeof g?.name !== 'string' ||
        !Array.isArray(g.features) ||
        t === undefined ||
        !Array.isArray(t.quantiles) ||
        !(t.tailScale > 0)
      ) {
        throw new Error('anomaly model: malformed forest group');
      }
      return { name: g.name, features: g.features, thresholds: t, forest: deserialiseForest(g.forest) };
    }),
    impute: s.impute,
    summary: s.summary!,
  });
}
