import { ConvexHull } from './convex-hull';

function hullOf(points: number[]): number[] {
  const hull = new ConvexHull();
  hull.compute(points, 0, points.length / 2);
  return Array.from(hull.points.subarray(0, 2 * hull.size));
}

describe('ConvexHull', () => {
  it('keeps strict corners only, starting where cv2.convexHull does for points in contour order', () => {
    // Interior (1,1) and collinear (1,0) go; OpenCV shifts the hull so input indices ascend from corner 0.
    expect(hullOf([0, 0, 2, 0, 2, 2, 0, 2, 1, 1, 1, 0])).toEqual([0, 0, 2, 0, 2, 2, 0, 2]);
  });

  it('runs clockwise on screen from the right-most point when indices give no order', () => {
    expect(hullOf([1, 1, 0, 0, 3, 0, 0, 3, 3, 3])).toEqual([3, 3, 0, 3, 0, 0, 3, 0]);
  });

  it('reads a slice of a larger point list and handles negative coordinates', () => {
    const hull = new ConvexHull();
    hull.compute([99, 99, -3, -2, 4, -2, 4, 5, -3, 5, 0, 0, 99, 99], 1, 5);
    expect(Array.from(hull.points.subarray(0, 2 * hull.size))).toEqual([-3, -2, 4, -2, 4, 5, -3, 5]);
  });

  it('reduces repeated and collinear points to one or two corners', () => {
    expect(hullOf([5, 5, 5, 5, 5, 5])).toEqual([5, 5]);
    expect(hullOf([0, 0, 1, 1, 2, 2, 3, 3])).toHaveLength(4);
  });
});
