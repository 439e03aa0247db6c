import type { Point } from '../models/positioning/geometry.js';
import { rectangle } from '../models/positioning/geometry.js';
import { Site, type SiteInput } from '../models/positioning/site.js';
import { DEFAULT_RADIO, type RadioParams } from './radio.js';

/** A site, its radio channel and named tracks (waypoints with samples per segment). */
export interface Scenario {
  name: string;
  site: Site;
  radio: RadioParams;
  tracks: Record<string, { points: Point[]; samplesPerSegment: number }>;
  /** Where the numbers come from, for reports. */
  note: string;
}

/**
 * ESPresense-companion's published accuracy scenario `baseline_4node_6x4m`, as described in
 * ../shared/benchmarks/espresense-scenario.md: 6 m × 4 m, living room x ∈ [0, 4] declared first (it wins on the
 * shared wall x = 4), bedroom x ∈ [4, 6]; four stations in the ceiling corners at z = 2.4 m; rssi = −59 − 30·log10(d)
 * with d in 3-D; σ = 2.5 dB Gaussian on every sample and 10 % of samples a further −6 dB; RSSI only, no wall loss.
 * The tracks' waypoints are those of the upstream scenario file (tools/accuracy_harness/scenarios/
 * baseline_4node_6x4m.json in ESPresense/ESPresense), 30 samples per segment: 61 and 121 samples. Upstream insets its
 * stations 0.2 m from the corners; the description (which we follow) puts them in the corners — `stationInsetM`
 * reproduces upstream's placement.
 */
export function espresenseScenario(
  options: { deviceHeight?: number; stationInsetM?: number } = {},
): Scenario {
  const h = options.deviceHeight ?? 0;
  const e = options.stationInsetM ?? 0;
  const site: SiteInput = {
    name: 'baseline_4node_6x4m',
    units: 'm',
    note: 'ESPresense-companion accuracy baseline (docs/accuracy.md), reproduced from ../shared/benchmarks/espresense-scenario.md',
    bounds: { minX: 0, minY: 0, maxX: 6, maxY: 4 },
    anchors: [
      // Ids are RFC 5737 documentation addresses (the protocol names anchors by IP): names only, never contacted.
      { id: '192.0.2.11', label: 'node-living-sw', x: e, y: e, z: 2.4, kind: 'agent' },
      { id: '192.0.2.12', label: 'node-living-nw', x: e, y: 4 - e, z: 2.4, kind: 'agent' },
      { id: '192.0.2.13', label: 'node-bedroom-se', x: 6 - e, y: e, z: 2.4, kind: 'agent' },
      { id: '192.0.2.14', label: 'node-bedroom-ne', x: 6 - e, y: 4 - e, z: 2.4, kind: 'agent' },
    ],
    rooms: [
      { id: 'living', name: 'Living room', polygon: rectangle(0, 0, 4, 4) },
      { id: 'bedroom', name: 'Bedroom', polygon: rectangle(4, 0, 6, 4) },
    ],
  };
  return {
    name: 'baseline_4node_6x4m',
    site: Site.parse(site),
    radio: {
      ...DEFAULT_RADIO,
      rssiAt1m: -59,
      exponent: 3,
      shadowingSigmaDb: 2.5,
      multipathProbability: 0.1,
      multipathDb: 6,
      wallDb: 0,
      sensitivityDbm: -120,
      deviceHeight: h,
      dropProbability: 0,
      rttByKind: {},
      defaultRtt: 'none',
    },
    tracks: {
      diagonal_walk: {
        points: [
          { x: 0.5, y: 0.5 },
          { x: 3, y: 2 },
          { x: 5.5, y: 3.5 },
        ],
        samplesPerSegment: 30,
      },
      living_to_bedroom: {
        points: [
          { x: 1, y: 2 },
          { x: 3, y: 2 },
          { x: 3.9, y: 2 },
          { x: 4.1, y: 2 },
          { x: 5, y: 2 },
        ],
        samplesPerSegment: 30,
      },
    },
    note: 'ESPresense baseline_4node_6x4m (4 ceiling nodes, 6×4 m, two rooms, σ 2.5 dB, 10 % multipath at −6 dB)',
  };
}

/**
 * The demo home: 10 m × 8 m, four rooms and a hall with interior walls (doors are gaps), a router (gateway,
 * ping-grade RTT), two 802.11mc access points (FTM-grade RTT), the agent's PC (ping-grade) and a BLE beacon
 * (RSSI only).
 */
export function demoHomeScenario(): Scenario {
  const wall = (x1: number, y1: number, x2: number, y2: number, db = 5) => ({
    from: { x: x1, y: y1 },
    to: { x: x2, y: y2 },
    attenuationDb: db,
  });
  const site: SiteInput = {
    name: 'demo-home',
    units: 'm',
    note: 'Simulated home of the SmartBlueprint demo (src/sim/scenarios.ts)',
    bounds: { minX: 0, minY: 0, maxX: 10, maxY: 8 },
    anchors: [
      { id: '192.168.1.1', label: 'router', x: 0.5, y: 0.5, z: 1, kind: 'gateway' },
      { id: '192.168.1.2', label: 'ap-living', x: 9.5, y: 0.5, z: 2.2, kind: 'access_point' },
      { id: '192.168.1.3', label: 'ap-upstairs-landing', x: 5, y: 7.5, z: 2.2, kind: 'access_point' },
      { id: '192.168.1.100', label: 'agent-pc', x: 0.5, y: 7.5, z: 0.8, kind: 'agent' },
      { id: '192.168.1.50', label: 'kitchen-beacon', x: 9.5, y: 7.5, z: 1.5, kind: 'beacon' },
    ],
    rooms: [
      { id: 'living', name: 'Living room', polygon: rectangle(0, 0, 6, 4) },
      { id: 'kitchen', name: 'Kitchen', polygon: rectangle(6, 0, 10, 4) },
      { id: 'hall', name: 'Hall', polygon: rectangle(0, 4, 10, 5) },
      { id: 'office', name: 'Office', polygon: rectangle(0, 5, 5, 8) },
      { id: 'bedroom', name: 'Bedroom', polygon: rectangle(5, 5, 10, 8) },
    ],
    walls: [
      // living | kitchen, door at y 1.5–2.5
      wall(6, 0, 6, 1.5),
      wall(6, 2.5, 6, 4),
      // south rooms | hall, doors at x 2–3 and 7–8
      wall(0, 4, 2, 4),
      wall(3, 4, 7, 4),
      wall(8, 4, 10, 4),
      // hall | north rooms, doors at x 1–2 and 8–9
      wall(0, 5, 1, 5),
      wall(2, 5, 8, 5),
      wall(9, 5, 10, 5),
      // office | bedroom
      wall(5, 5, 5, 8, 8),
    ],
  };
  return {
    name: 'demo-home',
    site: Site.parse(site),
    radio: { ...DEFAULT_RADIO },
    tracks: {
      tour: {
        points: [
          { x: 1, y: 1 },
          { x: 2.5, y: 4.5 },
          { x: 8.5, y: 4.5 },
          { x: 8.5, y: 7 },
          { x: 8.5, y: 4.5 },
          { x: 7.5, y: 2 },
        ],
        samplesPerSegment: 20,
      },
    },
    note: 'demo home: 5 rooms with walls, gateway/agent ping-grade RTT, two FTM access points, one BLE beacon',
  };
}
