import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The web dashboard's sources (`web/`), next to `src/` in the package. */
export const WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

export interface Asset {
  body: Buffer;
  contentType: string;
  /** Strong validator for conditional GETs. */
  etag: string;
}

const STATIC_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'styles.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

function asset(body: Buffer | string, contentType: string): Asset {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  return {
    body: buf,
    contentType,
    etag: `"${createHash('sha256').update(buf).digest('base64url').slice(0, 22)}"`,
  };
}

/**
 * Bundles `web/src/main.ts` (plain TypeScript, no framework) with esbuild in memory, and reads the static files of
 * `web/public/`. Runs once when the hub starts (about 50 ms), so a fresh clone serves the page with no build step.
 * Keys are the paths under `/` the page uses: `index.html`, `assets/app.js`, `assets/app.js.map`, ...
 */
export async function buildDashboardAssets(webRoot: string = WEB_ROOT): Promise<Map<string, Asset>> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [`${webRoot}/src/main.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: 'linked',
    outdir: '/assets',
    entryNames: 'app',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const assets = new Map<string, Asset>();
  for (const file of result.outputFiles) {
    const name = file.path.replace(/^.*[\\/]/, '');
    const type = name.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8';
    assets.set(`assets/${name}`, asset(Buffer.from(file.contents), type));
  }
  for (const [name, type] of Object.entries(STATIC_FILES)) {
    const body = await readFile(`${webRoot}/public/${name}`);
    assets.set(name === 'index.html' ? name : `assets/${name}`, asset(body, type));
  }
  return assets;
}
