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

export const ANIMATED_DEVICES_MAX = 12;

/** An anomaly keeps its device's halo pulsing this long. */
const ALERT_HALO_MS = 60_000;

/**
 * A device on the plan. The marker (dot, uncertainty disc, label) is an HTML element on its own compositing layer,
 * placed with a CSS transform in screen pixels, so a move is eased by the compositor without repainting anything;
 * the trail is SVG in site metres.
 */
interface DeviceGlyph {
  marker: HTMLDivElement;
  disc: HTMLDivElement;
  label: HTMLSpanElement;
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
   * Stacked: the plan itself (SVG: grid, rooms, walls, coverage, anchors), the trails (SVG, same viewBox, its own
   * compositing layer) and the device markers (HTML, each on its own layer). A move repaints neither the plan nor
   * the other devices.
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
  };
  private readonly markers = h('div', { class: 'markers' });
  /** Site metres → pixels of the plan box (preserveAspectRatio "meet"). */
  private px = { scale: 50, x0: 0, y0: 0 };
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
    const { grid, rooms, walls, coverage, anchors, trails } = this.layers;
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
    this.liveSvg = svg('svg', { ...attrs, class: 'plan plan-live' }, trails);
    // One image to assistive technology, described in words; the device table is the accessible way in.
    this.element = h(
      'div',
      { class: 'plan-stack', role: 'img', 'aria-labelledby': 'plan-title plan-desc' },
      this.title,
      this.desc,
      this.staticSvg,
      this.liveSvg,
      this.markers,
    );
    // Strokes are given in screen pixels through --u (metres per pixel); markers are placed in pixels. Both follow
    // the plan's size.
    new ResizeObserver(() => {
      this.updatePixelSize();
      for (const g of this.glyphs.values()) g.rev = -1;
      if (this.store) this.render(this.store, this.selected, Date.now());
    }).observe(this.element);
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

  /** In SVG user units: x = metres, y = −metres (y up on the plan). */
  private viewBox = { x: 0, y: -8, w: 10, h: 8 };

  private updatePixelSize(): void {
    const { clientWidth, clientHeight } = this.element;
    if (clientWidth === 0 || clientHeight === 0) return;
    // preserveAspectRatio "meet": the larger ratio is the one in use.
    const u = Math.max(this.viewBox.w / clientWidth, this.viewBox.h / clientHeight);
    this.element.style.setProperty('--u', u.toPrecision(4));
    const scale = 1 / u;
    this.px = {
      scale,
      x0: (clientWidth - this.viewBox.w * scale) / 2 - this.viewBox.x * scale,
      y0: (clientHeight - this.viewBox.h * scale) / 2 - this.viewBox.y * scale,
    };
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
    this.viewBox = { x: b.minX - pad, y: -b.maxY - pad, w: w + 2 * pad, h: h + pad + bottom };
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
    const disc = h('div', { class: 'uncertainty' });
    const label = h('span', { class: 'device-label' });
    // Mouse shortcut only: the plan is one image to assistive technology; the device table is the keyboard path.
    const marker = h(
      'div',
      { class: 'device', 'data-device-id': d.deviceId },
      disc,
      h('div', { class: 'halo' }),
      h('div', { class: 'dot' }),
      label,
    );
    marker.addEventListener('click', () => this.onSelect(d.deviceId));
    // The tooltip is written when the pointer arrives, not on every move of the device.
    marker.addEventListener('mouseenter', () => {
      const now = this.store?.devices.get(d.deviceId);
      if (now) marker.title = tooltip(now);
    });
    const parts = [0.2, 0.4, 0.75].map((opacity) =>
      svg('path', { 'stroke-opacity': opacity, fill: 'none' }),
    ) as DeviceGlyph['trailParts'];
    const trail = svg('g', { class: 'trail' }, ...parts);
    g = { marker, disc, label, trail, trailParts: parts, rev: -1, cls: '' };
    this.glyphs.set(d.deviceId, g);
    this.markers.append(marker);
    this.layers.trails.append(trail);
    return g;
  }

  private store: DashboardStore | undefined;
  private selected: string | null = null;

  render(store: DashboardStore, selected: string | null, now: number): void {
    this.store = store;
    this.selected = selected;
    let refit = false;
    if (this.growFor(store.devices.values())) {
      this.fit();
      this.drawCoverage();
      refit = true;
    }
    const fs = this.fontSize;
    const { scale, x0, y0 } = this.px;
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
      setAttr(g.marker, 'class', cls);
      // Site metres for whoever reads the page (tests); pixels for the compositor.
      setAttr(g.marker, 'data-x', loc.x);
      setAttr(g.marker, 'data-y', loc.y);
      setAttr(g.marker, 'data-uncertainty', loc.uncertainty ?? null);
      g.marker.style.transform = `translate(${(x0 + loc.x * scale).toFixed(1)}px, ${(y0 - loc.y * scale).toFixed(1)}px)`;
      // The disc is drawn 200 px wide (styles.css) and scaled: a new radius changes a transform, not the layout.
      const r = Math.max(loc.uncertainty ?? 0, 0) * scale;
      const discTransform = `scale(${(r / 100).toFixed(4)})`;
      if (g.disc.style.transform !== discTransform) g.disc.style.transform = discTransform;
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
        g.marker.remove();
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
