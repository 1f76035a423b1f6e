import { convexPolygonIoU, type PointLike } from './polygon-iou';

const rect = (x0: number, y0: number, x1: number, y1: number): PointLike[] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];

describe('convexPolygonIoU', () => {
  it('is 1 for the same quad and 0 for disjoint ones', () => {
    expect(convexPolygonIoU(rect(0, 0, 4, 2), rect(0, 0, 4, 2))).toBeCloseTo(1, 12);
    expect(convexPolygonIoU(rect(0, 0, 4, 2), rect(5, 0, 9, 2))).toBe(0);
  });

  it('measures partial overlap, whatever the winding of either quad', () => {
    const shifted = rect(2, 0, 6, 2);
    expect(convexPolygonIoU(rect(0, 0, 4, 2), shifted)).toBeCloseTo(1 / 3, 12);
    expect(convexPolygonIoU([...rect(0, 0, 4, 2)].reverse(), shifted)).toBeCloseTo(1 / 3, 12);
    expect(convexPolygonIoU(rect(0, 0, 4, 2), [...shifted].reverse())).toBeCloseTo(1 / 3, 12);
  });

  it('handles rotated quads', () => {
    const diamond: PointLike[] = [[1, 0], [2, 1], [1, 2], [0, 1]];
    expect(convexPolygonIoU(rect(0, 0, 2, 2), diamond)).toBeCloseTo(0.5, 12);
  });

  it('is 0 for a degenerate quad', () => {
    expect(convexPolygonIoU(rect(0, 0, 4, 0), rect(0, 0, 4, 2))).toBe(0);
  });
});
