/** Area of a simple polygon (x, y interleaved, `count` corners, implicitly closed), as shapely/GEOS sums it. */
export function polygonArea(points: ArrayLike<number>, count: number): number {
  if (count < 3) return 0;
  // GEOS Area::ofRing: shoelace relative to the first x, over the ring closed back to its first point.
  const x0 = points[0];
  let sum = 0;
  for (let i = 1; i < count; i++) {
    const next = i + 1 < count ? i + 1 : 0;
    sum += (points[2 * i] - x0) * (points[2 * (i - 1) + 1] - points[2 * next + 1]);
  }
  return Math.abs(sum / 2);
}

/** Length of a closed polygon's boundary (x, y interleaved, `count` corners). */
export function polygonPerimeter(points: ArrayLike<number>, count: number): number {
  let length = 0;
  for (let i = 0; i < count; i++) {
    const next = i + 1 < count ? i + 1 : 0;
    const dx = points[2 * next] - points[2 * i];
    const dy = points[2 * next + 1] - points[2 * i + 1];
    length += Math.sqrt(dx * dx + dy * dy);
  }
  return length;
}
