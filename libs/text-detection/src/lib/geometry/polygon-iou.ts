export type PointLike = readonly [number, number];

/** Signed shoelace area: positive when the corners run counter-clockwise in y-up axes (clockwise on screen). */
function signedArea(polygon: readonly PointLike[]): number {
  let sum = 0;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    sum += polygon[j][0] * polygon[i][1] - polygon[i][0] * polygon[j][1];
  }
  return sum / 2;
}

/** Sutherland–Hodgman: the part of `subject` inside the convex `clip` (both as corner lists). */
function clipConvex(subject: readonly PointLike[], clip: readonly PointLike[]): PointLike[] {
  // Orient the clip polygon so that "inside" is the left of each edge.
  const orientation = Math.sign(signedArea(clip));
  let output: PointLike[] = [...subject];
  for (let i = 0; i < clip.length && output.length > 0; i++) {
    const [ax, ay] = clip[i];
    const [bx, by] = clip[(i + 1) % clip.length];
    const side = (p: PointLike): number => orientation * ((bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax));
    const input = output;
    output = [];
    for (let j = 0; j < input.length; j++) {
      const current = input[j];
      const previous = input[(j + input.length - 1) % input.length];
      const currentSide = side(current);
      const previousSide = side(previous);
      if (currentSide >= 0) {
        if (previousSide < 0) output.push(crossing(previous, current, previousSide, currentSide));
        output.push(current);
      } else if (previousSide >= 0) {
        output.push(crossing(previous, current, previousSide, currentSide));
      }
    }
  }
  return output;
}

function crossing(from: PointLike, to: PointLike, fromSide: number, toSide: number): PointLike {
  const t = fromSide / (fromSide - toSide);
  return [from[0] + (to[0] - from[0]) * t, from[1] + (to[1] - from[1]) * t];
}

/** Area of a simple polygon given as a corner list. */
function areaOf(polygon: readonly PointLike[]): number {
  return Math.abs(signedArea(polygon));
}

/**
 * Intersection over union of two convex polygons (e.g. text quads), in either winding. Degenerate polygons
 * (no area) have IoU 0 with everything.
 */
export function convexPolygonIoU(a: readonly PointLike[], b: readonly PointLike[]): number {
  const areaA = areaOf(a);
  const areaB = areaOf(b);
  if (areaA === 0 || areaB === 0) return 0;
  const intersection = areaOf(clipConvex(a, b));
  return intersection / (areaA + areaB - intersection);
}
