import { readFile } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HubPlugin } from '../build-hub.js';
import { sendError } from '../rest-routes.js';
import { type Asset, buildDashboardAssets, WEB_ROOT } from './bundle.js';
import { ModelVersionReader } from './model-versions.js';

export interface DashboardOptions {
  /**
   * The site (bounds, rooms, anchors) served at `GET /api/site`: a site.json path, the parsed object, or a function
   * returning it (the demo's simulated site). @defaultValue the site kept by the live model of `modelDir`, else none
   * (`/api/site` answers 404)
   */
  site?: string | object | (() => unknown);
  /** Model directory whose versions `GET /api/models` lists. @defaultValue none (an empty, unconfigured list) */
  modelDir?: string;
  /** Where the page's sources live. @defaultValue the package's `web/` */
  webRoot?: string;
}

/** The page itself holds no data, so it is served without a token; everything it shows comes from the token APIs. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

function serve(request: FastifyRequest, reply: FastifyReply, a: Asset): FastifyReply {
  reply.headers(PAGE_HEADERS).header('etag', a.etag);
  if (request.headers['if-none-match'] === a.etag) return reply.code(304).send();
  return reply.type(a.contentType).send(a.body);
}

async function loadSite(site: NonNullable<DashboardOptions['site']>): Promise<unknown> {
  if (typeof site === 'string') return JSON.parse(await readFile(site, 'utf8')) as unknown;
  if (typeof site === 'function') return await site();
  return site;
}

/**
 * The web dashboard (issue #8): the page at `/`, its bundle under `/assets/`, and the two read-only APIs it needs
 * beside the hub's own: `GET /api/site` and `GET /api/models` (viewer or agent token, like every `/api/*`).
 * Register with `buildHub(config, { ...deps, plugins: [dashboardPlugin({ site, modelDir })] })`.
 */
export function dashboardPlugin(options: DashboardOptions = {}): HubPlugin {
  return async (app, hub) => {
    // A wrong --site path stops start-up with its reason rather than surfacing later as a 500.
    if (typeof options.site === 'string') {
      try {
        await loadSite(options.site);
      } catch (error) {
        throw new Error(`site file ${options.site}: ${(error as Error).message}`);
      }
    }
    const assets = await buildDashboardAssets(options.webRoot ?? WEB_ROOT);
    const models = new ModelVersionReader(options.modelDir);

    app.get('/', (request, reply) => serve(request, reply, assets.get('index.html')!));
    app.get<{ Params: { file: string } }>('/assets/:file', (request, reply) => {
      const a = assets.get(`assets/${request.params.file}`);
      if (a === undefined) return sendError(reply, 404, 'NOT_FOUND', 'no such asset');
      return serve(request, reply, a);
    });

    const guard = async (request: FastifyRequest, reply: FastifyReply) => {
      if (hub.authenticate(request) === undefined) {
        return sendError(reply, 401, 'AUTH_FAILED', 'missing or unknown token');
      }
      return undefined;
    };

    app.get('/api/site', { onRequest: guard }, async (request, reply) => {
      try {
        const site = options.site === undefined ? await models.siteOfLatest() : await loadSite(options.site);
        if (site === undefined) {
          return sendError(
            reply,
            404,
            'NOT_FOUND',
            'no site: start the hub with --site FILE, or train a model (its site is used)',
          );
        }
        return site;
      } catch (error) {
        request.log.error({ err: error }, 'site file unreadable');
        return reply.code(500).send({
          statusCode: 500,
          code: 'SITE_UNREADABLE',
          error: 'Internal Server Error',
          message: `the site file could not be read: ${(error as Error).message}`,
        });
      }
    });

    app.get<{ Querystring: { limit?: string } }>(
      '/api/models',
      { onRequest: guard },
      async (request, reply) => {
        const limit = request.query.limit === undefined ? 20 : Number(request.query.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          return sendError(reply, 400, 'INVALID_DATA', 'limit must be an integer 1..1000');
        }
        return models.read(limit);
      },
    );
  };
}
