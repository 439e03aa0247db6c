// The dashboard page: loads the site, devices and models over REST with the viewer token, then folds the hub's
// live messages in and redraws what changed, at most once per animation frame.
import { HubApi } from './api.js';
import { type ConnectionState, HubConnection } from './connection.js';
import { byId, h, setAttr, setText } from './dom.js';
import { ago } from './format.js';
import { liveVersion, type ModelVersionView, parseModels } from './models.js';
import { AnomalyFeed } from './panels/anomaly-feed.js';
import { CoveragePanel } from './panels/coverage-panel.js';
import { type Decision, DeviceList } from './panels/device-list.js';
import { FloorPlan, type MapMode } from './panels/floor-plan.js';
import { ModelsPanel } from './panels/models-panel.js';
import { parseSite, roomAt, roomLabel } from './site.js';
import { DashboardStore, deviceName } from './store.js';

const TOKEN_KEY = 'sbp.viewerToken';
const MODELS_REFRESH_MS = 60_000;
const AGENTS_REFRESH_MS = 30_000;
const TABLE_INTERVAL_MS = 400;
const FRAME_MS = 100;

/**
 * The token comes in the URL (`?token=`). It is moved to session storage and taken out of the address bar, so it
 * does not linger in history or screenshots; a reload of the tab still finds it.
 */
function takeToken(): string | null {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
      url.searchParams.delete('token');
      history.replaceState(null, '', url);
    } catch {
      // Storage disabled: keep the token in the URL.
    }
    return fromUrl;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function socketUrl(base: URL, token: string): string {
  const u = new URL('ws', base);
  u.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  u.searchParams.set('token', token);
  return u.toString();
}

class Dashboard {
  private readonly store = new DashboardStore();
  private readonly plan: FloorPlan;
  private readonly devices: DeviceList;
  private readonly feed: AnomalyFeed;
  private readonly models = new ModelsPanel();
  private readonly coverage = new CoveragePanel();
  private readonly connection: HubConnection;
  private selected: string | null = null;
  private versions: ModelVersionView[] = [];
  private modelsError: string | null = null;
  /** 0: nothing pending; otherwise a redraw is scheduled. */
  private frame = 0;
  private lastFrame = 0;
  private tableDue = false;
  private lastTable = 0;
  private tableTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly conn = byId('conn');
  private readonly connText = byId('conn-text');
  private readonly reconnect = byId<HTMLButtonElement>('reconnect');
  private readonly notice = byId('notice');

  constructor(
    private readonly api: HubApi,
    wsUrl: string,
  ) {
    this.plan = new FloorPlan((id) => this.select(id));
    this.devices = new DeviceList({
      onSelect: (id) => this.select(id),
      onDecision: (id, decision) => this.decide(id, decision),
    });
    this.feed = new AnomalyFeed((id) => this.select(id));
    byId('plan').append(this.plan.element);
    byId('device-list').append(this.devices.element);
    byId('feed').append(this.feed.element);
    byId('models').append(this.models.element);
    byId('coverage').append(this.coverage.element);
    for (const input of Array.from(document.querySelectorAll<HTMLInputElement>('input[name="layer"]'))) {
      input.addEventListener('change', () => {
        if (input.checked) this.setMode(input.value as MapMode);
      });
    }
    this.connection = new HubConnection({
      url: wsUrl,
      onMessage: (m) => {
        this.store.apply(m);
        this.schedule();
      },
      onState: (s) => this.onConnection(s),
    });
    this.reconnect.addEventListener('click', () => this.connection.reconnectNow());
    window.addEventListener('online', () => this.connection.reconnectNow());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.connection.state.kind === 'gave-up') this.connection.reconnectNow();
    });
  }

  async start(): Promise<void> {
    this.models.render('Loading…', Date.now());
    const snapshot = await this.loadDevices();
    if (!snapshot.ok && (snapshot.status === 401 || snapshot.status === 403)) {
      this.onConnection({ kind: 'refused', reason: 'the hub refused this viewer token' });
      this.showNotice(
        'The hub refused this viewer token. Open the page as /?token=TOKEN with a token from the viewers list of the hub’s tokens file.',
      );
      return;
    }
    this.connection.start();
    void this.loadSite();
    void this.loadModels();
    setInterval(() => void this.loadModels(), MODELS_REFRESH_MS);
    // Agents going offline send nothing: ask now and then.
    setInterval(() => void this.loadAgents(), AGENTS_REFRESH_MS);
    setInterval(() => {
      this.store.ageTrails(Date.now());
      this.store.dirty.add('devices');
      this.store.dirty.add('feed');
      this.schedule();
    }, 1000);
    this.schedule();
  }

  private async loadDevices(): Promise<{ ok: boolean; status: number }> {
    const requestedAt = Date.now();
    const r = await this.api.devices();
    if (r.ok) {
      this.store.loadDevices(r.value, requestedAt);
      this.schedule();
      return { ok: true, status: 200 };
    }
    return { ok: false, status: r.status };
  }

  private async loadAgents(): Promise<void> {
    const r = await this.api.agents();
    if (r.ok) {
      this.store.loadAgents(r.value);
      this.schedule();
    }
  }

  private async loadSite(): Promise<void> {
    const r = await this.api.site();
    const site = r.ok ? parseSite(r.value) : null;
    this.plan.setSite(site);
    this.devices.roomName = (x, y) => (site ? roomAt(site, x, y)?.name : undefined);
    this.devices.roomLabel = (room) => roomLabel(site, room);
    setText(byId('site-name'), site ? site.name : '');
    setText(
      byId('plan-note'),
      site
        ? ''
        : r.ok
          ? 'The site file has no bounds, rooms or anchors: devices are drawn on a bare grid.'
          : r.status === 404
            ? 'No site yet: devices are drawn on a bare grid. Start the hub with --site FILE, or train a model (its site is used).'
            : `The site could not be loaded (${r.message}): devices are drawn on a bare grid.`,
    );
    this.plan.setCoverage(liveVersion(this.versions));
    this.schedule();
  }

  private async loadModels(): Promise<void> {
    const r = await this.api.models();
    if (r.ok) {
      this.versions = parseModels(r.value);
      const unconfigured = (r.value as { configured?: unknown } | null)?.configured === false;
      this.modelsError = unconfigured
        ? 'this hub runs without a model directory (start it with --model-dir DIR)'
        : null;
    } else {
      this.modelsError = r.status === 404 ? 'this hub has no model directory' : r.message;
    }
    this.plan.setCoverage(liveVersion(this.versions));
    this.models.render(this.modelsError ?? this.versions, Date.now());
    this.schedule();
  }

  private setMode(mode: MapMode): void {
    this.plan.setMode(mode);
    byId('coverage').hidden = mode !== 'coverage';
    byId('live-legend').hidden = mode !== 'live';
    this.schedule();
  }

  private select(deviceId: string | null): void {
    this.selected = deviceId === this.selected ? null : deviceId;
    this.store.dirty.add('devices');
    this.lastTable = 0;
    this.schedule();
    if (this.selected) this.devices.scrollTo(this.selected);
  }

  private async decide(deviceId: string, decision: Decision): Promise<void> {
    const device = this.store.devices.get(deviceId);
    const name = device ? deviceName(device) : deviceId;
    const r = await this.api.setTrust(deviceId, decision);
    if (!r.ok) {
      this.showNotice(`Could not ${decision} ${name}: ${r.message}`);
      return;
    }
    // The trustUpdate that every viewer gets arrives over the socket; the response only makes this page quicker.
    const v = r.value;
    if (v && typeof v === 'object' && 'deviceId' in v) this.store.loadDevices([v], Date.now());
    else if (v && typeof v === 'object' && 'device' in v) {
      this.store.loadDevices([(v as { device: unknown }).device], Date.now());
    }
    this.schedule();
  }

  private showNotice(text: string): void {
    this.notice.replaceChildren(
      h('span', {}, text),
      h('button', { type: 'button', class: 'btn', onclick: () => (this.notice.hidden = true) }, 'Dismiss'),
    );
    this.notice.hidden = false;
  }

  private onConnection(state: ConnectionState): void {
    setAttr(this.conn, 'data-state', state.kind);
    this.reconnect.hidden = state.kind !== 'gave-up' && state.kind !== 'waiting';
    if (state.kind === 'open') {
      void this.loadDevices();
      void this.loadAgents();
    }
    this.renderConnection(Date.now());
  }

  private renderConnection(now: number): void {
    const s = this.connection.state;
    let text: string;
    switch (s.kind) {
      case 'connecting':
        text = s.attempt > 1 ? `Connecting (attempt ${s.attempt})…` : 'Connecting…';
        break;
      case 'open':
        text = 'Live';
        break;
      case 'waiting':
        text = `Reconnecting in ${Math.max(0, Math.ceil((s.retryAt - now) / 1000))} s (${s.reason})`;
        break;
      case 'gave-up':
        text = `Offline: ${s.reason}`;
        break;
      case 'refused':
        text = `Refused: ${s.reason}`;
        break;
    }
    setText(this.connText, text);
    const d = this.store.devices.size;
    const online = [...this.store.devices.values()].filter((x) => x.online).length;
    const agents = this.store.agents.size;
    const agentsOnline = [...this.store.agents.values()].filter((a) => a.online).length;
    const last = this.store.lastMessageAt;
    setText(
      byId('stats'),
      `${d} device${d === 1 ? '' : 's'} (${online} online)` +
        (agents > 0
          ? ` · ${agentsOnline === agents ? agents : `${agentsOnline} of ${agents}`} agent${agents === 1 ? '' : 's'} online`
          : '') +
        (last !== undefined ? ` · last message ${ago(last, now)}` : ''),
    );
  }

  /**
   * Redraws on the next animation frame, but at most every FRAME_MS: at hundreds of messages a second, ten redraws a
   * second look just as live and cost a sixth of sixty (moves are eased by CSS between them).
   */
  private schedule(): void {
    if (this.frame !== 0) return;
    const wait = this.lastFrame + FRAME_MS - performance.now();
    this.frame = -1;
    const draw = () => {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.lastFrame = performance.now();
        this.render();
      });
    };
    if (wait > 0) setTimeout(draw, wait);
    else draw();
  }

  private render(): void {
    const now = Date.now();
    const dirty = this.store.takeDirty();
    if (dirty.has('devices')) {
      this.plan.render(this.store, this.selected, now);
      this.tableDue = true;
    }
    // The plan follows every frame; the table (text, table layout) at most a few times a second.
    if (this.tableDue) {
      const wait = this.lastTable + TABLE_INTERVAL_MS - now;
      if (wait <= 0) {
        this.tableDue = false;
        this.lastTable = now;
        this.devices.render(this.store, this.selected, now);
        setText(byId('device-count'), String(this.store.devices.size));
      } else if (this.tableTimer === null) {
        this.tableTimer = setTimeout(() => {
          this.tableTimer = null;
          this.schedule();
        }, wait);
      }
    }
    if (dirty.has('feed')) {
      this.feed.render(this.store, now);
      const high = this.store.feed.filter((f) => f.severity === 'high' || f.severity === 'critical').length;
      setText(
        byId('feed-count'),
        this.store.feed.length > 0 ? `${this.store.feed.length} (${high} high)` : '',
      );
    }
    this.coverage.render(this.plan, liveVersion(this.versions), this.modelsError);
    this.renderConnection(now);
    // Messages folded in so far, for tests and the benchmark (bench/dashboard.ts) to read.
    document.documentElement.dataset.messages = String(this.store.received);
  }
}

function main(): void {
  const token = takeToken();
  const base = new URL('.', location.href);
  if (!token) {
    setAttr(byId('conn'), 'data-state', 'refused');
    setText(byId('conn-text'), 'No viewer token');
    const notice = byId('notice');
    notice.replaceChildren(
      h(
        'span',
        {},
        'This dashboard needs a viewer token. Open it as ',
        h('code', {}, `${base.origin}${base.pathname}?token=YOUR_VIEWER_TOKEN`),
        ' with a token from the ',
        h('code', {}, 'viewers'),
        ' list of the hub’s tokens file.',
      ),
    );
    notice.hidden = false;
    return;
  }
  const dashboard = new Dashboard(new HubApi(base.toString(), token), socketUrl(base, token));
  void dashboard.start();
  document.documentElement.dataset.ready = 'true';
}

main();
