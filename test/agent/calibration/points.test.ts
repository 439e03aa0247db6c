import { describe, expect, it } from 'vitest';
import { parsePointLine, parsePointsFile } from '../../../src/agent/calibration/points.js';

describe('calibration points', () => {
  it('reads "x y [room]", "x,y,room" and JSON lines; skips blanks and comments', () => {
    expect(parsePointLine('1 2')).toEqual({ x: 1, y: 2 });
    expect(parsePointLine(' 1.5,-2 , kitchen')).toEqual({ x: 1.5, y: -2, room: 'kitchen' });
    expect(parsePointLine('{"x":3,"y":4,"room":"hall","floor":1}')).toEqual({
      x: 3,
      y: 4,
      room: 'hall',
      floor: 1,
    });
    expect(parsePointLine('')).toBeUndefined();
    expect(parsePointLine('# a comment')).toBeUndefined();
  });

  it('says what is wrong', () => {
    expect(() => parsePointLine('1')).toThrow(/expected "x y \[room\]"/);
    expect(() => parsePointLine('a b')).toThrow(/expected/);
    expect(() => parsePointLine('{"x":1}')).toThrow(/y/);
    expect(() => parsePointLine('{"x":1,"y":2,"z":3}')).toThrow(/Unrecognized key/);
  });

  it('reads a JSON array file or a line file, naming the bad line', () => {
    expect(parsePointsFile('[{"x":1,"y":2},{"x":3,"y":4,"room":"hall"}]')).toHaveLength(2);
    expect(parsePointsFile('1 1\n\n2 2 office\n')).toEqual([
      { x: 1, y: 1 },
      { x: 2, y: 2, room: 'office' },
    ]);
    expect(() => parsePointsFile('1 1\n2\n')).toThrow(/line 2/);
    expect(() => parsePointsFile('# nothing\n')).toThrow(/no points/);
    expect(() => parsePointsFile('[{"x":1}]')).toThrow(/points file: 0\.y/);
  });
});
