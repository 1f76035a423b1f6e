/** Clipper's default arc tolerance (pyclipper's PyclipperOffset default too). */
const ARC_TOLERANCE = 0.25;

/** Clipper's Round: half away from zero. */
function roundHalfAway(value: number): number {
  return value < 0 ? Math.ceil(value - 0.5) : Math.floor(value + 0.5);
}

/**
 * pyclipper's PyclipperOffset().AddPath(path, JT_ROUND, ET_CLOSEDPOLYGON); Execute(delta) for one polygon
 * (Clipper 6.4 ClipperOffset): integer corners, round joins approximated by integer points at the default arc
 * tolerance. Returns the offset outline's points; Clipper's final union only tidies that outline (drops
 * collinear and repeated points), so its convex hull is the same. Buffers are kept between calls.
 */
export class RoundJoinOffsetter {
  /** x0, y0, x1, y1, ... of the offset outline; as many points as {@link offset} returned are valid. */
  points = new Int32Array(256);
  private path = new Int32Array(16);
  private normalX = new Float64Array(8);
  private normalY = new Float64Array(8);
  private size = 0;

  /**
   * Offsets the polygon of `count` integer corners (x, y interleaved) outwards by `delta` >= 0.
   * Returns the number of outline points, 0 when the polygon has fewer than 3 distinct corners (Clipper drops it).
   */
  offset(corners: ArrayLike<number>, count: number, delta: number): number {
    if (!(delta >= 0)) throw new RangeError(`only outward offsets are supported, got ${delta}`);
    this.size = 0;
    const length = this.loadPath(corners, count);
    if (length < 3) return 0;
    const { path, normalX, normalY } = this;
    if (delta < 1e-20) {
      // Clipper's "near zero" offset returns the polygon unchanged.
      for (let i = 0; i < length; i++) this.push(path[2 * i], path[2 * i + 1]);
      return this.size;
    }

    for (let j = 0; j < length; j++) {
      // Unit normal of edge j -> j + 1, pointing out of the (now positively oriented) polygon.
      const next = j + 1 < length ? j + 1 : 0;
      const dx = path[2 * next] - path[2 * j];
      const dy = path[2 * next + 1] - path[2 * j + 1];
      const inverse = 1 / Math.sqrt(dx * dx + dy * dy);
      normalX[j] = dy * inverse;
      normalY[j] = -dx * inverse;
    }

    let tolerance = ARC_TOLERANCE;
    if (tolerance > delta * ARC_TOLERANCE) tolerance = delta * ARC_TOLERANCE;
    let steps = Math.PI / Math.acos(1 - tolerance / delta);
    if (steps > delta * Math.PI) steps = delta * Math.PI;
    const stepSin = Math.sin((2 * Math.PI) / steps);
    const stepCos = Math.cos((2 * Math.PI) / steps);
    const stepsPerRadian = steps / (2 * Math.PI);

    // ClipperOffset::OffsetPoint for every corner j, k being the last corner that was joined.
    for (let j = 0, k = length - 1; j < length; j++) {
      const x = path[2 * j];
      const y = path[2 * j + 1];
      let sin = normalX[k] * normalY[j] - normalX[j] * normalY[k];
      const cos = normalX[k] * normalX[j] + normalY[k] * normalY[j];
      if (Math.abs(sin * delta) < 1) {
        if (cos > 0) {
          // Nearly straight on: one point, and the next join still measures from edge k.
          this.push(x + normalX[k] * delta, y + normalY[k] * delta);
          continue;
        }
      } else if (sin > 1) sin = 1;
      else if (sin < -1) sin = -1;

      if (sin * delta < 0) {
        // Concave corner: in, through the corner itself, and out again.
        this.push(x + normalX[k] * delta, y + normalY[k] * delta);
        this.push(x, y);
        this.push(x + normalX[j] * delta, y + normalY[j] * delta);
      } else {
        const arcSteps = Math.max(roundHalfAway(stepsPerRadian * Math.abs(Math.atan2(sin, cos))), 1);
        let arcX = normalX[k];
        let arcY = normalY[k];
        for (let i = 0; i < arcSteps; i++) {
          this.push(x + arcX * delta, y + arcY * delta);
          const previousX = arcX;
          arcX = arcX * stepCos - stepSin * arcY;
          arcY = previousX * stepSin + arcY * stepCos;
        }
        this.push(x + normalX[j] * delta, y + normalY[j] * delta);
      }
      k = j;
    }
    return this.size;
  }

  /** ClipperOffset::AddPath + FixOrientations: drops repeated corners and makes the orientation positive. */
  private loadPath(corners: ArrayLike<number>, count: number): number {
    if (this.path.length < 2 * count) {
      this.path = new Int32Array(2 * count);
      this.normalX = new Float64Array(count);
      this.normalY = new Float64Array(count);
    }
    const path = this.path;
    let last = count - 1;
    while (last > 0 && corners[0] === corners[2 * last] && corners[1] === corners[2 * last + 1]) last--;
    let length = 0;
    for (let i = 0; i <= last; i++) {
      const x = corners[2 * i];
      const y = corners[2 * i + 1];
      if (length > 0 && path[2 * length - 2] === x && path[2 * length - 1] === y) continue;
      path[2 * length] = x;
      path[2 * length + 1] = y;
      length++;
    }
    if (length >= 3 && clipperArea(path, length) < 0) reversePath(path, length);
    return length;
  }

  private push(x: number, y: number): void {
    if (2 * this.size + 2 > this.points.length) {
      const grown = new Int32Array(this.points.length * 2);
      grown.set(this.points);
      this.points = grown;
    }
    this.points[2 * this.size] = roundHalfAway(x);
    this.points[2 * this.size + 1] = roundHalfAway(y);
    this.size++;
  }
}

/** Clipper's Area: positive for counter-clockwise corners in y-up axes (clockwise on screen). */
function clipperArea(path: Int32Array, length: number): number {
  let sum = 0;
  for (let i = 0, j = length - 1; i < length; j = i++) {
    sum += (path[2 * j] + path[2 * i]) * (path[2 * j + 1] - path[2 * i + 1]);
  }
  return -sum * 0.5;
}

function reversePath(path: Int32Array, length: number): void {
  for (let i = 0, j = length - 1; i < j; i++, j--) {
    const x = path[2 * i];
    const y = path[2 * i + 1];
    path[2 * i] = path[2 * j];
    path[2 * i + 1] = path[2 * j + 1];
    path[2 * j] = x;
    path[2 * j + 1] = y;
  }
}
