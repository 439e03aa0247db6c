import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoHomeScenario } from '../../../src/sim/index.js';
import {
  AGENT_TOKEN,
  type DashboardHub,
  makeModelDir,
  removeDir,
  SITE,
  startDashboardHub,
  VIEWER_TOKEN,
} from '../../web/helpers.js';

const auth = { authorization: `Bearer ${VIEWER_TOKEN}` };

describe('dashboard plugin: page, assets, /api/site, /api/models', () => {
  let hub: DashboardHub;
  let models: Awaited<ReturnType<typeof makeModelDir>>;

  beforeAll(async () => {
    models = await makeModelDir();
    hub = await startDashboardHub({ site: SITE, modelDir: models.root });
  });
  afterAll(async () => {
    await hub?.close();
    if (models) await removeDir(models.root);
  });

  it('serves the page and its bundle without a token, with a strict CSP and validators', async () => {
    const page = await hub.hub.app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('<script type="module" src="assets/app.js">');
    const app = await hub.hub.app.inject({ url: '/assets/app.js' });
    expect(app.statusCode).toBe(200);
    expect(app.headers['content-type']).toMatch(/^text\/javascript/);
    // Bundled and minified TypeScript: no import left for the browser to resolve, no type syntax.
    expect(app.body).not.toMatch(/^import /m);
    expect(app.body.length).toBeGreaterThan(10_000);
    expect(app.body.length).toBeLessThan(120_000);
    const again = await hub.hub.app.inject({
      url: '/assets/app.js',
      headers: { 'if-none-match': String(app.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    expect((await hub.hub.app.inject({ url: '/assets/styles.css' })).statusCode).toBe(200);
    expect((await hub.hub.app.inject({ url: '/assets/nope.js' })).statusCode).toBe(404);
  });

  it('answers /api/site and /api/models only with a token (viewer or agent)', async () => {
    for (const url of ['/api/site', '/api/models']) {
      expect((await hub.hub.app.inject({ url })).statusCode).toBe(401);
      expect((await hub.hub.app.inject({ url, headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(
        401,
      );
      expect((await hub.hub.app.inject({ url, headers: auth })).statusCode).toBe(200);
      expect(
        (await hub.hub.app.inject({ url, headers: { authorization: `Bearer ${AGENT_TOKEN}` } })).statusCode,
      ).toBe(200);
    }
    expect((await hub.hub.app.inject({ url: '/api/site', headers: auth })).json()).toEqual(SITE);
    const list = (await hub.hub.app.inject({ url: '/api/models', headers: auth })).json();
    expect(list).toMatchObject({ configured: true, latest: models.latest });
    expect(list.versions.map((v: { version: string }) => v.version)).toEqual([models.latest, models.older]);
    const bad = await hub.hub.app.inject({ url: '/api/models?limit=0', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('INVALID_DATA');
  });

  it('without a site file, serves the site the live model was trained on, else 404', async () => {
    const bare = await startDashboardHub({});
    const fromModel = await startDashboardHub({ modelDir: models.root });
    try {
      const none = await bare.hub.app.inject({ url: '/api/site', headers: auth });
      expect(none.statusCode).toBe(404);
      expect(none.json().message).toContain('--site');
      expect((await bare.hub.app.inject({ url: '/api/models', headers: auth })).json()).toEqual({
        configured: false,
        latest: null,
        versions: [],
      });
      // No positioning model in the live version yet: 404 too.
      expect((await fromModel.hub.app.inject({ url: '/api/site', headers: auth })).statusCode).toBe(404);
      const site = demoHomeScenario().site;
      await mkdir(join(models.root, models.latest, 'positioning'), { recursive: true });
      await writeFile(
        join(models.root, models.latest, 'positioning', 'model.json'),
        JSON.stringify({ data: { format: 1, site, ranging: [] } }),
      );
      const found = await fromModel.hub.app.inject({ url: '/api/site', headers: auth });
      expect(found.statusCode).toBe(200);
      expect(found.json().name).toBe('demo-home');
    } finally {
      await bare.close();
      await fromModel.close();
    }
  });

  it('refuses to start with a site file it cannot read, and reports one that breaks later', async () => {
    await expect(startDashboardHub({ site: join(models.root, 'missing-site.json') })).rejects.toThrow(
      /missing-site\.json: ENOENT/,
    );
    const path = join(models.root, 'site.json');
    await writeFile(path, JSON.stringify(SITE));
    const hub2 = await startDashboardHub({ site: path });
    try {
      expect((await hub2.hub.app.inject({ url: '/api/site', headers: auth })).json()).toEqual(SITE);
      await writeFile(path, '{ half a fi');
      const res = await hub2.hub.app.inject({ url: '/api/site', headers: auth });
      expect(res.statusCode).toBe(500);
      expect(res.json().code).toBe('SITE_UNREADABLE');
      expect((await hub2.hub.app.inject({ url: '/health' })).statusCode).toBe(200);
    } finally {
      await hub2.close();
    }
  });
});
