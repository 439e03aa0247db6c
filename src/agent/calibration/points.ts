import { z } from 'zod';

/** A known point of a calibration walk, metres in site coordinates. */
export const WalkPoint = z.strictObject({
  x: z.number().finite().min(-100_000).max(100_000),
  y: z.number().finite().min(-100_000).max(100_000),
  room: z.string().min(1).max(256).optional(),
  floor: z.number().int().min(-100).max(1000).optional(),
});
export type WalkPoint = z.infer<typeof WalkPoint>;

/**
 * One point from one line: `x y [room]`, `x,y[,room]` or a JSON object `{"x":1,"y":2,"room":"hall"}`. Blank lines and
 * `#` comments give undefined. Throws with a message saying what was expected.
 */
export function parsePointLine(line: string): WalkPoint | undefined {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return undefined;
  let value: unknown;
  if (text.startsWith('{')) {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new Error(`not valid JSON: ${(error as Error).message}`);
    }
  } else {
    const parts = text.split(/[\s,;]+/).filter((p) => p !== '');
    const [xs, ys, room] = parts;
    const x = Number(xs);
    const y = Number(ys);
    if (parts.length < 2 || parts.length > 3 || !Number.isFinite(x) || !Number.isFinite(y)) {
      throw new Error(`expected "x y [room]" (metres), got "${text.slice(0, 80)}"`);
    }
    value = { x, y, ...(room === undefined ? {} : { room }) };
  }
  const parsed = WalkPoint.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue?.path.join('.') || 'point'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * A points file: a JSON array of points, or one point per line (any form `parsePointLine` reads). Errors name the
 * line.
 */
export function parsePointsFile(text: string): WalkPoint[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new Error(`points file is not valid JSON: ${(error as Error).message}`);
    }
    const parsed = z.array(WalkPoint).min(1).safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`points file: ${issue?.path.join('.') || 'array'}: ${issue?.message ?? 'invalid'}`);
    }
    return parsed.data;
  }
  const points: WalkPoint[] = [];
  text.split('\n').forEach((line, i) => {
    try {
      const p = parsePointLine(line);
      if (p !== undefined) points.push(p);
    } catch (error) {
      throw new Error(`points file line ${i + 1}: ${(error as Error).message}`);
    }
  });
  if (points.length === 0) throw new Error('points file has no points');
  return points;
}
