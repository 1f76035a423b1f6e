import { PaddedBinaryImage } from './binary-image';
import { ContourSet, findContours } from './contours';

/** Binary image from rows of '#' (foreground) and '.' (background). */
function imageOf(rows: string[]): PaddedBinaryImage {
  const width = rows[0].length;
  const map = new Float32Array(width * rows.length);
  rows.forEach((row, y) => [...row].forEach((cell, x) => (map[y * width + x] = cell === '#' ? 1 : 0)));
  const image = new PaddedBinaryImage();
  image.threshold(map, width, rows.length, 0.5);
  return image;
}

function contoursOf(image: PaddedBinaryImage): number[][][] {
  const contours = new ContourSet();
  findContours(image, contours);
  return Array.from({ length: contours.count }, (_, i) =>
    Array.from({ length: contours.length(i) }, (_, k) => {
      const point = contours.start(i) + k;
      return [contours.points[2 * point], contours.points[2 * point + 1]];
    }),
  );
}

describe('findContours (RETR_LIST, CHAIN_APPROX_SIMPLE)', () => {
  it('keeps only the corners of a filled rectangle, counter-clockwise from its top-left pixel', () => {
    expect(contoursOf(imageOf(['......', '.####.', '.####.', '.####.', '......']))).toEqual([
      [[1, 1], [1, 3], [4, 3], [4, 1]],
    ]);
  });

  it("counts pixels on the image's edge, as OpenCV's zero padding does", () => {
    expect(contoursOf(imageOf(['####', '####']))).toEqual([[[0, 0], [0, 1], [3, 1], [3, 0]]]);
  });

  it("returns a hole's border as well as the outer one, the hole first (found last)", () => {
    expect(contoursOf(imageOf(['#####', '#####', '##.##', '#####', '#####']))).toEqual([
      [[1, 2], [2, 1], [3, 2], [2, 3]],
      [[0, 0], [0, 4], [4, 4], [4, 0]],
    ]);
  });

  it('traces a one-pixel-wide frame on the border as an outer and an inner contour', () => {
    expect(contoursOf(imageOf(['######', '#....#', '#....#', '######']))).toEqual([
      [[0, 1], [1, 0], [4, 0], [5, 1], [5, 2], [4, 3], [1, 3], [0, 2]],
      [[0, 0], [0, 3], [5, 3], [5, 0]],
    ]);
  });

  it('joins diagonal neighbours (8-connectivity) and keeps a lone pixel as one point', () => {
    expect(contoursOf(imageOf(['#...', '.#..', '..#.']))).toEqual([[[0, 0], [2, 2]]]);
    expect(contoursOf(imageOf(['...', '.#.', '...']))).toEqual([[[1, 1]]]);
  });

  it('lists separate regions in reverse scan order, like cv2.findContours', () => {
    expect(contoursOf(imageOf(['#..', '...', '..#']))).toEqual([[[2, 2]], [[0, 0]]]);
  });

  it('finds nothing in an empty image', () => {
    expect(contoursOf(imageOf(['....', '....']))).toEqual([]);
  });
});

describe('PaddedBinaryImage', () => {
  it('dilates with a 2x2 kernel towards the bottom-right, as cv2.dilate with its default anchor', () => {
    const image = imageOf(['....', '.#..', '....', '....']);
    image.dilate2x2();
    expect(contoursOf(image)).toEqual([[[1, 1], [1, 2], [2, 2], [2, 1]]]);
  });

  it('thresholds strictly above the threshold', () => {
    const image = new PaddedBinaryImage();
    image.threshold(new Float32Array([0.3, 0.31, 0.29, 0.3]), 4, 1, Math.fround(0.3));
    expect(contoursOf(image)).toEqual([[[1, 0]]]);
  });

  it('gives the same contours when reused for images of other sizes', () => {
    const rows = ['.....', '.##..', '.##..', '.....'];
    const image = imageOf(rows);
    const wide = new Float32Array(13 * 7).fill(1);
    image.threshold(wide, 13, 7, 0.5);
    expect(contoursOf(image)).toEqual([[[0, 0], [0, 6], [12, 6], [12, 0]]]);
    const map = new Float32Array(rows.join('').split('').map((cell) => (cell === '#' ? 1 : 0)));
    image.threshold(map, 5, 4, 0.5);
    expect(contoursOf(image)).toEqual([[[1, 1], [1, 2], [2, 2], [2, 1]]]);
  });

  it('rejects a map smaller than its stated size', () => {
    expect(() => new PaddedBinaryImage().threshold(new Float32Array(10), 4, 3, 0.5)).toThrow(RangeError);
  });
});
