import type { PaddedBinaryImage } from './binary-image';

/**
 * Contours found by {@link findContours}, as flat integer point lists. Contour i is in cv2.findContours'
 * order (RETR_LIST returns them last-found first).
 */
export class ContourSet {
  /** x0, y0, x1, y1, ... of every contour, in the order they were traced. */
  points: Int32Array = new Int32Array(1024);
  private starts: Int32Array = new Int32Array(64);
  private traced = 0;
  private pointTotal = 0;

  get count(): number {
    return this.traced;
  }

  /** Index into {@link points} (in points, not numbers) of contour i's first point. */
  start(index: number): number {
    return this.starts[this.traced - 1 - index];
  }

  length(index: number): number {
    const traceIndex = this.traced - 1 - index;
    const end = traceIndex + 1 < this.traced ? this.starts[traceIndex + 1] : this.pointTotal;
    return end - this.starts[traceIndex];
  }

  clear(): void {
    this.traced = 0;
    this.pointTotal = 0;
  }

  beginContour(): void {
    if (this.traced === this.starts.length) this.starts = grow(this.starts, this.starts.length * 2);
    this.starts[this.traced++] = this.pointTotal;
  }

  addPoint(x: number, y: number): void {
    if (2 * this.pointTotal + 2 > this.points.length) this.points = grow(this.points, this.points.length * 2);
    this.points[2 * this.pointTotal] = x;
    this.points[2 * this.pointTotal + 1] = y;
    this.pointTotal++;
  }
}

function grow(array: Int32Array, length: number): Int32Array {
  const grown = new Int32Array(length);
  grown.set(array);
  return grown;
}

/** Chain-code steps 0..7: east, then counter-clockwise on screen (north-east, north, ...). */
const STEP_X = [1, 1, 0, -1, -1, -1, 0, 1];
const STEP_Y = [0, -1, -1, -1, 0, 1, 1, 1];
/** OpenCV's mark for a traced pixel whose east neighbour is background (nbd 2 | 0x80, as a signed byte). */
const RIGHT_EDGE_MARK = -126;
const TRACED_MARK = 2;

/**
 * cv2.findContours(image, RETR_LIST, CHAIN_APPROX_SIMPLE): Suzuki–Abe border following as OpenCV's
 * contours.cpp does it, outer borders and hole borders alike, each kept as the points where the chain
 * changes direction. Marks the image's pixels while tracing (as OpenCV does to its copy).
 */
export function findContours(image: PaddedBinaryImage, contours: ContourSet): void {
  contours.clear();
  const { data, words, stride, firstPixel, width, height, rowHasForeground } = image;
  const neighbour = new Int32Array(16);
  for (let s = 0; s < 16; s++) neighbour[s] = STEP_Y[s & 7] * stride + STEP_X[s & 7];

  for (let y = 0; y < height; y++) {
    if (!rowHasForeground[y]) continue;
    const row = firstPixel + y * stride;
    let previous = 0;
    for (let x = 0; x < width; x++) {
      x = skipRun(data, words, row, x, width, previous);
      if (x === width) break;
      const pixel = data[row + x];
      if (previous === 0 && pixel === 1) {
        traceBorder(data, neighbour, row + x, x, y, false, contours);
        previous = data[row + x];
      } else if (pixel === 0 && previous >= 1) {
        // A hole's border starts at the foreground pixel left of this background one.
        traceBorder(data, neighbour, row + x - 1, x - 1, y, true, contours);
        previous = 0;
      } else {
        previous = pixel;
      }
    }
  }
}

/** First x at or after `x` whose pixel differs from `value` (`width` if none), four pixels a step where it can. */
function skipRun(data: Int8Array, words: Int32Array, row: number, x: number, width: number, value: number): number {
  // Rows are word-aligned, so x is on a word boundary whenever x % 4 === 0.
  const word = value === 0 ? 0 : value === 1 ? 0x01010101 : undefined;
  while (x < width && data[row + x] === value) {
    x++;
    if (word !== undefined && (x & 3) === 0) {
      while (x + 4 <= width && words[(row + x) >> 2] === word) x += 4;
    }
  }
  return x;
}

/** icvFetchContour: follows one border from its start pixel, marking it and recording its corner points. */
function traceBorder(
  data: Int8Array,
  neighbour: Int32Array,
  start: number,
  startX: number,
  startY: number,
  isHole: boolean,
  contours: ContourSet,
): void {
  contours.beginContour();
  let direction = isHole ? 0 : 4;
  const lastDirection = direction;
  let first: number;
  // Clockwise from the background neighbour, find the first foreground neighbour.
  do {
    direction = (direction - 1) & 7;
    first = start + neighbour[direction];
  } while (data[first] === 0 && direction !== lastDirection);

  if (direction === lastDirection) {
    data[start] = RIGHT_EDGE_MARK;
    contours.addPoint(startX, startY);
    return;
  }

  let current = start;
  let next = start;
  let previousStep = direction ^ 4;
  let x = startX;
  let y = startY;
  for (;;) {
    const searchEnd = direction;
    // Counter-clockwise from the pixel we came from, find the next foreground neighbour.
    while (direction < 15) {
      next = current + neighbour[++direction];
      if (data[next] !== 0) break;
    }
    direction &= 7;

    if (direction >= 1 && direction - 1 < searchEnd) data[current] = RIGHT_EDGE_MARK;
    else if (data[current] === 1) data[current] = TRACED_MARK;

    if (direction !== previousStep) {
      contours.addPoint(x, y);
      previousStep = direction;
    }
    x += STEP_X[direction];
    y += STEP_Y[direction];

    if (next === start && current === first) break;
    current = next;
    direction = (direction + 4) & 7;
  }
}
