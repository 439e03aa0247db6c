// The anomaly feed: anomalies and trust alerts, newest first, each with its severity and the features that explain
// it. Items are keyed and only new ones are added, so reading the list is not disturbed.
import { h, setText } from '../dom.js';
import { ago, clockTime, featureValue, humanize, num, pct } from '../format.js';
import { type DashboardStore, deviceName, type FeedItem, severityRank } from '../store.js';

export class AnomalyFeed {
  readonly element: HTMLElement;
  private readonly list = h('ol', {
    class: 'feed',
    role: 'log',
    'aria-live': 'polite',
    'aria-relevant': 'additions',
  });
  private readonly empty = h('p', { class: 'empty' }, 'No anomalies since this page opened.');
  private readonly filter: HTMLSelectElement;
  private readonly items = new Map<string, { li: HTMLLIElement; time: HTMLElement; at: number }>();
  private minRank = 0;
  private shown = '';

  constructor(private readonly onSelect: (deviceId: string) => void) {
    this.filter = h(
      'select',
      { id: 'feed-filter' },
      h('option', { value: '0' }, 'all'),
      h('option', { value: '1' }, 'medium and above'),
      h('option', { value: '2' }, 'high and above'),
      h('option', { value: '3' }, 'critical'),
    );
    this.filter.addEventListener('change', () => {
      this.minRank = Number(this.filter.value);
      this.shown = '';
    });
    this.element = h(
      'div',
      { class: 'anomaly-feed' },
      h('label', { class: 'filter' }, 'Severity ', this.filter),
      this.list,
      this.empty,
    );
  }

  private item(f: FeedItem, store: DashboardStore): { li: HTMLLIElement; time: HTMLElement; at: number } {
    const known = this.items.get(f.id);
    if (known) return known;
    const device = store.devices.get(f.deviceId);
    const name = device ? deviceName(device) : f.deviceId;
    const deviceButton = h('button', { type: 'button', class: 'link' }, name);
    deviceButton.addEventListener('click', () => this.onSelect(f.deviceId));
    const time = h('time', { datetime: new Date(f.at).toISOString(), title: clockTime(f.at) });
    const features = Object.entries(f.features);
    const facts: string[] = [];
    if (f.confidence !== undefined) facts.push(`confidence ${pct(f.confidence)}`);
    if (f.score !== undefined)
      facts.push(`score ${num(f.score)}${f.threshold !== undefined ? ` > ${num(f.threshold)}` : ''}`);
    if (f.mlModel) facts.push(humanize(f.mlModel));
    if (f.autoBlocked) facts.push('blocked automatically');
    const li = h(
      'li',
      { class: `feed-item sev-${f.severity}`, 'data-feed-id': f.id, 'data-device-id': f.deviceId },
      h(
        'div',
        { class: 'feed-head' },
        h('span', { class: `sev sev-${f.severity}` }, f.severity),
        h('strong', {}, humanize(f.category)),
        ' on ',
        deviceButton,
        time,
      ),
      f.description ? h('p', { class: 'description' }, f.description) : null,
      features.length > 0
        ? h(
            'ul',
            { class: 'features', 'aria-label': 'What explains it' },
            ...features.map(([k, v]) =>
              h('li', {}, h('span', { class: 'fname' }, humanize(k)), ' ', h('b', {}, featureValue(v))),
            ),
          )
        : null,
      h(
        'p',
        { class: 'action' },
        'Suggested: ',
        h('strong', {}, humanize(f.recommendedAction)),
        facts.length > 0 ? h('span', { class: 'muted' }, ` · ${facts.join(' · ')}`) : null,
      ),
    );
    const entry = { li, time, at: f.at };
    this.items.set(f.id, entry);
    return entry;
  }

  render(store: DashboardStore, now: number): void {
    const visible = store.feed.filter((f) => severityRank(f.severity) >= this.minRank);
    const key = visible.map((f) => f.id).join('\n');
    if (key !== this.shown) {
      this.shown = key;
      this.list.replaceChildren(...visible.map((f) => this.item(f, store).li));
      const keep = new Set(store.feed.map((f) => f.id));
      for (const id of this.items.keys()) if (!keep.has(id)) this.items.delete(id);
    }
    for (const { time, at } of this.items.values()) setText(time, ago(at, now));
    this.empty.hidden = visible.length > 0;
    setText(
      this.empty,
      store.feed.length === 0 ? 'No anomalies since this page opened.' : 'None at this severity.',
    );
  }
}
