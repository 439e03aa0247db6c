// Model versions and their metrics, the live one (LATEST) first and marked.
import { h } from '../dom.js';
import { ago, num } from '../format.js';
import type { Metric, ModelVersionView } from '../models.js';

function metricText(m: Metric): string {
  if (m.unit === '%') return `${Math.round(m.value * (m.value <= 1 ? 100 : 1))}%`;
  if (m.unit === 'm') return `${num(m.value)} m`;
  if (m.unit === 'ms') return `${num(m.value, 0)} ms`;
  return num(m.value, 3);
}

function metricList(metrics: readonly Metric[], present: boolean): HTMLElement {
  if (metrics.length === 0) return h('span', { class: 'muted' }, present ? 'no metrics recorded' : '–');
  return h(
    'dl',
    { class: 'metrics' },
    ...metrics.flatMap((m) => [h('dt', {}, m.label), h('dd', {}, metricText(m))]),
  );
}

export class ModelsPanel {
  readonly element = h('div', { class: 'models' });

  render(versions: readonly ModelVersionView[] | string, now: number): void {
    if (typeof versions === 'string') {
      this.element.replaceChildren(
        h('p', { class: 'empty' }, versions.charAt(0).toUpperCase() + versions.slice(1)),
      );
      return;
    }
    if (versions.length === 0) {
      this.element.replaceChildren(
        h('p', { class: 'empty' }, 'No trained model yet. Train one with ', h('code', {}, 'sbp train'), '.'),
      );
      return;
    }
    this.element.replaceChildren(
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          {},
          h('caption', { class: 'visually-hidden' }, 'Model versions and their metrics'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Version'),
              h('th', { scope: 'col' }, 'Created'),
              h('th', { scope: 'col' }, 'Positioning (held-out)'),
              h('th', { scope: 'col' }, 'Anomaly'),
            ),
          ),
          h(
            'tbody',
            {},
            ...versions.map((v) =>
              h(
                'tr',
                { class: v.latest ? 'live' : '', 'data-version': v.version },
                h(
                  'th',
                  { scope: 'row' },
                  h('code', {}, v.version),
                  v.latest ? h('span', { class: 'badge live-badge' }, 'live') : null,
                ),
                h('td', {}, v.createdAt !== undefined ? ago(v.createdAt, now) : '–'),
                h('td', {}, metricList(v.positioning, v.hasPositioning)),
                h('td', {}, metricList(v.anomaly, v.hasAnomaly)),
              ),
            ),
          ),
        ),
      ),
    );
  }
}
