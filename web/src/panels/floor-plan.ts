// The floor plan: rooms, walls and anchors from the site file; devices with their uncertainty circles and short
// trails; or, in coverage mode, the latest model's held-out error and where to walk next. Drawn in site metres
// (the SVG's user unit), with y pointing up as on a plan, so every position is placed exactly as the hub sent it.
import { type CoverageGrid, coverageGrid, errorColour, type WalkSuggestion, walkNext } from '../coverage.js';
import { clear, setAttr, setText, svg } from '../dom.js';
import { metres, pct } from '../format.js';
import type { ModelVersionView } from '../models.js';
import { type Bounds, boundsOf, centroid, type Point, type Site } from '../site.js';
import { type DashboardStore, type DeviceView, deviceName } from '../store.js';

export type MapMode = 'live' | 'coverage';

/** An anomaly keeps its device's halo pulsing this long. */
const ALERT_HALO_MS = 60_000;

interface DeviceGlyph {
  group: SVGGElement;
  halo: SVGCircleElement;
  ring: SVGCircleElement;
  dot: SVGCircleElement;
  label: SVGTextElement;
  title: SVGTitleElement;
  trail: SVGGElement;
  trailKey: string;
}

function niceStep(span: number): number {
  const raw = span / 10;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

const pts = (points: readonly Point[]): string => points.map(([x, y]) => `${x},${-y}`).join(' ');

export class FloorPlan {
  readonly element: SVGSVGElement;
  private readonly title = svg('title', { id: 'plan-title' });
  private readonly desc = svg('desc', { id: 'plan-desc' });
  private readonly layers = {
    grid: svg('g', { class: 'grid', 'aria-hidden': 'true' }),
    rooms: svg('g', { class: 'rooms' }),
    walls: svg('g', { class: 'walls', 'aria-hidden': 'true' }),
    coverage: svg('g', { class: 'coverage' }),
    anchors: svg('g', { class: 'anchors' }),
    trails: svg('g', { class: 'trails', 'aria-hidden': 'true' }),
    devices: svg('g', { class: 'devices' }),
  };
  private readonly hatchLine = svg('line', { class: 'hatch' });
  /** Hatching for "no calibration data", sized in metres like everything else. */
  private readonly hatch = svg(
    'pattern',
    { id: 'no-data', patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
    this.hatchLine,
  );
  private site: Site | null = null;
  private bounds: Bounds = { minX: 0, minY: 0, maxX: 10, maxY: 8 };
  private fontSize = 0.25;
  private mode: MapMode = 'live';
  private readonly glyphs = new Map<string, DeviceGlyph>();
  private coverageFor: ModelVersionView | undefined;
  private coverageKey = '';
  suggestions: WalkSuggestion[] = [];
  grid: CoverageGrid | null = null;

  constructor(private readonly onSelect: (deviceId: string | null) => void) {
    this.element = svg(
      'svg',
      {
        class: 'plan',
        role: 'img',
        'aria-labelledby': 'plan-title plan-desc',
        preserveAspectRatio: 'xMidYMid meet',
      },
      this.title,
      this.desc,
      svg('defs', {}, this.hatch),
      ...Object.values(this.layers),
    );
    this.element.addEventListener('click', (event) => {
      if (event.target === this.element) this.onSelect(null);
    });
    this.fit();
  }

  setSite(site: Site | null): void {
    this.site = site;
    if (site) this.bounds = { ...site.bounds };
    this.fit();
    this.drawStatic();
  }

  setMode(mode: MapMode): void {
    this.mode = mode;
    this.element.dataset.mode = mode;
    this.drawCoverage();
  }

  setCoverage(version: ModelVersionView | undefined): void {
    this.coverageFor = version;
    this.drawCoverage();
  }

  /** Without a site file the plan grows to hold every device and never shrinks (a steady picture). */
  private growFor(devices: Iterable<DeviceView>): boolean {
    if (this.site) return false;
    const points: Point[] = [];
    for (const d of devices) {
      if (d.location) points.push([d.location.x, d.location.y]);
    }
    const b = boundsOf(points);
    if (!b) return false;
    const cur = this.bounds;
    const margin = 1;
    if (b.minX >= cur.minX && b.minY >= cur.minY && b.maxX <= cur.maxX && b.maxY <= cur.maxY) return false;
    this.bounds = {
      minX: Math.min(cur.minX, b.minX - margin),
      minY: Math.min(cur.minY, b.minY - margin),
      maxX: Math.max(cur.maxX, b.maxX + margin),
      maxY: Math.max(cur.maxY, b.maxY + margin),
    };
    return true;
  }

  private fit(): void {
    const b = this.bounds;
    const w = b.maxX - b.minX;
    const h = b.maxY - b.minY;
    const pad = Math.max(w, h) * 0.04;
    this.fontSize = Math.max(w, h) / 48;
    const hatch = this.fontSize * 0.6;
    for (const [k, v] of Object.entries({ width: hatch, height: hatch })) setAttr(this.hatch, k, v);
    for (const [k, v] of Object.entries({ x1: 0, y1: 0, x2: 0, y2: hatch, 'stroke-width': hatch * 0.35 })) {
      setAttr(this.hatchLine, k, v);
    }
    setAttr(this.element, 'viewBox', `${b.minX - pad} ${-b.maxY - pad} ${w + 2 * pad} ${h + 2 * pad}`);
    this.drawGrid();
  }

  private drawGrid(): void {
    const g = this.layers.grid;
    clear(g);
    const b = this.bounds;
    const step = niceStep(Math.max(b.maxX - b.minX, b.maxY - b.minY));
    g.append(
      svg('rect', {
        class: 'floor',
        x: b.minX,
        y: -b.maxY,
        width: b.maxX - b.minX,
        height: b.maxY - b.minY,
      }),
    );
    for (let x = Math.ceil(b.minX / step) * step; x <= b.maxX + 1e-9; x += step) {
      g.append(svg('line', { x1: x, x2: x, y1: -b.minY, y2: -b.maxY }));
    }
    for (let y = Math.ceil(b.minY / step) * step; y <= b.maxY + 1e-9; y += step) {
      g.append(svg('line', { x1: b.minX, x2: b.maxX, y1: -y, y2: -y }));
    }
    // Scale bar, bottom left, one grid step long.
    const fs = this.fontSize;
    const x0 = b.minX + fs * 0.6;
    const y0 = -b.minY - fs * 0.6;
    g.append(
      svg('line', { class: 'scale', x1: x0, x2: x0 + step, y1: y0, y2: y0 }),
      svg(
        'text',
        { class: 'scale-label', x: x0 + step / 2, y: y0 - fs * 0.4, 'font-size': fs * 0.8 },
        `${step} m`,
      ),
    );
  }

  private drawStatic(): void {
    const { rooms, walls, anchors } = this.layers;
    clear(rooms);
    clear(walls);
    clear(anchors);
    const site = this.site;
    const fs = this.fontSize;
    if (!site) {
      setText(this.title, 'Floor plan (no site file: devices on a bare grid)');
      return;
    }
    setText(this.title, `Floor plan of ${site.name}`);
    site.rooms.forEach((room, i) => {
      const [cx, cy] = centroid(room.polygon);
      rooms.append(
        svg(
          'g',
          { class: `room room-${i % 6}` },
          svg('polygon', { points: pts(room.polygon) }, svg('title', {}, room.name)),
          svg('text', { x: cx, y: -cy, 'font-size': fs * 1.1, class: 'room-label' }, room.name),
        ),
      );
    });
    for (const [a, b] of site.walls) {
      walls.append(svg('line', { x1: a[0], y1: -a[1], x2: b[0], y2: -b[1], 'stroke-width': fs * 0.25 }));
    }
    const showLabels = site.anchors.length <= 16;
    for (const a of site.anchors) {
      const r = fs * 0.45;
      anchors.append(
        svg(
          'g',
          { class: 'anchor', transform: `translate(${a.x} ${-a.y})` },
          svg('title', {}, `Anchor ${a.label} (${a.id}) at ${a.x}, ${a.y} m`),
          svg('rect', { x: -r, y: -r, width: 2 * r, height: 2 * r, transform: 'rotate(45)' }),
          showLabels ? svg('text', { y: r + fs * 1.05, 'font-size': fs * 0.75 }, a.label) : null,
        ),
      );
    }
  }

  private drawCoverage(): void {
    const layer = this.layers.coverage;
    const v = this.coverageFor;
    const key = `${this.mode}|${v?.version ?? ''}|${this.bounds.minX},${this.bounds.maxX},${this.bounds.minY},${this.bounds.maxY}`;
    if (key === this.coverageKey) return;
    this.coverageKey = key;
    clear(layer);
    this.suggestions = [];
    this.grid = null;
    if (this.mode !== 'coverage' || !v || v.heldOut.length === 0) return;
    const grid = coverageGrid(v.heldOut, this.bounds);
    this.grid = grid;
    const cells = svg('g', { class: 'cells' });
    for (const c of grid.cells) {
      const attrs = {
        x: c.x - grid.cellW / 2,
        y: -(c.y + grid.cellH / 2),
        width: grid.cellW * 1.02,
        height: grid.cellH * 1.02,
      };
      if (c.error === null) {
        cells.append(svg('rect', { ...attrs, class: 'no-data', fill: 'url(#no-data)' }));
      } else {
        cells.append(svg('rect', { ...attrs, fill: errorColour(c.error / grid.scaleMax) }));
      }
    }
    layer.append(cells);
    const fs = this.fontSize;
    const dots = svg('g', { class: 'walk-points' });
    const step = Math.max(1, Math.floor(v.heldOut.length / 1500));
    for (let i = 0; i < v.heldOut.length; i += step) {
      const p = v.heldOut[i]!;
      dots.append(svg('circle', { cx: p.x, cy: -p.y, r: fs * 0.12 }));
    }
    layer.append(dots);
    this.suggestions = walkNext(grid, v.heldOut, this.site);
    this.suggestions.forEach((s, i) => {
      layer.append(
        svg(
          'g',
          { class: 'suggestion', transform: `translate(${s.x} ${-s.y})` },
          svg('title', {}, `Walk here next (${i + 1}): ${s.reason}`),
          svg('circle', { r: fs * 0.9 }),
          svg('text', { 'font-size': fs * 1.1, dy: '0.35em' }, String(i + 1)),
        ),
      );
    });
  }

  private glyph(d: DeviceView): DeviceGlyph {
    let g = this.glyphs.get(d.deviceId);
    if (g) return g;
    const title = svg('title');
    const halo = svg('circle', { class: 'halo' });
    const ring = svg('circle', { class: 'uncertainty' });
    const dot = svg('circle', { class: 'dot' });
    const label = svg('text', { class: 'device-label' });
    // Mouse shortcut only: the plan is one image to assistive technology; the device table is the keyboard path.
    const group = svg('g', { class: 'device', 'data-device-id': d.deviceId });
    group.append(title, ring, halo, dot, label);
    group.addEventListener('click', () => this.onSelect(d.deviceId));
    const trail = svg('g', { class: 'trail' });
    g = { group, halo, ring, dot, label, title, trail, trailKey: '' };
    this.glyphs.set(d.deviceId, g);
    this.layers.devices.append(group);
    this.layers.trails.append(trail);
    return g;
  }

  render(store: DashboardStore, selected: string | null, now: number): void {
    if (this.growFor(store.devices.values())) {
      this.fit();
      this.drawCoverage();
    }
    const fs = this.fontSize;
    let placed = 0;
    for (const d of store.devices.values()) {
      const loc = d.location;
      if (!loc) continue;
      placed++;
      const g = this.glyph(d);
      const name = deviceName(d);
      const cls = `device trust-${d.trustLevel}${d.online ? '' : ' offline'}${d.deviceId === selected ? ' selected' : ''}${d.lastAnomalyAt !== undefined && now - d.lastAnomalyAt < ALERT_HALO_MS ? ' alerting' : ''}`;
      setAttr(g.group, 'class', cls);
      g.group.style.transform = `translate(${loc.x}px, ${-loc.y}px)`;
      const uncertainty = loc.uncertainty ?? 0;
      setAttr(g.ring, 'r', Math.max(uncertainty, 0));
      setAttr(g.dot, 'r', fs * 0.42);
      setAttr(g.halo, 'r', fs * 0.9);
      setAttr(g.label, 'x', fs * 0.7);
      setAttr(g.label, 'y', fs * 0.35);
      setAttr(g.label, 'font-size', fs * 0.85);
      setText(g.label, name);
      setText(
        g.title,
        `${name} — ${d.trustLevel}; ${loc.x.toFixed(2)}, ${loc.y.toFixed(2)} m` +
          (loc.uncertainty !== undefined ? ` ± ${metres(loc.uncertainty, 1)} (95%)` : '') +
          (loc.room ? `; ${loc.room}` : '') +
          `; confidence ${pct(loc.confidence)}`,
      );
      const trailKey = d.trail.map((p) => `${p.x},${p.y}`).join(';');
      if (trailKey !== g.trailKey) {
        g.trailKey = trailKey;
        clear(g.trail);
        const n = d.trail.length;
        for (let i = 1; i < n; i++) {
          const a = d.trail[i - 1]!;
          const b = d.trail[i]!;
          g.trail.append(
            svg('line', {
              x1: a.x,
              y1: -a.y,
              x2: b.x,
              y2: -b.y,
              'stroke-width': fs * 0.22,
              'stroke-opacity': (0.15 + 0.6 * (i / (n - 1))).toFixed(2),
            }),
          );
        }
      }
      setAttr(g.trail, 'class', `trail trust-${d.trustLevel}`);
    }
    // Devices the store forgot (never happens today, but keeps the map honest).
    for (const [id, g] of this.glyphs) {
      if (!store.devices.get(id)?.location) {
        g.group.remove();
        g.trail.remove();
        this.glyphs.delete(id);
      }
    }
    const site = this.site;
    setText(
      this.desc,
      `${placed} located device${placed === 1 ? '' : 's'}` +
        (site ? `, ${site.rooms.length} rooms, ${site.anchors.length} anchors` : '') +
        '. The device table lists the same devices.',
    );
  }
}
