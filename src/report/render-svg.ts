import { pino } from 'pino';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { VEGA_CONFIG } from './theme.js';

const log = pino({ name: 'report', level: 'warn' });

// Vega-Lite's warnings (e.g. a dropped encoding) are a plot builder's bug, not the user's: keep them out of stdout.
const quietLogger = {
  level(): number {
    return 0;
  },
  warn(...args: readonly unknown[]) {
    log.debug({ args }, 'vega-lite warning');
    return this;
  },
  info() {
    return this;
  },
  debug() {
    return this;
  },
  error(...args: readonly unknown[]) {
    log.error({ args }, 'vega-lite error');
    return this;
  },
};

/**
 * Vega-Lite → Vega → SVG, headless: no browser, no canvas (text widths are estimated), no network — the specs carry
 * their data inline and any `url` data is refused.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile({ config: VEGA_CONFIG, ...spec }, { logger: quietLogger as never }).spec;
  const remote = (vg.data ?? []).find((d) => 'url' in d && d.url !== undefined);
  if (remote && 'url' in remote) {
    throw new Error(`report plots carry their data inline; refusing to load ${JSON.stringify(remote.url)}`);
  }
  const loader = vega.loader();
  // A report must be readable offline and reproducible: never fetch anything while rendering.
  loader.load = async (uri: string) => {
    throw new Error(`report plots carry their data inline; refusing to load ${uri}`);
  };
  const view = new vega.View(vega.parse(vg), { renderer: 'none', loader, logLevel: vega.Error });
  try {
    return compactPaths(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * Coordinates to 0.1 px (paths, transforms, positions): invisible on screen and in print, and it roughly halves the
 * size of dense plots.
 */
export function compactPaths(svg: string): string {
  return svg.replace(/ (d|transform|x|y|x1|y1|x2|y2)="([^"]*)"/g, (_m, attr: string, value: string) => {
    const short = value.replace(/-?\d+\.\d{2,}(e-?\d+)?/g, (n) => {
      const r = (Math.round(Number(n) * 10) / 10).toString();
      return r === '-0' ? '0' : r;
    });
    return ` ${attr}="${short}"`;
  });
}
