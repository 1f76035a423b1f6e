import { polygonArea, polygonPerimeter } from './polygon';

describe('polygonArea and polygonPerimeter', () => {
  it('measure a rotated rectangle in either winding', () => {
    const corners = [0, 3, 4, 0, 10, 8, 6, 11];
    const reversed = [6, 11, 10, 8, 4, 0, 0, 3];
    expect(polygonArea(corners, 4)).toBeCloseTo(50, 12);
    expect(polygonArea(reversed, 4)).toBeCloseTo(50, 12);
    expect(polygonPerimeter(corners, 4)).toBeCloseTo(30, 12);
  });

  it('give a degenerate polygon no area', () => {
    expect(polygonArea([0, 0, 5, 5], 2)).toBe(0);
  });
});
