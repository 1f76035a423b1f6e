/** OpenCV's drawing code keeps x in 16.16 fixed point. */
const XY_ONE = 65536;

/**
 * cv2.fillPoly(mask, [polygon], 1) with the defaults (LINE_8, shift 0) for one polygon with integer corners,
 * as drawing.cpp does it: the outline drawn as 8-connected Bresenham lines, then the even-odd scanline fill
 * of the edge table (top-inclusive, bottom-exclusive, left edge rounded up, right edge down). Corners may lie
 * outside the mask; everything is clipped to it. Buffers are kept between calls.
 */
export class PolygonRasterizer {
  private edgeTop = new Int32Array(16);
  private edgeBottom = new Int32Array(16);
  private edgeX = new Float64Array(16);
  private edgeSlope = new Float64Array(16);
  private crossings = new Float64Array(16);

  /** Sets to 1 every mask pixel the polygon (`count` corners, x, y interleaved) covers. */
  fill(mask: Uint8Array, width: number, height: number, corners: ArrayLike<number>, count: number): void {
    if (this.edgeTop.length < count) this.allocate(count);
    let edges = 0;
    let x0 = corners[2 * (count - 1)];
    let y0 = corners[2 * (count - 1) + 1];
    for (let i = 0; i < count; i++) {
      const x1 = corners[2 * i];
      const y1 = corners[2 * i + 1];
      drawLine(mask, width, height, x0, y0, x1, y1);
      if (y0 !== y1) {
        const downwards = y0 < y1;
        this.edgeTop[edges] = downwards ? y0 : y1;
        this.edgeBottom[edges] = downwards ? y1 : y0;
        this.edgeX[edges] = (downwards ? x0 : x1) * XY_ONE;
        // int64 division in OpenCV: truncated towards zero.
        this.edgeSlope[edges] = Math.trunc(((x1 - x0) * XY_ONE) / (y1 - y0));
        edges++;
      }
      x0 = x1;
      y0 = y1;
    }
    this.fillEdges(mask, width, height, edges);
  }

  private fillEdges(mask: Uint8Array, width: number, height: number, edges: number): void {
    if (edges < 2) return;
    const { edgeTop, edgeBottom, edgeX, edgeSlope, crossings } = this;
    let top = Infinity;
    let bottom = -Infinity;
    let left = Infinity;
    let right = -Infinity;
    for (let e = 0; e < edges; e++) {
      const endX = edgeX[e] + (edgeBottom[e] - edgeTop[e]) * edgeSlope[e];
      top = Math.min(top, edgeTop[e]);
      bottom = Math.max(bottom, edgeBottom[e]);
      left = Math.min(left, edgeX[e], endX);
      right = Math.max(right, edgeX[e], endX);
    }
    if (bottom < 0 || top >= height || right < 0 || left >= width * XY_ONE) return;

    for (let y = Math.max(top, 0); y < Math.min(bottom, height); y++) {
      let crossingCount = 0;
      for (let e = 0; e < edges; e++) {
        if (edgeTop[e] <= y && y < edgeBottom[e]) {
          crossings[crossingCount++] = edgeX[e] + (y - edgeTop[e]) * edgeSlope[e];
        }
      }
      sortAscending(crossings, crossingCount);
      const row = y * width;
      for (let c = 0; c + 1 < crossingCount; c += 2) {
        let from = Math.floor((crossings[c] + XY_ONE - 1) / XY_ONE);
        let to = Math.floor(crossings[c + 1] / XY_ONE);
        if (from < width && to >= 0) {
          from = Math.max(from, 0);
          to = Math.min(to, width - 1);
          mask.fill(1, row + from, row + to + 1);
        }
      }
    }
  }

  private allocate(count: number): void {
    this.edgeTop = new Int32Array(count);
    this.edgeBottom = new Int32Array(count);
    this.edgeX = new Float64Array(count);
    this.edgeSlope = new Float64Array(count);
    this.crossings = new Float64Array(count);
  }
}

/** Insertion sort: a scanline crosses only a handful of edges. */
function sortAscending(values: Float64Array, count: number): void {
  for (let i = 1; i < count; i++) {
    const value = values[i];
    let j = i - 1;
    while (j >= 0 && values[j] > value) {
      values[j + 1] = values[j];
      j--;
    }
    values[j + 1] = value;
  }
}

/** OpenCV's Line() with 8-connectivity: clipLine to the mask, then Bresenham from the left end. */
function drawLine(
  mask: Uint8Array,
  width: number,
  height: number,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
): void {
  const right = width - 1;
  const bottom = height - 1;
  if (x1 < 0 || x1 > right || x2 < 0 || x2 > right || y1 < 0 || y1 > bottom || y2 < 0 || y2 > bottom) {
    // clipLine, integer arithmetic and all.
    let code1 = outCode(x1, y1, right, bottom);
    let code2 = outCode(x2, y2, right, bottom);
    if ((code1 & code2) === 0 && (code1 | code2) !== 0) {
      if (code1 & 12) {
        const edge = code1 < 8 ? 0 : bottom;
        x1 += Math.trunc(((edge - y1) * (x2 - x1)) / (y2 - y1));
        y1 = edge;
        code1 = outCode(x1, 0, right, bottom);
      }
      if (code2 & 12) {
        const edge = code2 < 8 ? 0 : bottom;
        x2 += Math.trunc(((edge - y2) * (x2 - x1)) / (y2 - y1));
        y2 = edge;
        code2 = outCode(x2, 0, right, bottom);
      }
      if ((code1 & code2) === 0 && (code1 | code2) !== 0) {
        if (code1) {
          const edge = code1 === 1 ? 0 : right;
          y1 += Math.trunc(((edge - x1) * (y2 - y1)) / (x2 - x1));
          x1 = edge;
          code1 = 0;
        }
        if (code2) {
          const edge = code2 === 1 ? 0 : right;
          y2 += Math.trunc(((edge - x2) * (y2 - y1)) / (x2 - x1));
          x2 = edge;
          code2 = 0;
        }
      }
    }
    if ((code1 | code2) !== 0) return;
  }

  if (x2 < x1) {
    [x1, x2] = [x2, x1];
    [y1, y2] = [y2, y1];
  }
  const stepY = y2 < y1 ? -1 : 1;
  const dx = x2 - x1;
  const dy = Math.abs(y2 - y1);
  const steep = dy > dx;
  const major = steep ? dy : dx;
  const minor = steep ? dx : dy;
  let error = major - 2 * minor;
  let x = x1;
  let y = y1;
  for (let i = 0; i <= major; i++) {
    mask[y * width + x] = 1;
    const minorStep = error < 0;
    error += minorStep ? 2 * major - 2 * minor : -2 * minor;
    if (steep) {
      y += stepY;
      if (minorStep) x++;
    } else {
      x++;
      if (minorStep) y += stepY;
    }
  }
}

/** Cohen–Sutherland outcode as clipLine builds it: 1 left, 2 right, 4 above, 8 below. */
function outCode(x: number, y: number, right: number, bottom: number): number {
  return (x < 0 ? 1 : 0) + (x > right ? 2 : 0) + (y < 0 ? 4 : 0) + (y > bottom ? 8 : 0);
}
