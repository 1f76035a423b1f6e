import { ConvexHull } from './convex-hull';
import { boxPoints, minAreaRect, type RotatedRect } from './min-area-rect';

function rectOf(points: number[]): RotatedRect {
  const hull = new ConvexHull();
  hull.compute(points, 0, points.length / 2);
  return minAreaRect(hull);
}

function cornersOf(rect: RotatedRect): number[] {
  const corners = new Float64Array(8);
  boxPoints(rect, corners);
  return Array.from(corners);
}

describe('minAreaRect and boxPoints', () => {
  it('recovers a rotated rectangle from its corners and points inside it', () => {
    // Sides (4,-3) and (6,8): a 5 x 10 rectangle.
    const rect = rectOf([0, 3, 4, 0, 10, 8, 6, 11, 5, 5, 4, 6]);
    expect([rect.width, rect.height].sort((a, b) => a - b)).toEqual([5, 10]);
    expect(rect.centerX).toBeCloseTo(5, 5);
    expect(rect.centerY).toBeCloseTo(5.5, 5);
    const corners = cornersOf(rect);
    [0, 3, 4, 0, 10, 8, 6, 11].forEach((value, i) => expect(corners[i]).toBeCloseTo(value, 5));
  });

  it('reports an axis-aligned box as OpenCV >= 4.5.1 does: angle 90, width along y', () => {
    const rect = rectOf([0, 0, 9, 0, 9, 2, 0, 2, 4, 1]);
    expect(rect).toEqual({ centerX: 4.5, centerY: 1, width: 2, height: 9, angle: 90 });
    // cos(90°) is not quite 0 in floating point: the first corner's x comes out as -6e-17, as in OpenCV.
    const corners = cornersOf(rect);
    [0, 0, 9, 0, 9, 2, 0, 2].forEach((value, i) => expect(corners[i]).toBeCloseTo(value, 12));
  });

  it('finds the tightest rectangle, not the axis-aligned bounding box', () => {
    // A thin diagonal bar: its bounding box is 10 x 10, its minimum-area rectangle about 1.4 x 14.1.
    const rect = rectOf([0, 1, 1, 0, 10, 9, 9, 10]);
    expect(Math.min(rect.width, rect.height)).toBeCloseTo(Math.SQRT2, 5);
    expect(Math.max(rect.width, rect.height)).toBeCloseTo(9 * Math.SQRT2, 5);
  });

  it('gives collinear points a zero-height rectangle', () => {
    const rect = rectOf([0, 0, 2, 2, 4, 4]);
    expect(rect.height).toBe(0);
    expect(rect.width).toBeCloseTo(4 * Math.SQRT2, 5);
  });

  it('computes in single precision, like OpenCV', () => {
    const rect = rectOf([0, 3, 4, 0, 10, 8, 6, 11]);
    for (const value of [...Object.values(rect), ...cornersOf(rect)]) expect(Math.fround(value)).toBe(value);
  });
});
