// The legend and the "walk here next" list that go with the floor plan's coverage mode.
import { errorColour } from '../coverage.js';
import { h } from '../dom.js';
import { humanize, num } from '../format.js';
import type { ModelVersionView } from '../models.js';
import type { FloorPlan } from './floor-plan.js';

export class CoveragePanel {
  readonly element = h('div', { class: 'coverage-panel', 'aria-live': 'polite' });
  private key = '';

  render(plan: FloorPlan, version: ModelVersionView | undefined, modelsError: string | null): void {
    const key = `${version?.version ?? ''}|${plan.suggestions.map((s) => `${s.x},${s.y}`).join(';')}|${modelsError}`;
    if (key === this.key) return;
    this.key = key;
    if (modelsError !== null) {
      this.element.replaceChildren(h('p', { class: 'empty' }, `Model versions unavailable: ${modelsError}`));
      return;
    }
    if (!version || version.heldOut.length === 0 || !plan.grid) {
      this.element.replaceChildren(
        h(
          'p',
          { class: 'empty' },
          version
            ? `Model ${version.version} keeps no per-point held-out errors, so coverage cannot be drawn.`
            : 'No trained model yet: walk the site with ',
          version ? null : h('code', {}, 'sbp agent calibrate'),
          version ? null : ' and train with ',
          version ? null : h('code', {}, 'sbp train'),
          version ? null : '.',
        ),
      );
      return;
    }
    const grid = plan.grid;
    const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => `${errorColour(t)} ${t * 100}%`).join(', ');
    const gradient = h('span', { class: 'gradient', 'aria-hidden': 'true' });
    gradient.style.background = `linear-gradient(to right, ${stops})`;
    this.element.replaceChildren(
      h(
        'p',
        { class: 'legend' },
        h('span', {}, '0 m'),
        gradient,
        h('span', {}, `${num(grid.scaleMax, 1)} m+ held-out error`),
        h('span', { class: 'swatch no-data', 'aria-hidden': 'true' }),
        h('span', {}, 'no calibration point near'),
      ),
      h(
        'p',
        { class: 'muted' },
        `Model ${version.version}: ${version.heldOut.length} calibration points, one every ${num(grid.spacing, 1)} m; median held-out error ${num(grid.medianError)} m.`,
      ),
      plan.suggestions.length > 0
        ? h(
            'div',
            {},
            h('h3', {}, 'Walk here next'),
            h(
              'ol',
              { class: 'suggestions' },
              ...plan.suggestions.map((s) =>
                h(
                  'li',
                  {},
                  h('strong', {}, `(${num(s.x, 1)}, ${num(s.y, 1)}) m`),
                  s.room ? ` in ${humanize(s.room)}` : '',
                  ` — ${s.reason}`,
                ),
              ),
            ),
          )
        : h('p', {}, 'Coverage is even: no spot stands out for another walk.'),
    );
  }
}
