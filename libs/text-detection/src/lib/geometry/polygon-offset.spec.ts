import { RoundJoinOffsetter } from './polygon-offset';

function offsetOf(corners: number[], delta: number): number[][] {
  const offsetter = new RoundJoinOffsetter();
  const count = offsetter.offset(corners, corners.length / 2, delta);
  return Array.from({ length: count }, (_, i) => [offsetter.points[2 * i], offsetter.points[2 * i + 1]]);
}

const byPosition = (a: number[], b: number[]): number => a[0] - b[0] || a[1] - b[1];

describe('RoundJoinOffsetter (pyclipper JT_ROUND, ET_CLOSEDPOLYGON)', () => {
  it('moves every edge out by delta and rounds each corner with integer arc points', () => {
    // At delta 2 and arc tolerance 0.25 a quarter turn takes two arc steps: one point between the edge ends.
    expect(offsetOf([0, 0, 10, 0, 10, 10, 0, 10], 2)).toEqual([
      [-2, 0], [-1, -2], [0, -2],
      [10, -2], [12, -1], [12, 0],
      [12, 10], [11, 12], [10, 12],
      [0, 12], [-2, 11], [-2, 10],
    ]);
  });

  it('gives the same outline whichever way the corners run', () => {
    const clockwise = offsetOf([0, 0, 10, 0, 10, 10, 0, 10], 3.7).sort(byPosition);
    const counterClockwise = offsetOf([0, 0, 0, 10, 10, 10, 10, 0], 3.7).sort(byPosition);
    expect(counterClockwise).toEqual(clockwise);
  });

  it('approximates the rounded outline to within the arc tolerance plus rounding', () => {
    const delta = 13.03;
    for (const [x, y] of offsetOf([718, 704, 718, 689, 817, 689, 817, 704], delta)) {
      const dx = Math.max(718 - x, 0, x - 817);
      const dy = Math.max(689 - y, 0, y - 704);
      expect(Math.hypot(dx, dy)).toBeGreaterThan(delta - 0.25 - Math.SQRT1_2);
      expect(Math.hypot(dx, dy)).toBeLessThan(delta + Math.SQRT1_2);
    }
  });

  it('ignores a repeated closing corner and drops polygons with fewer than three distinct corners', () => {
    expect(offsetOf([0, 0, 10, 0, 10, 10, 0, 10, 0, 0], 2)).toHaveLength(12);
    expect(offsetOf([0, 0, 5, 5, 5, 5, 0, 0], 2)).toEqual([]);
  });

  it('returns the polygon itself for a zero offset and refuses to shrink', () => {
    expect(offsetOf([0, 0, 4, 0, 4, 3], 0)).toEqual([[0, 0], [4, 0], [4, 3]]);
    expect(() => offsetOf([0, 0, 4, 0, 4, 3], -1)).toThrow(RangeError);
  });
});
