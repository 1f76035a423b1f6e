/**
 * cv2.convexHull(points, clockwise=False) for integer points, ported from OpenCV's convhull.cpp: points sorted
 * by (x, y, index), Sklansky's scan over the four monotone chains between the extreme points, and the final
 * cyclic shift that makes the corners' input indices run in order where it can. The starting corner matters:
 * minAreaRect's calipers start from it, and on near-ties that decides the float32 rounding of the result.
 * Buffers are kept between calls.
 */
export class ConvexHull {
  /** x0, y0, x1, y1, ... of the hull's corners; {@link size} of them are valid. */
  points = new Int32Array(64);
  size = 0;
  private keys = new Float64Array(64);
  private sortedX = new Int32Array(64);
  private sortedY = new Int32Array(64);
  private sortedIndex = new Int32Array(64);
  private stack = new Int32Array(66);
  private corners = new Int32Array(64);

  /** Computes the hull of `count` points read from `source` (x, y interleaved) starting at point `first`. */
  compute(source: ArrayLike<number>, first: number, count: number): void {
    this.size = 0;
    if (count === 0) return;
    this.sortPoints(source, first, count);
    const { sortedX: xs, sortedY: ys, sortedIndex, stack, corners } = this;
    const last = count - 1;
    let minYAt = 0;
    let maxYAt = 0;
    for (let i = 1; i < count; i++) {
      if (ys[minYAt] > ys[i]) minYAt = i;
      if (ys[maxYAt] < ys[i]) maxYAt = i;
    }

    let size = 0;
    if (xs[0] === xs[last] && ys[0] === ys[last]) {
      corners[size++] = sortedIndex[0];
    } else {
      // Upper chains (in OpenCV's y-up terms): from the right-most point over the top to the left-most.
      const topLeftCount = sklansky(xs, ys, 0, maxYAt, stack, 0, -1, 1);
      const topRightOffset = topLeftCount;
      const topRightCount = sklansky(xs, ys, last, maxYAt, stack, topRightOffset, -1, -1);
      for (let i = 0; i < topRightCount - 1; i++) corners[size++] = sortedIndex[stack[topRightOffset + i]];
      for (let i = topLeftCount - 1; i > 0; i--) corners[size++] = sortedIndex[stack[i]];
      const stopAt = topLeftCount > 2 ? stack[1] : topRightCount > 2 ? stack[topRightOffset + topRightCount - 2] : -1;

      // Lower chains: left-to-right along the bottom (y-up), back to the right-most point.
      let bottomLeftCount = sklansky(xs, ys, 0, minYAt, stack, 0, 1, -1);
      const bottomRightOffset = bottomLeftCount;
      let bottomRightCount = sklansky(xs, ys, last, minYAt, stack, bottomRightOffset, 1, 1);
      if (stopAt >= 0) {
        const checkAt = bottomLeftCount > 2 ? stack[1] : bottomLeftCount + bottomRightCount > 2 ? stack[2] : -1;
        if (checkAt === stopAt || (checkAt >= 0 && xs[checkAt] === xs[stopAt] && ys[checkAt] === ys[stopAt])) {
          // All points on one line: the lower chains mirror the upper ones.
          bottomLeftCount = Math.min(bottomLeftCount, 2);
          bottomRightCount = Math.min(bottomRightCount, 2);
        }
      }
      for (let i = 0; i < bottomLeftCount - 1; i++) corners[size++] = sortedIndex[stack[i]];
      for (let i = bottomRightCount - 1; i > 0; i--) corners[size++] = sortedIndex[stack[bottomRightOffset + i]];
      if (size >= 3) rotateToMonotonicIndices(corners, size, stack);
    }

    if (this.points.length < 2 * size) this.points = new Int32Array(4 * size);
    for (let i = 0; i < size; i++) {
      this.points[2 * i] = source[2 * (first + corners[i])];
      this.points[2 * i + 1] = source[2 * (first + corners[i]) + 1];
    }
    this.size = size;
  }

  /** Sorts by (x, y, input index) through packed numeric keys: a native sort, no comparator calls. */
  private sortPoints(source: ArrayLike<number>, first: number, count: number): void {
    if (this.keys.length < count) {
      const capacity = 2 * count;
      this.keys = new Float64Array(capacity);
      this.sortedX = new Int32Array(capacity);
      this.sortedY = new Int32Array(capacity);
      this.sortedIndex = new Int32Array(capacity);
      this.stack = new Int32Array(capacity + 2);
      this.corners = new Int32Array(capacity);
    }
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < count; i++) {
      minX = Math.min(minX, source[2 * (first + i)]);
      maxX = Math.max(maxX, source[2 * (first + i)]);
      minY = Math.min(minY, source[2 * (first + i) + 1]);
      maxY = Math.max(maxY, source[2 * (first + i) + 1]);
    }
    const rows = maxY - minY + 1;
    if ((maxX - minX + 1) * rows * count > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`too many points (${count}) over too large an area to sort`);
    }
    const keys = this.keys.subarray(0, count);
    for (let i = 0; i < count; i++) {
      keys[i] = ((source[2 * (first + i)] - minX) * rows + (source[2 * (first + i) + 1] - minY)) * count + i;
    }
    keys.sort();
    for (let s = 0; s < count; s++) {
      const index = keys[s] % count;
      this.sortedIndex[s] = index;
      this.sortedX[s] = source[2 * (first + index)];
      this.sortedY[s] = source[2 * (first + index) + 1];
    }
  }
}

/**
 * OpenCV's Sklansky_ over sorted positions start..end (either direction): writes the chain's positions to
 * stack[offset...] and returns how many. `ySign` is the sign of y steps that end the scan's turn checks,
 * `turnSign` the sign a kept corner's turn must have.
 */
function sklansky(
  xs: Int32Array,
  ys: Int32Array,
  start: number,
  end: number,
  stack: Int32Array,
  offset: number,
  ySign: number,
  turnSign: number,
): number {
  const step = end > start ? 1 : -1;
  let previous = start;
  let current = previous + step;
  let next = current + step;
  let stackSize = 3;
  if (start === end || (xs[start] === xs[end] && ys[start] === ys[end])) {
    stack[offset] = start;
    return 1;
  }
  stack[offset] = previous;
  stack[offset + 1] = current;
  stack[offset + 2] = next;
  const afterEnd = end + step;
  while (next !== afterEnd) {
    if (xs[current] === xs[next] && ys[current] === ys[next]) {
      next += step;
      stack[offset + stackSize - 1] = next;
      continue;
    }
    const by = ys[next] - ys[current];
    if (Math.sign(by) !== ySign) {
      const ax = xs[current] - xs[previous];
      const ay = ys[current] - ys[previous];
      const bx = xs[next] - xs[current];
      const convexity = ay * bx - ax * by;
      if (Math.sign(convexity) === turnSign && (ax !== 0 || ay !== 0)) {
        previous = current;
        current = next;
        next += step;
        stack[offset + stackSize] = next;
        stackSize++;
      } else if (previous === start) {
        current = next;
        stack[offset + 1] = current;
        next += step;
        stack[offset + 2] = next;
      } else {
        stack[offset + stackSize - 2] = next;
        current = previous;
        previous = stack[offset + stackSize - 4];
        stackSize--;
      }
    } else {
      next += step;
      stack[offset + stackSize - 1] = next;
    }
  }
  return stackSize - 1;
}

/** convexHull's last step: cyclically shift the corners so their input indices ascend or descend, if they can. */
function rotateToMonotonicIndices(corners: Int32Array, size: number, scratch: Int32Array): void {
  let minAt = 0;
  let maxAt = 0;
  let ascents = 0;
  for (let i = 1; i < size; i++) {
    const index = corners[i];
    if (corners[i - 1] < index) ascents++;
    if (ascents > 1 && ascents <= i - 2) break;
    if (index < corners[minAt]) minAt = i;
    if (index > corners[maxAt]) maxAt = i;
  }
  const distance = Math.abs(maxAt - minAt);
  if ((distance !== 1 && distance !== size - 1) || (ascents > 1 && ascents < size - 2)) return;
  const ascending = (maxAt + 1) % size === minAt;
  const startAt = ascending ? minAt : maxAt;
  if (startAt === 0) return;
  let i = 0;
  for (let j = startAt; i < size; i++) {
    const current = (scratch[i] = corners[j]);
    const nextJ = j + 1 < size ? j + 1 : 0;
    if (i < size - 1 && ascending !== current < corners[nextJ]) break;
    j = nextJ;
  }
  if (i === size) corners.set(scratch.subarray(0, size));
}
