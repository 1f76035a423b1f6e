export type PointLike = readonly [number, number];

/** A text line's or a detection's outline: four corners (any winding), e.g. a DetectedBox's points. */
export type Quad = readonly PointLike[];

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
export function areaOf(polygon: readonly PointLike[]): number {
  return Math.abs(signedArea(polygon));
}

/** The area a simple polygon `subject` shares with the convex polygon `clip` (either winding). */
export function intersectionArea(subject: readonly PointLike[], clip: readonly PointLike[]): number {
  return areaOf(clipConvex(subject, clip));
}

/**
 * Intersection over union of two convex polygons (e.g. text quads), in either winding. Degenerate polygons
 * (no area) have IoU 0 with everything.
 */
export function convexPolygonIoU(a: readonly PointLike[], b: readonly PointLike[]): number {
  const areaA = areaOf(a);
  const areaB = areaOf(b);
  if (areaA === 0 || areaB === 0) return 0;
  const intersection = intersectionArea(a, b);
  return intersection / (areaA + areaB - intersection);
}

export interface QuadPair {
  /** Index in the first list. */
  a: number;
  /** Index in the second list. */
  b: number;
  iou: number;
}

/**
 * Pairs quads of `a` with quads of `b` one-to-one, greedily by IoU (highest first, ties in input order), keeping
 * pairs whose IoU is at least `iouThreshold`. Quads whose bounding boxes do not meet are never clipped.
 */
export function pairByIoU(a: readonly Quad[], b: readonly Quad[], iouThreshold: number): QuadPair[] {
  const boundsB = b.map(bounds);
  const candidates: QuadPair[] = [];
  a.forEach((quadA, i) => {
    const boundsA = bounds(quadA);
    b.forEach((quadB, j) => {
      const other = boundsB[j];
      if (boundsA[0] > other[2] || other[0] > boundsA[2] || boundsA[1] > other[3] || other[1] > boundsA[3]) return;
      const iou = convexPolygonIoU(quadA, quadB);
      if (iou >= iouThreshold) candidates.push({ a: i, b: j, iou });
    });
  });
  candidates.sort((p, q) => q.iou - p.iou || p.a - q.a || p.b - q.b);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  return candidates.filter(({ a: i, b: j }) => {
    if (usedA.has(i) || usedB.has(j)) return false;
    usedA.add(i);
    usedB.add(j);
    return true;
  });
}

/** [minX, minY, maxX, maxY]. */
function bounds(quad: Quad): [number, number, number, number] {
  const xs = quad.map((point) => point[0]);
  const ys = quad.map((point) => point[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}
