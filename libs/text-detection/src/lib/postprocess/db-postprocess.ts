import type { DetectedBox, Point } from '@iev/frame-protocol';
import type { DbPostprocessOptions } from '../types';
import { PaddedBinaryImage } from '../geometry/binary-image';
import { ContourSet, findContours } from '../geometry/contours';
import { ConvexHull } from '../geometry/convex-hull';
import { boxPoints, minAreaRect } from '../geometry/min-area-rect';
import { polygonArea, polygonPerimeter } from '../geometry/polygon';
import { PolygonRasterizer } from '../geometry/polygon-fill';
import { RoundJoinOffsetter } from '../geometry/polygon-offset';
import { roundHalfToEven } from '../preprocess/round-half-to-even';

// numpy keeps a float32 array float32 when combined with a Python scalar, so the sample's box arithmetic
// and its threshold comparison happen in single precision.
const f32 = Math.fround;

/**
 * PaddleOCR's DBPostProcess (ppocr/postprocess/db_postprocess.py, release/2.4, box_type "quad") for one
 * probability map: threshold, contours, a minimum-area box per contour, its mean probability, unclip, and the
 * box scaled to the destination image. Keeps its buffers between runs; not reentrant.
 */
export class DbPostprocessor {
  private readonly bitmap = new PaddedBinaryImage();
  private readonly contours = new ContourSet();
  private readonly hull = new ConvexHull();
  private readonly offsetter = new RoundJoinOffsetter();
  private readonly rasterizer = new PolygonRasterizer();
  /** The current candidate box: float32 corners [top-left, top-right, bottom-right, bottom-left]. */
  private readonly box = new Float64Array(8);
  private readonly rectCorners = new Float64Array(8);
  private readonly integerCorners = new Int32Array(8);
  private polygon = new Int32Array(64);
  private mask = new Uint8Array(0);

  /** Memory for `count` maps that run() reads without a copy: see PaddedBinaryImage.mapMemory. */
  mapMemory(mapWidth: number, mapHeight: number, count: number): Float32Array {
    return this.bitmap.mapMemory(mapWidth, mapHeight, count);
  }

  /**
   * @param map the model's [1, 1, mapHeight, mapWidth] output
   * @param destWidth width of the image boxes are reported in (the original frame, not the network input)
   * @returns boxes with integer corners clockwise from top-left, in the order the Python sample returns them
   */
  run(
    map: Float32Array,
    mapWidth: number,
    mapHeight: number,
    destWidth: number,
    destHeight: number,
    options: DbPostprocessOptions,
  ): DetectedBox[] {
    const probMap = this.bitmap.threshold(map, mapWidth, mapHeight, f32(options.thresh));
    if (options.useDilation) this.bitmap.dilate2x2();
    findContours(this.bitmap, this.contours);

    const boxes: DetectedBox[] = [];
    const { contours, box, integerCorners } = this;
    const candidates = Math.min(contours.count, options.maxCandidates);
    for (let index = 0; index < candidates; index++) {
      const start = contours.start(index);
      const length = contours.length(index);
      if (!this.miniBox(contours.points, start, length, options.minSize)) continue;

      const score =
        options.scoreMode === 'fast'
          ? this.meanInside(probMap, mapWidth, mapHeight, box, 0, 4)
          : this.meanInside(probMap, mapWidth, mapHeight, contours.points, start, length);
      // NaN or Inf (an fp16 engine that overflowed) would not survive the detections message: drop the box, not the frame.
      if (!(score >= options.boxThresh) || !Number.isFinite(score)) continue;

      // unclip: shapely's area and length of the float box; pyclipper truncates its corners to integers.
      const distance = (polygonArea(box, 4) * options.unclipRatio) / polygonPerimeter(box, 4);
      for (let i = 0; i < 8; i++) integerCorners[i] = Math.trunc(box[i]);
      const outlineLength = this.offsetter.offset(integerCorners, 4, distance);
      if (outlineLength === 0) continue;
      if (!this.miniBox(this.offsetter.points, 0, outlineLength, options.minSize + 2)) continue;

      boxes.push({ points: scaleCorners(box, mapWidth, mapHeight, destWidth, destHeight), score });
    }
    return boxes;
  }

  /**
   * get_mini_boxes into {@link box}: cv2.minAreaRect of the points, its cv2.boxPoints sorted by x and then
   * picked into [tl, tr, br, bl] as the reference does. False when the shorter side is under `minSize`.
   */
  private miniBox(points: Int32Array, start: number, count: number, minSize: number): boolean {
    this.hull.compute(points, start, count);
    const rect = minAreaRect(this.hull);
    if (Math.min(rect.width, rect.height) < minSize) return false;

    const corners = this.rectCorners;
    boxPoints(rect, corners);
    // Python's sorted(key=x) is stable, so equal x keep boxPoints' order.
    const byX = [0, 1, 2, 3].sort((a, b) => corners[2 * a] - corners[2 * b]);
    const y = (rank: number): number => corners[2 * byX[rank] + 1];
    const [topLeft, bottomLeft] = y(1) > y(0) ? [byX[0], byX[1]] : [byX[1], byX[0]];
    const [topRight, bottomRight] = y(3) > y(2) ? [byX[2], byX[3]] : [byX[3], byX[2]];
    [topLeft, topRight, bottomRight, bottomLeft].forEach((corner, i) => {
      this.box[2 * i] = corners[2 * corner];
      this.box[2 * i + 1] = corners[2 * corner + 1];
    });
    return true;
  }

  /**
   * box_score_fast (the box's corners) and box_score_slow (the contour's points): cv2.mean of the map over the
   * polygon's bounding rectangle, masked by cv2.fillPoly of the polygon shifted into it and cast to int32.
   * The floor/ceil/truncation only act on the box's float corners; contour points pass through unchanged.
   */
  private meanInside(
    map: Float32Array,
    mapWidth: number,
    mapHeight: number,
    points: ArrayLike<number>,
    first: number,
    count: number,
  ): number {
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    for (let i = first; i < first + count; i++) {
      minX = Math.min(minX, points[2 * i]);
      maxX = Math.max(maxX, points[2 * i]);
      minY = Math.min(minY, points[2 * i + 1]);
      maxY = Math.max(maxY, points[2 * i + 1]);
    }
    const left = clamp(Math.floor(minX), 0, mapWidth - 1);
    const top = clamp(Math.floor(minY), 0, mapHeight - 1);
    const width = clamp(Math.ceil(maxX), 0, mapWidth - 1) - left + 1;
    const height = clamp(Math.ceil(maxY), 0, mapHeight - 1) - top + 1;

    if (this.polygon.length < 2 * count) this.polygon = new Int32Array(4 * count);
    const polygon = this.polygon;
    for (let i = 0; i < count; i++) {
      polygon[2 * i] = Math.trunc(f32(points[2 * (first + i)] - left));
      polygon[2 * i + 1] = Math.trunc(f32(points[2 * (first + i) + 1] - top));
    }
    if (this.mask.length < width * height) this.mask = new Uint8Array(Math.max(width * height, 2 * this.mask.length));
    const mask = this.mask;
    mask.fill(0, 0, width * height);
    this.rasterizer.fill(mask, width, height, polygon, count);

    let sum = 0;
    let covered = 0;
    for (let y = 0; y < height; y++) {
      const maskRow = y * width;
      const mapRow = (top + y) * mapWidth + left;
      for (let x = 0; x < width; x++) {
        if (mask[maskRow + x] !== 0) {
          sum += map[mapRow + x];
          covered++;
        }
      }
    }
    return covered === 0 ? 0 : sum / covered;
  }
}
/** np.clip(np.round(v / mapSize * destSize), 0, destSize) per coordinate (np.round: halves to even), in float32 like the reference. */
function scaleCorners(
  corners: Float64Array,
  mapWidth: number,
  mapHeight: number,
  destWidth: number,
  destHeight: number,
): DetectedBox['points'] {
  const scale = (value: number, mapSize: number, destSize: number): number =>
    clamp(roundHalfToEven(f32(f32(value / mapSize) * destSize)), 0, destSize);
  const point = (i: number): Point => [
    scale(corners[2 * i], mapWidth, destWidth),
    scale(corners[2 * i + 1], mapHeight, destHeight),
  ];
  return [point(0), point(1), point(2), point(3)];
}

function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

