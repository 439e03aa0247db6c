import type { TopLevelSpec } from 'vega-lite';
import { quantileSorted, round } from '../sample.js';
import { INK, MUTED, NORMAL } from '../theme.js';

export interface RoomErrors {
  room: string;
  /** Position errors in metres of the fixes whose true room is `room`. */
  errors: readonly number[];
  /** Fraction of those fixes placed in the right room, when rooms were predicted. */
  roomAccuracy?: number;
}

export interface ErrorByRoomData {
  rooms: readonly RoomErrors[];
  title?: string;
  width?: number;
}

/**
 * Error per room as a compact box plot (whiskers p10–p90, box quartiles, tick median), sorted worst first, with the
 * sample size and room accuracy written beside each row: where to walk again.
 */
export function errorByRoomSpec(data: ErrorByRoomData): TopLevelSpec {
  const rows = data.rooms
    .filter((r) => r.errors.length > 0)
    .map((r) => {
      const s = [...r.errors].sort((a, b) => a - b);
      const acc = r.roomAccuracy === undefined ? '' : ` · room ${(r.roomAccuracy * 100).toFixed(0)}%`;
      return {
        room: r.room,
        p10: round(quantileSorted(s, 0.1)),
        q1: round(quantileSorted(s, 0.25)),
        median: round(quantileSorted(s, 0.5)),
        q3: round(quantileSorted(s, 0.75)),
        p90: round(quantileSorted(s, 0.9)),
        label: `n=${s.length}${acc}`,
      };
    })
    .sort((a, b) => b.median - a.median);
  const xMax = Math.max(1e-3, ...rows.map((r) => r.p90));
  const y = { field: 'room', type: 'nominal', title: null, sort: rows.map((r) => r.room) } as const;
  const x = { type: 'quantitative', scale: { domain: [0, xMax * 1.35], nice: false } } as {
    type: 'quantitative';
    scale: { domain: number[]; nice: boolean };
  };
  return {
    ...(data.title === undefined ? {} : { title: data.title }),
    width: data.width ?? 420,
    height: { step: 26 },
    data: { values: rows },
    layer: [
      {
        name: 'whiskers',
        mark: { type: 'rule', color: '#9aa5b1' },
        encoding: { y, x: { ...x, field: 'p10', title: 'position error (m)' }, x2: { field: 'p90' } },
      },
      {
        name: 'boxes',
        mark: { type: 'bar', color: NORMAL, opacity: 0.35, height: 14, cornerRadius: 2 },
        encoding: { y, x: { ...x, field: 'q1' }, x2: { field: 'q3' } },
      },
      {
        name: 'medians',
        mark: { type: 'tick', color: INK, thickness: 2.5, size: 16 },
        encoding: { y, x: { ...x, field: 'median' } },
      },
      {
        name: 'counts',
        mark: { type: 'text', align: 'left', dx: 6, fontSize: 10, color: MUTED },
        encoding: { y, x: { ...x, field: 'p90' }, text: { field: 'label' } },
      },
    ],
  } as TopLevelSpec;
}
