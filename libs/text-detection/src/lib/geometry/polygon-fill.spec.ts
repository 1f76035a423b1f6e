import { PolygonRasterizer } from './polygon-fill';

/** The mask cv2.fillPoly would leave, as rows of '#' and '.'. */
function fillOf(width: number, height: number, corners: number[]): string[] {
  const mask = new Uint8Array(width * height);
  new PolygonRasterizer().fill(mask, width, height, corners, corners.length / 2);
  return Array.from({ length: height }, (_, y) =>
    Array.from(mask.subarray(y * width, (y + 1) * width), (value) => (value ? '#' : '.')).join(''),
  );
}

describe('PolygonRasterizer (cv2.fillPoly, LINE_8)', () => {
  it('covers a rectangle including its right and bottom edges (the outline is drawn too)', () => {
    expect(fillOf(6, 5, [1, 1, 4, 1, 4, 3, 1, 3])).toEqual(['......', '.####.', '.####.', '.####.', '......']);
  });

  it('fills a diamond row by row', () => {
    expect(fillOf(5, 5, [2, 0, 4, 2, 2, 4, 0, 2])).toEqual(['..#..', '.###.', '#####', '.###.', '..#..']);
  });

  it('adds the Bresenham pixels of sloped edges to the scanline interior', () => {
    // Interior rows span [0, 6], [0, 4], [0, 2]; the hypotenuse's line adds (5,1), (3,2) and row 3's (0..1).
    expect(fillOf(8, 4, [0, 0, 6, 0, 0, 3])).toEqual(['#######.', '######..', '####....', '##......']);
  });

  it('clips polygons that reach outside the mask', () => {
    expect(fillOf(4, 4, [-2, -2, 2, -2, 2, 2, -2, 2])).toEqual(['###.', '###.', '###.', '....']);
    expect(fillOf(3, 3, [-5, -5, -1, -5, -1, -1])).toEqual(['...', '...', '...']);
  });

  it('fills concave polygons by the even-odd rule', () => {
    // A U shape: the notch stays empty.
    expect(fillOf(5, 4, [0, 0, 1, 0, 1, 2, 3, 2, 3, 0, 4, 0, 4, 3, 0, 3])).toEqual([
      '##.##',
      '##.##',
      '#####',
      '#####',
    ]);
  });
});
