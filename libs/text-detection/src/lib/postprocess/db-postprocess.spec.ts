import type { DbPostprocessOptions } from '../types';
import { convexPolygonIoU, type PointLike } from '../geometry/polygon-iou';
import { PRESETS } from '../presets';
import { DbPostprocessor } from './db-postprocess';

/** The original sample's settings. */
const seed: DbPostprocessOptions = PRESETS.seed.postprocess;

class ProbabilityMap {
  readonly data: Float32Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Float32Array(width * height);
  }

  /** Sets pixels x0..x1, y0..y1 (inclusive). */
  rect(x0: number, y0: number, x1: number, y1: number, value = 0.9): this {
    return this.where((x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1, value);
  }

  where(inside: (x: number, y: number) => boolean, value = 0.9): this {
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) if (inside(x, y)) this.data[y * this.width + x] = value;
    }
    return this;
  }

  boxes(options: Partial<DbPostprocessOptions> = {}, destWidth = this.width, destHeight = this.height) {
    return new DbPostprocessor().run(this.data, this.width, this.height, destWidth, destHeight, { ...seed, ...options });
  }
}

/** Twice the signed area in screen axes: positive when the points run clockwise on screen. */
function clockwiseness(points: readonly PointLike[]): number {
  return points.reduce((sum, [x, y], i) => {
    const [nx, ny] = points[(i + 1) % points.length];
    return sum + x * ny - nx * y;
  }, 0);
}

describe('DbPostprocessor', () => {
  it('reports an axis-aligned text region as its box grown by the unclip distance', () => {
    // 20 x 8 pixels: a 19 x 7 box through the pixel centres, unclipped by 133 * 2 / 52 = 5.1 pixels.
    const boxes = new ProbabilityMap(64, 64).rect(10, 20, 29, 27).boxes();
    expect(boxes).toHaveLength(1);
    expect(boxes[0].points).toEqual([
      [5, 15],
      [34, 15],
      [34, 32],
      [5, 32],
    ]);
    expect(boxes[0].score).toBeCloseTo(0.9, 6);
  });

  it('scales boxes to the destination size, rounding halves to even as np.round does', () => {
    // 5 / 64 * 32 = 2.5 -> 2 and 15 / 64 * 32 = 7.5 -> 8.
    const boxes = new ProbabilityMap(64, 64).rect(10, 20, 29, 27).boxes({}, 32, 32);
    expect(boxes[0].points).toEqual([
      [2, 8],
      [17, 8],
      [17, 16],
      [2, 16],
    ]);
  });

  it('maps a square map back to a frame of another shape', () => {
    const boxes = new ProbabilityMap(96, 96).rect(30, 40, 59, 49).boxes({}, 640, 480);
    const [[x0, y0], , [x2, y2]] = boxes[0].points;
    // A 29 x 9 box unclipped by 261 * 2 / 76 = 6.9: 23..66 x 33..56 in the map; x * 640 / 96, y * 480 / 96 in the frame.
    expect([x0, y0, x2, y2]).toEqual([153, 165, 440, 280]);
  });

  it('follows a rotated text region, corners clockwise from the top-left', () => {
    const angle = (20 * Math.PI) / 180;
    const [cx, cy, halfLength, halfHeight] = [48, 40, 25, 6];
    const inRegion = (x: number, y: number): boolean => {
      const along = (x - cx) * Math.cos(angle) + (y - cy) * Math.sin(angle);
      const across = -(x - cx) * Math.sin(angle) + (y - cy) * Math.cos(angle);
      return Math.abs(along) <= halfLength && Math.abs(across) <= halfHeight;
    };
    const boxes = new ProbabilityMap(96, 80).where(inRegion).boxes();
    expect(boxes).toHaveLength(1);
    const [topLeft, topRight, , bottomLeft] = boxes[0].points;
    const topEdgeDegrees = (Math.atan2(topRight[1] - topLeft[1], topRight[0] - topLeft[0]) * 180) / Math.PI;
    expect(Math.abs(topEdgeDegrees - 20)).toBeLessThan(1.5);
    expect(topLeft[0]).toBeLessThan(topRight[0]);
    expect(topLeft[1]).toBeLessThan(bottomLeft[1]);
    expect(clockwiseness(boxes[0].points)).toBeGreaterThan(0);
    // The region grown by its unclip distance (about 2 * 50 * 12 / 124 = 9.7) on every side.
    const grow = 9.7;
    const corner = (along: number, across: number): PointLike => [
      cx + along * Math.cos(angle) - across * Math.sin(angle),
      cy + along * Math.sin(angle) + across * Math.cos(angle),
    ];
    const expected = [
      corner(-halfLength - grow, -halfHeight - grow),
      corner(halfLength + grow, -halfHeight - grow),
      corner(halfLength + grow, halfHeight + grow),
      corner(-halfLength - grow, halfHeight + grow),
    ];
    expect(convexPolygonIoU(boxes[0].points, expected)).toBeGreaterThan(0.9);
  });

  it("reports a ring's hole as a box of its own, before the outer one, as RETR_LIST contours do", () => {
    // The hole's border runs on the ring's inner pixels; its box's mean (16 of 25 pixels at 0.9) passes boxThresh.
    const boxes = new ProbabilityMap(40, 40).rect(10, 10, 25, 25).rect(16, 16, 18, 18, 0).boxes();
    expect(boxes).toHaveLength(2);
    const [hole, outer] = boxes.map((box) => box.points);
    expect(outer[0]).toEqual([3, 3]);
    expect(hole[0][0]).toBeGreaterThan(outer[0][0]);
    expect(hole[2][0]).toBeLessThan(outer[2][0]);
  });

  it('keeps regions touching the map edge, clipping their boxes to the image', () => {
    const boxes = new ProbabilityMap(48, 48).rect(0, 0, 15, 9).rect(30, 40, 47, 47).boxes();
    expect(boxes).toHaveLength(2);
    for (const { points } of boxes) {
      for (const [x, y] of points) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(48);
        expect(y).toBeLessThanOrEqual(48);
      }
    }
    expect(boxes[0].points[2]).toEqual([48, 48]);
    expect(boxes[1].points[0]).toEqual([0, 0]);
  });

  it('drops regions whose box is thinner than minSize, and specks', () => {
    // Three pixels wide is a 2-pixel box through the pixel centres: under 3.
    const map = new ProbabilityMap(64, 32).rect(5, 5, 7, 25).rect(20, 5, 23, 25).rect(40, 10, 40, 10);
    const boxes = map.boxes();
    expect(boxes).toHaveLength(1);
    expect(boxes[0].points[0][0]).toBeGreaterThan(10);
  });

  it('drops regions whose mean probability is under boxThresh', () => {
    const map = new ProbabilityMap(64, 32).rect(5, 5, 25, 15, 0.45).rect(35, 5, 55, 15, 0.55);
    expect(map.boxes()).toHaveLength(1);
    expect(map.boxes({ boxThresh: 0.4 })).toHaveLength(2);
  });

  it.each([
    ['NaN', Number.NaN],
    ['+Inf', Number.POSITIVE_INFINITY],
  ])('drops a box whose score a %s pixel (an overflowing fp16 engine) made non-finite', (_, value) => {
    const map = new ProbabilityMap(64, 32).rect(8, 10, 49, 19);
    map.data[15 * map.width + 20] = value;
    expect(map.boxes().filter((box) => !Number.isFinite(box.score))).toEqual([]);
  });

  it('compares probabilities with thresh in single precision, as numpy does', () => {
    // float32(0.3) is a hair above 0.3, but numpy compares it with float32(0.3): not above.
    const atThreshold = new ProbabilityMap(32, 32).rect(5, 5, 25, 15, 0.3);
    expect(atThreshold.boxes({ boxThresh: 0.2 })).toEqual([]);
    const justAbove = new ProbabilityMap(32, 32).rect(5, 5, 25, 15, 0.30000004);
    expect(justAbove.boxes({ boxThresh: 0.2 })).toHaveLength(1);
  });

  it('considers only the first maxCandidates contours, in OpenCV order (last found first)', () => {
    const map = new ProbabilityMap(64, 64).rect(5, 5, 25, 15).rect(5, 40, 25, 50);
    const boxes = map.boxes({ maxCandidates: 1 });
    expect(boxes).toHaveLength(1);
    expect(boxes[0].points[0][1]).toBeGreaterThan(30);
  });

  it("scores by the region's own outline in slow mode, by its box in fast mode", () => {
    // An L whose box is mostly empty: its mean over the box is ~0.4, over the L itself 0.9.
    const inL = (x: number, y: number): boolean => x >= 10 && x <= 39 && y >= 10 && y <= 39 && (x <= 15 || y >= 34);
    const map = new ProbabilityMap(50, 50).where(inL);
    expect(map.boxes({ scoreMode: 'fast' })).toEqual([]);
    const slow = map.boxes({ scoreMode: 'slow' });
    expect(slow).toHaveLength(1);
    expect(slow[0].score).toBeCloseTo(0.9, 2);
  });

  it('joins regions one pixel apart when dilation is on', () => {
    const map = new ProbabilityMap(64, 32).rect(10, 10, 19, 20).rect(21, 10, 30, 20);
    expect(map.boxes()).toHaveLength(2);
    expect(map.boxes({ useDilation: true })).toHaveLength(1);
  });

  it('finds nothing in an empty map', () => {
    expect(new ProbabilityMap(32, 32).boxes()).toEqual([]);
  });

  it('gives the same boxes when one instance is reused across map sizes', () => {
    const large = new ProbabilityMap(96, 64).rect(10, 10, 40, 20).rect(50, 30, 90, 50);
    const small = new ProbabilityMap(40, 30).rect(5, 5, 30, 12);
    const postprocessor = new DbPostprocessor();
    const run = (map: ProbabilityMap) => postprocessor.run(map.data, map.width, map.height, 640, 480, seed);
    const first = run(large);
    expect(run(small)).toEqual(small.boxes({}, 640, 480));
    expect(run(large)).toEqual(first);
  });

  it('rejects a map smaller than its stated size', () => {
    expect(() => new DbPostprocessor().run(new Float32Array(10), 4, 4, 4, 4, seed)).toThrow(RangeError);
  });
});
