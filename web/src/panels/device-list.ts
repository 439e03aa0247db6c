// The device table: trust level and scores per device, with approve / block / reset. Rows are keyed by device id
// and updated in place, so focus and hover survive live updates.
import { h, setAttr, setText } from '../dom.js';
import { ago, humanize, metres, num, pct } from '../format.js';
import { type DashboardStore, type DeviceView, deviceName, trustScoreOf } from '../store.js';

export type Decision = 'approve' | 'block' | 'reset';

interface Row {
  tr: HTMLTableRowElement;
  nameButton: HTMLButtonElement;
  sub: HTMLElement;
  trust: HTMLElement;
  trustScore: HTMLElement;
  trustBar: HTMLElement;
  anomaly: HTMLElement;
  place: HTMLElement;
  coords: HTMLElement;
  seen: HTMLElement;
  approve: HTMLButtonElement;
  block: HTMLButtonElement;
  reset: HTMLButtonElement;
}

export interface DeviceListHandlers {
  onSelect(deviceId: string): void;
  onDecision(deviceId: string, decision: Decision): Promise<void>;
}

function barFill(value: number): HTMLElement {
  const fill = h('span', { class: 'bar-fill' });
  fill.style.width = `${Math.round(value * 100)}%`;
  return fill;
}

function byName(a: DeviceView, b: DeviceView): number {
  if (a.online !== b.online) return a.online ? -1 : 1;
  return deviceName(a).localeCompare(deviceName(b)) || a.deviceId.localeCompare(b.deviceId);
}

export class DeviceList {
  readonly element: HTMLElement;
  private readonly tbody = h('tbody');
  private readonly empty = h('p', { class: 'empty' }, 'No devices yet. They appear as agents report them.');
  private readonly details = h('div', { class: 'details', 'aria-live': 'polite' });
  private readonly rows = new Map<string, Row>();
  private readonly pending = new Set<string>();
  private order = '';

  /** The room containing a point, from the site's polygons, for devices whose location names none. */
  roomName: (x: number, y: number) => string | undefined = () => undefined;
  /** A room's display name from the id a location carries. */
  roomLabel: (room: string) => string = humanize;

  constructor(private readonly handlers: DeviceListHandlers) {
    this.element = h(
      'div',
      { class: 'device-list' },
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          {},
          h('caption', { class: 'visually-hidden' }, 'Devices, their trust and scores'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Device'),
              h('th', { scope: 'col' }, 'Trust'),
              h('th', { scope: 'col', title: 'Trust score, 0–100%' }, 'Score'),
              h('th', { scope: 'col', title: 'Anomaly score of the latest window, 0–100%' }, 'Anomaly'),
              h('th', { scope: 'col' }, 'Where'),
              h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
            ),
          ),
          this.tbody,
        ),
      ),
      this.empty,
      this.details,
    );
  }

  private row(d: DeviceView): Row {
    const known = this.rows.get(d.deviceId);
    if (known) return known;
    const id = d.deviceId;
    const nameButton = h('button', { type: 'button', class: 'link' });
    nameButton.addEventListener('click', () => this.handlers.onSelect(id));
    const sub = h('span', { class: 'sub' });
    const trust = h('span', { class: 'badge' });
    const trustBar = h('span', { class: 'bar-fill' });
    const trustScore = h('span', { class: 'num' });
    const anomaly = h('span', { class: 'num' });
    const place = h('span');
    const coords = h('span', { class: 'sub' });
    const seen = h('span', { class: 'sub' });
    const decide = (decision: Decision) => () => void this.decide(id, decision);
    const approve = h(
      'button',
      { type: 'button', class: 'btn approve', 'data-action': 'approve' },
      'Approve',
    );
    const block = h('button', { type: 'button', class: 'btn block', 'data-action': 'block' }, 'Block');
    const reset = h('button', { type: 'button', class: 'btn reset', 'data-action': 'reset' }, 'Reset');
    approve.addEventListener('click', decide('approve'));
    block.addEventListener('click', decide('block'));
    reset.addEventListener('click', decide('reset'));
    const tr = h(
      'tr',
      { 'data-device-id': id },
      h('th', { scope: 'row' }, nameButton, sub, seen),
      h('td', {}, trust),
      h('td', {}, trustScore, h('span', { class: 'bar', 'aria-hidden': 'true' }, trustBar)),
      h('td', {}, anomaly),
      h('td', {}, place, coords),
      h('td', { class: 'actions' }, approve, block, reset),
    );
    const row: Row = {
      tr,
      nameButton,
      sub,
      trust,
      trustScore,
      trustBar,
      anomaly,
      place,
      coords,
      seen,
      approve,
      block,
      reset,
    };
    this.rows.set(id, row);
    return row;
  }

  private async decide(deviceId: string, decision: Decision): Promise<void> {
    if (this.pending.has(deviceId)) return;
    this.pending.add(deviceId);
    const row = this.rows.get(deviceId);
    if (row) setAttr(row.tr, 'aria-busy', 'true');
    try {
      await this.handlers.onDecision(deviceId, decision);
    } finally {
      this.pending.delete(deviceId);
      if (row) setAttr(row.tr, 'aria-busy', false);
    }
  }

  render(store: DashboardStore, selected: string | null, now: number): void {
    const devices = [...store.devices.values()].sort(byName);
    for (const d of devices) {
      const r = this.row(d);
      const name = deviceName(d);
      setText(r.nameButton, name);
      setAttr(r.nameButton, 'aria-label', `Show ${name} on the plan`);
      const kind = [d.vendor, d.deviceType ? humanize(d.deviceType) : undefined].filter(Boolean).join(' · ');
      setText(
        r.sub,
        [kind, d.ipAddress && d.ipAddress !== name ? d.ipAddress : ''].filter(Boolean).join(' · '),
      );
      setText(r.trust, humanize(d.trustLevel) + (d.userDecision ? ' (you)' : ''));
      setAttr(r.trust, 'class', `badge trust-${d.trustLevel}`);
      setAttr(r.trust, 'data-trust', d.trustLevel);
      const ts = trustScoreOf(d);
      setText(r.trustScore, pct(ts));
      r.trustBar.style.width = ts === undefined ? '0' : `${Math.round(ts * 100)}%`;
      const a = d.scores.anomalyScore;
      setText(r.anomaly, pct(a));
      setAttr(r.anomaly, 'class', `num${a !== undefined && a >= 0.5 ? ' hot' : ''}`);
      const loc = d.location;
      const room = loc ? (loc.room ? this.roomLabel(loc.room) : this.roomName(loc.x, loc.y)) : undefined;
      const coords = loc
        ? `(${num(loc.x, 1)}, ${num(loc.y, 1)})` +
          (loc.uncertainty !== undefined ? ` ±${num(loc.uncertainty, 1)} m` : '')
        : '';
      // The room reads first; on a site without rooms, the coordinates are the place.
      setText(r.place, loc ? (room ?? coords) : 'not located');
      setText(r.coords, room ? coords : '');
      setText(r.seen, d.online ? `seen ${ago(d.lastSeen, now)}` : `offline, seen ${ago(d.lastSeen, now)}`);
      // Two buttons at a time: the decisions that would change something.
      r.approve.hidden = d.userDecision === 'approved';
      r.block.hidden = d.userDecision === 'blocked';
      r.reset.hidden = d.userDecision === undefined;
      setAttr(r.approve, 'aria-label', `Approve ${name}`);
      setAttr(r.block, 'aria-label', `Block ${name}`);
      setAttr(r.reset, 'aria-label', `Reset the decision on ${name}`);
      setAttr(
        r.tr,
        'class',
        `${d.online ? '' : 'offline'}${d.deviceId === selected ? ' selected' : ''}`.trim(),
      );
      setAttr(r.tr, 'aria-selected', d.deviceId === selected ? 'true' : 'false');
    }
    const order = devices.map((d) => d.deviceId).join('\n');
    if (order !== this.order) {
      this.order = order;
      this.tbody.replaceChildren(...devices.map((d) => this.rows.get(d.deviceId)!.tr));
    }
    this.empty.hidden = devices.length > 0;
    this.renderDetails(selected ? store.devices.get(selected) : undefined, store, now);
  }

  scrollTo(deviceId: string): void {
    this.rows.get(deviceId)?.tr.scrollIntoView({ block: 'nearest' });
  }

  private renderDetails(d: DeviceView | undefined, store: DashboardStore, now: number): void {
    const key = d ? JSON.stringify([d, Math.floor(now / 5000)]) : '';
    if (this.details.dataset.key === key) return;
    this.details.dataset.key = key;
    this.details.hidden = !d;
    if (!d) {
      this.details.replaceChildren();
      return;
    }
    const loc = d.location;
    const facts: [string, string][] = [
      ['Device id', d.deviceId],
      ['IP', d.ipAddress ?? '–'],
      ['MAC', d.macAddress ?? '–'],
      ['Vendor', d.vendor ?? '–'],
      ['Type', d.deviceType ? humanize(d.deviceType) : '–'],
      ['Agent', d.agentId ?? '–'],
      ['RSSI', d.rssi !== undefined ? `${d.rssi} dBm` : '–'],
      [
        'Position',
        loc
          ? `${num(loc.x)}, ${num(loc.y)} m` +
            (loc.uncertainty !== undefined ? ` ± ${metres(loc.uncertainty, 1)} (95%)` : '') +
            `, confidence ${pct(loc.confidence)}`
          : 'not located yet',
      ],
      [
        'Room',
        loc?.room
          ? this.roomLabel(loc.room) +
            (loc.roomProbability !== undefined ? ` (${pct(loc.roomProbability)})` : '')
          : ((loc && this.roomName(loc.x, loc.y)) ?? '–'),
      ],
      ['Estimator', loc?.model ? `${loc.model}${loc.modelVersion ? ` ${loc.modelVersion}` : ''}` : '–'],
      ['Performance score', pct(d.scores.performanceScore)],
      ['Location confidence', pct(d.scores.locationConfidence)],
      ['Trust reason', d.trustReason ? humanize(d.trustReason) : '–'],
    ];
    const anomalies = store.feed.filter((f) => f.deviceId === d.deviceId).length;
    facts.push(['Anomalies', String(anomalies)]);
    const factors = d.trustFactors ?? [];
    const parts: HTMLElement[] = [
      h('h3', {}, deviceName(d)),
      h(
        'dl',
        {},
        ...facts.filter(([, v]) => v !== '–').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      ),
    ];
    if (factors.length > 0) {
      parts.push(
        h(
          'div',
          { class: 'factors' },
          h('h4', {}, 'Why this trust level'),
          h(
            'ul',
            {},
            ...factors.map((f) =>
              h(
                'li',
                {},
                h('span', { class: 'factor-name' }, humanize(f.name)),
                h('span', { class: 'bar', 'aria-hidden': 'true' }, barFill(f.value)),
                h(
                  'span',
                  { class: 'num' },
                  `${pct(f.value)} × ${num(f.weight)}` + (f.detail ? ` — ${f.detail}` : ''),
                ),
              ),
            ),
          ),
        ),
      );
    }
    this.details.replaceChildren(...parts);
  }
}
