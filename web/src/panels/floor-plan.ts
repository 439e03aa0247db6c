// The floor plan: rooms, walls and anchors from the site file; devices with their uncertainty circles and short
// trails; or, in coverage mode, the latest model's held-out error and where to walk next. Drawn in site metres
// (the SVG's user unit), with y pointing up as on a plan, so every position is placed exactly as the hub sent it.
import { type CoverageGrid, coverageGrid, errorColour, type WalkSuggestion, walkNext } from '../coverage.js';
import { clear, h, setAttr, setText, svg } from '../dom.js';
import { metres, pct } from '../format.js';
import type { ModelVersionView } from '../models.js';
import { type Bounds, boundsOf, centroid, type Point, type Site } from '../site.js';
import { type DashboardStore, type DeviceView, deviceName } from '../store.js';

export type MapMode = 'live' | 'coverage';

export const ANIMATED_DEVICES_MAX = 25;

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
  /** Oldest to newest third of the trail, drawn fainter to stronger. */
  trailParts: [SVGPathElement, SVGPathElement, SVGPathElement];
  /** What was drawn last, to skip devices that did not change. */
  rev: number;
  cls: string;
}

function niceStep(span: number): number {
  const raw = span / 10;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

function tooltip(d: DeviceView): string {
  const loc = d.location;
  if (!loc) return deviceName(d);
  return (
    `${deviceName(d)} — ${d.trustLevel}; ${loc.x.toFixed(2)}, ${loc.y.toFixed(2)} m` +
    (loc.uncertainty !== undefined ? ` ± ${metres(loc.uncertainty, 1)} (95%)` : '') +
    (loc.room ? `; ${loc.room}` : '') +
    `; confidence ${pct(loc.confidence)}`
  );
}

const pts = (points: readonly Point[]): string => points.map(([x, y]) => `${x},${-y}`).join(' ');

export class FloorPlan {
  /**
   * Two stacked SVGs with the same viewBox: the plan itself (grid, rooms, walls, coverage, anchors) and, above it on
   * its own compositing layer, what moves (trails, devices). A move then repaints only the moving layer.
   */
  readonly element: HTMLDivElement;
  private readonly staticSvg: SVGSVGElement;
  private readonly liveSvg: SVGSVGElement;
  private readonly title = h('span', { id: 'plan-title', class: 'visually-hidden' });
  private readonly desc = h('span', { id: 'plan-desc', class: 'visually-hidden' });
  private readonly layers = {
    grid: svg('g', { class: 'grid' }),
    rooms: svg('g', { class: 'rooms' }),
    walls: svg('g', { class: 'walls' }),
    coverage: svg('g', { class: 'coverage' }),
    anchors: svg('g', { class: 'anchors' }),
    trails: svg('g', { class: 'trails' }),
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
    const { grid, rooms, walls, coverage, anchors, trails, devices } = this.layers;
    const attrs = { preserveAspectRatio: 'xMidYMid meet', 'aria-hidden': 'true' };
    this.staticSvg = svg(
      'svg',
      { ...attrs, class: 'plan plan-static' },
      svg('defs', {}, this.hatch),
      grid,
      rooms,
      walls,
      coverage,
      anchors,
    );
    this.liveSvg = svg('svg', { ...attrs, class: 'plan plan-live' }, trails, devices);
    // One image to assistive technology, described in words; the device table is the accessible way in.
    this.element = h(
      'div',
      { class: 'plan-stack', role: 'img', 'aria-labelledby': 'plan-title plan-desc' },
      this.title,
      this.desc,
      this.staticSvg,
      this.liveSvg,
    );
    // Strokes are given in screen pixels through --u (metres per pixel), updated when the plan's size changes.
    new ResizeObserver(() => this.updatePixelSize()).observe(this.element);
    this.liveSvg.addEventListener('click', (event) => {
      if (event.target === this.liveSvg) this.onSelect(null);
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

  private viewBox = { w: 10, h: 8 };

  private updatePixelSize(): void {
    const { clientWidth, clientHeight } = this.element;
    if (clientWidth === 0 || clientHeight === 0) return;
    // preserveAspectRatio "meet": the larger ratio is the one in use.
    const u = Math.max(this.viewBox.w / clientWidth, this.viewBox.h / clientHeight);
    this.element.style.setProperty('--u', u.toPrecision(4));
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
    // Room below the floor for the scale bar, so it never sits on an anchor in a corner.
    const bottom = pad + this.fontSize * 1.6;
    const viewBox = `${b.minX - pad} ${-b.maxY - pad} ${w + 2 * pad} ${h + pad + bottom}`;
    setAttr(this.staticSvg, 'viewBox', viewBox);
    setAttr(this.liveSvg, 'viewBox', viewBox);
    this.viewBox = { w: w + 2 * pad, h: h + pad + bottom };
    // The plan's box takes the site's shape (within the limits in styles.css): no wide band in a tall box.
    this.element.style.setProperty('--aspect', (this.viewBox.w / this.viewBox.h).toFixed(3));
    this.updatePixelSize();
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
    // Scale bar, under the floor's bottom left corner, one grid step long.
    const fs = this.fontSize;
    const x0 = b.minX;
    const y0 = -b.minY + fs * 1.45;
    g.append(
      svg('line', { class: 'scale', x1: x0, x2: x0 + step, y1: y0, y2: y0 }),
      svg(
        'text',
        { class: 'scale-label', x: x0 + step + fs * 0.4, y: y0 + fs * 0.28, 'font-size': fs * 0.8 },
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
    // The tooltip is written when the pointer arrives, not on every move of the device.
    group.addEventListener('mouseenter', () => {
      const now = this.store?.devices.get(d.deviceId);
      if (now) setText(title, tooltip(now));
    });
    const parts = [0.2, 0.4, 0.75].map((opacity) =>
      svg('path', { 'stroke-opacity': opacity, fill: 'none' }),
    ) as DeviceGlyph['trailParts'];
    const trail = svg('g', { class: 'trail' }, ...parts);
    g = { group, halo, ring, dot, label, title, trail, trailParts: parts, rev: -1, cls: '' };
    this.glyphs.set(d.deviceId, g);
    this.layers.devices.append(group);
    this.layers.trails.append(trail);
    return g;
  }

  private store: DashboardStore | undefined;

  render(store: DashboardStore, selected: string | null, now: number): void {
    this.store = store;
    let refit = false;
    if (this.growFor(store.devices.values())) {
      this.fit();
      this.drawCoverage();
      refit = true;
    }
    const fs = this.fontSize;
    let placed = 0;
    for (const d of store.devices.values()) {
      const loc = d.location;
      if (!loc) continue;
      placed++;
      const g = this.glyph(d);
      const cls = `device trust-${d.trustLevel}${d.online ? '' : ' offline'}${d.deviceId === selected ? ' selected' : ''}${d.lastAnomalyAt !== undefined && now - d.lastAnomalyAt < ALERT_HALO_MS ? ' alerting' : ''}`;
      // Most frames move a few devices among many: leave the others alone.
      if (g.rev === d.rev && g.cls === cls && !refit) continue;
      g.rev = d.rev;
      g.cls = cls;
      setAttr(g.group, 'class', cls);
      g.group.style.transform = `translate(${loc.x}px, ${-loc.y}px)`;
      setAttr(g.ring, 'r', Math.max(loc.uncertainty ?? 0, 0));
      setAttr(g.dot, 'r', fs * 0.42);
      setAttr(g.halo, 'r', fs * 0.9);
      setAttr(g.label, 'x', fs * 0.7);
      setAttr(g.label, 'y', fs * 0.35);
      setAttr(g.label, 'font-size', fs * 0.85);
      setText(g.label, deviceName(d));
      const n = d.trail.length;
      const cut = [0, Math.floor((n - 1) / 3), Math.floor((2 * (n - 1)) / 3), n - 1];
      g.trailParts.forEach((path, i) => {
        const from = cut[i]!;
        const to = cut[i + 1]!;
        const pts = d.trail.slice(from, to + 1);
        setAttr(
          path,
          'd',
          pts.length > 1 ? pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${p.x} ${-p.y}`).join('') : null,
        );
        setAttr(path, 'stroke-width', fs * 0.22);
      });
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
    // Above this many devices the plan stops animating moves (see styles.css): CPU over smoothness.
    this.element.classList.toggle('many', placed > ANIMATED_DEVICES_MAX);
    const site = this.site;
    setText(
      this.desc,
      `${placed} located device${placed === 1 ? '' : 's'}` +
        (site ? `, ${site.rooms.length} rooms, ${site.anchors.length} anchors` : '') +
        '. The device table lists the same devices.',
    );
  }
}
