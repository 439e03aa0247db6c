// The dashboard in a real browser (Debian's Chromium through playwright-core) against a real hub on loopback.
// An agent played over a real socket sends real protocol messages: the page must show them as they arrive.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium } from '../helpers/system-requirement.js';
import {
  ARTIFACTS,
  type DashboardHub,
  launchBrowser,
  makeModelDir,
  openPage,
  removeDir,
  ScriptedAgent,
  SITE,
  startDashboardHub,
  VIEWER_TOKEN,
} from './helpers.js';

const chromiumOk = haveChromium();
const TV = 'aa:bb:cc:dd:ee:ff';
const PHONE = 'phone-ble-7f3a';

/** Where the page placed a device, in site metres (y up), as the marker records it. */
async function glyphPosition(page: Page, deviceId: string): Promise<{ x: number; y: number }> {
  const marker = page.locator(`div.device[data-device-id="${deviceId}"]`);
  return { x: Number(await marker.getAttribute('data-x')), y: Number(await marker.getAttribute('data-y')) };
}

/**
 * Where the marker really is on screen against the drawn plan: the dot's centre and the disc's radius, in site metres,
 * through the plan SVG's own screen transform. Checks that the HTML markers and the SVG plan agree.
 */
async function onScreen(page: Page, deviceId: string): Promise<{ x: number; y: number; radius: number }> {
  return page.evaluate((id) => {
    const plan = document.querySelector<SVGSVGElement>('svg.plan-static')!;
    const m = plan.getScreenCTM()!.inverse();
    const dot = document.querySelector(`div.device[data-device-id="${id}"] .dot`)!.getBoundingClientRect();
    const disc = document
      .querySelector(`div.device[data-device-id="${id}"] .uncertainty`)!
      .getBoundingClientRect();
    const p = new DOMPoint(dot.x + dot.width / 2, dot.y + dot.height / 2).matrixTransform(m);
    return { x: p.x, y: -p.y, radius: (disc.width / 2) * m.a };
  }, deviceId);
}

describe.runIf(chromiumOk)('web dashboard against an in-process hub and a scripted agent', () => {
  let hub: DashboardHub;
  let browser: Browser;
  let agent: ScriptedAgent;
  let models: { root: string; latest: string; older: string };
  let base: string;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    models = await makeModelDir();
    hub = await startDashboardHub({ site: SITE, modelDir: models.root });
    base = `${hub.address.httpUrl}/`;
    browser = await launchBrowser();
    agent = await ScriptedAgent.connect(hub.address.wsUrl);
  });

  afterAll(async () => {
    agent?.close();
    await browser?.close();
    await hub?.close();
    if (models) await removeDir(models.root);
  });

  it('serves the page without a token and says which token it needs', async () => {
    const { page } = await openPage(browser, base);
    await expect.poll(() => page.locator('#notice').textContent()).toContain('needs a viewer token');
    expect(await page.locator('#conn').getAttribute('data-state')).toBe('refused');
    // The page and its assets load; the data APIs do not without a token.
    const res = await page.request.get(`${base}api/site`);
    expect(res.status()).toBe(401);
    await page.close();
  });

  it('says so when the hub refuses the token', async () => {
    const { page } = await openPage(browser, `${base}?token=not-a-token`);
    await expect.poll(() => page.locator('#conn').getAttribute('data-state')).toBe('refused');
    await expect.poll(() => page.locator('#notice').textContent()).toContain('refused this viewer token');
    await page.close();
  });

  it('shows a device appear and move, its scores, an anomaly, and a trust decision on every viewer', async () => {
    const { page, problems } = await openPage(browser, `${base}?token=${VIEWER_TOKEN}`);
    await expect.poll(() => page.locator('#conn').getAttribute('data-state')).toBe('open');
    // The token left the address bar (history, screenshots) but the page keeps it for the session.
    expect(page.url()).not.toContain(VIEWER_TOKEN);
    // Site from GET /api/site: rooms and anchors are drawn.
    await expect.poll(() => page.locator('svg.plan .room').count()).toBe(3);
    expect(await page.locator('svg.plan .anchor').count()).toBe(4);
    expect(await page.locator('#site-name').textContent()).toBe('test-flat');
    // The scripted agent is connected: GET /api/agents says so.
    await expect.poll(() => page.locator('#stats').textContent()).toContain('1 agent online');

    agent.send('agent_register', {
      version: '1.0.0',
      capabilities: ['device_scan', 'ping_probe'],
      networkInterface: '127.0.0.1',
      systemInfo: { os: 'Linux', arch: 'x64', nodeVersion: process.versions.node },
    });
    agent.send('deviceJoin', {
      deviceId: TV,
      hostname: 'SmartTV-Living',
      ipAddress: '192.0.2.155',
      macAddress: TV,
      vendor: 'Samsung Electronics',
      deviceType: 'smart_tv',
      trustLevel: 'unknown',
    });
    agent.send('deviceJoin', { deviceId: PHONE, hostname: 'pixel-phone', deviceType: 'phone' });
    agent.send('deviceUpdate', {
      deviceId: TV,
      rssi: -48,
      location: { x: 1.5, y: 1.2, confidence: 0.8, uncertainty: 0.9, room: 'living_room' },
    });
    agent.send('deviceUpdate', {
      deviceId: PHONE,
      location: { x: 6.5, y: 1.5, confidence: 0.6, uncertainty: 1.4, room: 'kitchen' },
    });

    // Appears: in the table and on the plan, at the position sent, with its uncertainty radius in metres.
    const tvRow = page.locator(`tr[data-device-id="${TV}"]`);
    await expect.poll(() => tvRow.count()).toBe(1);
    expect(await tvRow.locator('th').textContent()).toContain('SmartTV-Living');
    const glyph = page.locator(`div.device[data-device-id="${TV}"]`);
    await expect.poll(() => glyph.count()).toBe(1);
    expect(await glyphPosition(page, TV)).toEqual({ x: 1.5, y: 1.2 });
    expect(await glyph.getAttribute('data-uncertainty')).toBe('0.9');
    // The plan follows every frame, the table at most a few times a second (web/src/main.ts): poll the cell (a loaded
    // machine showed the glyph placed while the row, drawn at the join, still read "not located").
    await expect.poll(() => tvRow.locator('td').nth(3).textContent()).toBe('Living room(1.5, 1.2) ±0.9 m');

    // Moves: the glyph follows and leaves a trail behind.
    for (const [x, y] of [
      [2.2, 1.8],
      [3.0, 2.6],
      [3.6, 3.3],
    ] as const) {
      agent.send('deviceUpdate', { deviceId: TV, location: { x, y, confidence: 0.85, uncertainty: 0.7 } });
      await expect.poll(() => glyphPosition(page, TV)).toEqual({ x, y });
    }
    // The trail: the four positions, drawn as consecutive pieces from faint to strong.
    const pieces = await page
      .locator('svg.plan g.trail.trust-unknown path[d]')
      .evaluateAll((paths) => paths.map((p) => p.getAttribute('d')));
    const vertices = pieces.join('').match(/[ML][-\d.]+ [-\d.]+/g) ?? [];
    expect(new Set(vertices.map((v) => v.slice(1)))).toEqual(
      new Set(['1.5 -1.2', '2.2 -1.8', '3 -2.6', '3.6 -3.3']),
    );
    expect(await glyph.getAttribute('data-uncertainty')).toBe('0.7');
    // And on screen, once the move has eased in: the dot over (3.6, 3.3) of the drawn plan, the disc 0.7 m wide.
    await expect
      .poll(async () => {
        const p = await onScreen(page, TV);
        return Math.abs(p.x - 3.6) < 0.05 && Math.abs(p.y - 3.3) < 0.05 && Math.abs(p.radius - 0.7) < 0.05;
      })
      .toBe(true);
    // The last updates named no room: the page finds it in the site's polygons.
    await expect.poll(() => tvRow.locator('td').nth(3).textContent()).toBe('Living room(3.6, 3.3) ±0.7 m');

    // Scores from mlScoreUpdate.
    agent.send('mlScoreUpdate', {
      deviceId: TV,
      scores: { anomalyScore: 0.12, trustScore: 0.89, performanceScore: 0.76, locationConfidence: 0.92 },
    });
    agent.send('mlScoreUpdate', { deviceId: PHONE, scores: { anomalyScore: 0.71, trustScore: 0.35 } });
    await expect.poll(() => tvRow.locator('td').nth(1).textContent()).toBe('89%');
    expect(await tvRow.locator('td').nth(2).textContent()).toBe('12%');

    // An anomaly shows in the feed with its severity and explanation, and lights the device up on the plan.
    agent.send('anomalyDetected', {
      anomalyId: 'anom_web_1',
      deviceId: PHONE,
      anomalyType: 'rogue_scanner',
      severity: 'high',
      confidence: 0.87,
      mlModel: 'isolation_forest',
      features: { port_scans: 41, connection_attempts: 230, new_services: true },
      recommendedAction: 'block_device',
      score: 0.81,
      threshold: 0.62,
    });
    const item = page.locator('li.feed-item[data-feed-id="anomaly:anom_web_1"]');
    await expect.poll(() => item.count()).toBe(1);
    const text = (await item.textContent()) ?? '';
    expect(text).toContain('high');
    expect(text).toContain('Rogue scanner');
    expect(text).toContain('pixel-phone');
    expect(text).toContain('Port scans 41');
    expect(text).toContain('New services yes');
    expect(text).toContain('Suggested: Block device');
    expect(text).toContain('score 0.81 > 0.62');
    expect(await item.getAttribute('class')).toContain('sev-high');
    await expect
      .poll(() => page.locator(`div.device[data-device-id="${PHONE}"]`).getAttribute('class'))
      .toContain('alerting');

    // A second viewer, opened later, gets the registry's state by REST and live messages from then on.
    const second = await openPage(browser, `${base}?token=${VIEWER_TOKEN}`);
    await expect.poll(() => second.page.locator('#conn').getAttribute('data-state')).toBe('open');
    const tvRow2 = second.page.locator(`tr[data-device-id="${TV}"]`);
    await expect.poll(() => tvRow2.locator('.badge').getAttribute('data-trust')).toBe('unknown');

    // Approve in the first page: the trustUpdate reaches both pages, and the registry says so too.
    await tvRow.locator('button[data-action="approve"]').click();
    await expect.poll(() => tvRow.locator('.badge').getAttribute('data-trust')).toBe('trusted');
    await expect.poll(() => tvRow2.locator('.badge').getAttribute('data-trust')).toBe('trusted');
    expect(await tvRow2.locator('.badge').textContent()).toBe('Trusted (you)');
    expect(await tvRow.locator('button[data-action="approve"]').isHidden()).toBe(true);
    const api = await page.request.get(`${base}api/devices/${encodeURIComponent(TV)}`, {
      headers: { authorization: `Bearer ${VIEWER_TOKEN}` },
    });
    expect(api.status()).toBe(200);
    expect(await api.json()).toMatchObject({ deviceId: TV, trustLevel: 'trusted', userDecision: 'approved' });
    await expect
      .poll(() => page.locator(`div.device[data-device-id="${TV}"]`).getAttribute('class'))
      .toContain('trust-trusted');

    // Block the phone from the second viewer: the first sees it.
    await second.page.locator(`tr[data-device-id="${PHONE}"] button[data-action="block"]`).click();
    await expect
      .poll(() => page.locator(`tr[data-device-id="${PHONE}"] .badge`).getAttribute('data-trust'))
      .toBe('blocked');

    // Selecting a device (on the plan) shows its details.
    await page.locator(`div.device[data-device-id="${TV}"] .dot`).click();
    await expect.poll(() => page.locator('.details').textContent()).toContain('Samsung Electronics');
    expect(await tvRow.getAttribute('aria-selected')).toBe('true');

    // Model versions with their metrics, the live one marked.
    const live = page.locator(`.models tr[data-version="${models.latest}"]`);
    await expect.poll(() => live.textContent()).toContain('live');
    expect(await live.textContent()).toContain('median0.82 m');
    expect(await live.textContent()).toContain('ROC AUC0.941');
    expect(await page.locator(`.models tr[data-version="${models.older}"]`).textContent()).toContain(
      'p903.4 m',
    );

    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png') });
    await second.page.close();
    expect(problems).toEqual([]);
    expect(second.problems).toEqual([]);
    expect(agent.errors).toEqual([]);
    await page.close();
  });

  it('shows calibration coverage and sends the user where the walk never went', async () => {
    const { page, problems } = await openPage(browser, `${base}?token=${VIEWER_TOKEN}`);
    await expect.poll(() => page.locator('#conn').getAttribute('data-state')).toBe('open');
    await page.getByLabel('Calibration coverage').check();
    await expect.poll(() => page.locator('svg.plan .coverage .cells rect').count()).toBeGreaterThan(100);
    const suggestions = page.locator('.suggestions li');
    await expect.poll(() => suggestions.count()).toBeGreaterThan(0);
    // The walk skipped the bedroom entirely: that is where to walk first.
    expect(await suggestions.first().textContent()).toContain('in Bedroom');
    expect(await suggestions.first().textContent()).toContain('not calibrated');
    // Its marker sits well inside the bedroom, not in a corner.
    const first = (await suggestions.first().locator('strong').textContent()) ?? '';
    const [sx, sy] = (/\(([\d.]+), ([\d.]+)\)/.exec(first) ?? []).slice(1).map(Number);
    expect(sx).toBeGreaterThan(5.7);
    expect(sx).toBeLessThan(7.3);
    expect(sy).toBeGreaterThan(3.1);
    expect(sy).toBeLessThan(4.4);
    expect(await page.locator('svg.plan .coverage .suggestion').count()).toBe(await suggestions.count());
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-coverage.png') });
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe.runIf(chromiumOk)('web dashboard connection', () => {
  it('shows the connection state and reconnects by itself when the hub comes back', async () => {
    let hub = await startDashboardHub({ site: SITE });
    const port = hub.address.port;
    const browser = await launchBrowser();
    try {
      const { page } = await openPage(browser, `${hub.address.httpUrl}/?token=${VIEWER_TOKEN}`);
      await expect.poll(() => page.locator('#conn').getAttribute('data-state')).toBe('open');
      expect(await page.locator('#conn-text').textContent()).toBe('Live');
      await hub.close();
      await expect.poll(() => page.locator('#conn').getAttribute('data-state')).toBe('waiting');
      expect(await page.locator('#conn-text').textContent()).toMatch(/Reconnecting in \d+ s/);
      hub = await startDashboardHub({ site: SITE }, port);
      // Backoff 1 s, 2 s, 4 s (+10% jitter): back within a few attempts.
      await expect
        .poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 15_000 })
        .toBe('open');
      // Live again: a device sent now shows up.
      const agent = await ScriptedAgent.connect(hub.address.wsUrl);
      agent.send('deviceJoin', { deviceId: 'after-restart', hostname: 'came-back' });
      await expect.poll(() => page.locator('tr[data-device-id="after-restart"]').count()).toBe(1);
      agent.close();
    } finally {
      await browser.close();
      await hub.close();
    }
  });
});
