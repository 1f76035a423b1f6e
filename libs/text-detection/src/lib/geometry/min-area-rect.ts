import type { ConvexHull } from './convex-hull';

/** cv::RotatedRect: float32 centre, size and angle (degrees), as cv2.minAreaRect returns it. */
export interface RotatedRect {
  centerX: number;
  centerY: number;
  width: number;
  height: number;
  angle: number;
}

// OpenCV computes these in single precision; rounding every step the same way keeps the corners bit-equal.
const f32 = Math.fround;
const FLT_MAX = 3.4028234663852886e38;

/**
 * cv2.minAreaRect of the points whose hull `convexHull` holds (rotcalipers.cpp, OpenCV >= 4.5.1): rotating
 * calipers over the hull's edges, keeping the last rectangle of least area. The calipers' start, and so the
 * float32 rounding on near-ties, depends on the hull's corner order, which is why it takes a {@link ConvexHull}.
 */
export function minAreaRect(convexHull: ConvexHull): RotatedRect {
  const { points: hull, size } = convexHull;
  if (size > 2) return rectFromCalipers(hull, size);
  if (size === 2) {
    const dx = hull[2] - hull[0];
    const dy = hull[3] - hull[1];
    return {
      centerX: f32(f32(hull[0] + hull[2]) * 0.5),
      centerY: f32(f32(hull[1] + hull[3]) * 0.5),
      width: f32(Math.sqrt(dx * dx + dy * dy)),
      height: 0,
      angle: toDegrees(f32(Math.atan2(dy, dx))),
    };
  }
  return { centerX: size === 1 ? hull[0] : 0, centerY: size === 1 ? hull[1] : 0, width: 0, height: 0, angle: 0 };
}

/** cv2.boxPoints: the rectangle's four corners (x0, y0, ..., x3, y3) in RotatedRect::points' order. */
export function boxPoints(rect: RotatedRect, corners: Float64Array): void {
  const radians = (rect.angle * Math.PI) / 180;
  const halfCos = f32(f32(Math.cos(radians)) * 0.5);
  const halfSin = f32(f32(Math.sin(radians)) * 0.5);
  const { centerX, centerY, width, height } = rect;
  corners[0] = f32(f32(centerX - f32(halfSin * height)) - f32(halfCos * width));
  corners[1] = f32(f32(centerY + f32(halfCos * height)) - f32(halfSin * width));
  corners[2] = f32(f32(centerX + f32(halfSin * height)) - f32(halfCos * width));
  corners[3] = f32(f32(centerY - f32(halfCos * height)) - f32(halfSin * width));
  corners[4] = f32(2 * centerX - corners[0]);
  corners[5] = f32(2 * centerY - corners[1]);
  corners[6] = f32(2 * centerX - corners[2]);
  corners[7] = f32(2 * centerY - corners[3]);
}

function toDegrees(radians: number): number {
  return f32(f32(radians * 180) / Math.PI);
}

/** Whether v1 lies clockwise of v2 (in OpenCV's y-up sense), by the sign of a float32 dot product. */
function firstIsRight(x1: number, y1: number, x2: number, y2: number): boolean {
  return f32(f32(y1 * x2) + f32(-x1 * y2)) < 0;
}

function rectFromCalipers(points: ArrayLike<number>, n: number): RotatedRect {
  // Edge i runs from corner i to corner i + 1; its components are exact (integer corners), its length is not.
  const edgeX = (i: number): number => points[2 * (i + 1 === n ? 0 : i + 1)] - points[2 * i];
  const edgeY = (i: number): number => points[2 * (i + 1 === n ? 0 : i + 1) + 1] - points[2 * i + 1];
  const inverseLength = (i: number): number => f32(1 / Math.sqrt(edgeX(i) ** 2 + edgeY(i) ** 2));

  let left = 0;
  let right = 0;
  let top = 0;
  let bottom = 0;
  for (let i = 1; i < n; i++) {
    if (points[2 * i] < points[2 * left]) left = i;
    if (points[2 * i] > points[2 * right]) right = i;
    if (points[2 * i + 1] > points[2 * top + 1]) top = i;
    if (points[2 * i + 1] < points[2 * bottom + 1]) bottom = i;
  }

  let orientation = 0;
  for (let i = 0, previous = n - 1; i < n && orientation === 0; previous = i++) {
    const convexity = edgeX(previous) * edgeY(i) - edgeY(previous) * edgeX(i);
    if (convexity !== 0) orientation = convexity > 0 ? 1 : -1;
  }

  // Calipers (a, b), (-b, a), (-a, -b), (b, -a) resting on the bottom, right, top and left points.
  let baseA = orientation;
  let baseB = 0;
  const caliper = [bottom, right, top, left];
  let minArea = FLT_MAX;
  let bestLeft = 0;
  let bestBottom = 0;
  let bestA = 0;
  let bestB = 0;
  let bestWidth = 0;
  let bestHeight = 0;

  for (let k = 0; k < n; k++) {
    // The caliper whose next edge turns least: compare the edges turned into the first caliper's frame.
    let main = 0;
    let mainX = edgeX(caliper[0]);
    let mainY = edgeY(caliper[0]);
    for (let i = 1; i < 4; i++) {
      const x = edgeX(caliper[i]);
      const y = edgeY(caliper[i]);
      const turnedX = i === 1 ? y : i === 2 ? -x : -y;
      const turnedY = i === 1 ? -x : i === 2 ? -y : x;
      if (firstIsRight(turnedX, turnedY, mainX, mainY)) {
        main = i;
        mainX = turnedX;
        mainY = turnedY;
      }
    }

    const edge = caliper[main];
    const leadX = f32(edgeX(edge) * inverseLength(edge));
    const leadY = f32(edgeY(edge) * inverseLength(edge));
    baseA = main === 0 ? leadX : main === 1 ? leadY : main === 2 ? -leadX : -leadY;
    baseB = main === 0 ? leadY : main === 1 ? -leadX : main === 2 ? -leadY : leadX;
    caliper[main] = edge + 1 === n ? 0 : edge + 1;

    let dx = f32(points[2 * caliper[1]] - points[2 * caliper[3]]);
    let dy = f32(points[2 * caliper[1] + 1] - points[2 * caliper[3] + 1]);
    const width = f32(f32(dx * baseA) + f32(dy * baseB));
    dx = f32(points[2 * caliper[2]] - points[2 * caliper[0]]);
    dy = f32(points[2 * caliper[2] + 1] - points[2 * caliper[0] + 1]);
    const height = f32(f32(-dx * baseB) + f32(dy * baseA));
    const area = f32(width * height);
    if (area <= minArea) {
      minArea = area;
      bestLeft = caliper[3];
      bestBottom = caliper[0];
      bestA = baseA;
      bestB = baseB;
      bestWidth = width;
      bestHeight = height;
    }
  }

  // Corner where the left and bottom calipers meet, and the two side vectors from it.
  const a2 = -bestB;
  const b2 = bestA;
  const c1 = f32(f32(bestA * points[2 * bestLeft]) + f32(points[2 * bestLeft + 1] * bestB));
  const c2 = f32(f32(a2 * points[2 * bestBottom]) + f32(points[2 * bestBottom + 1] * b2));
  const inverseDet = f32(1 / f32(f32(bestA * b2) - f32(a2 * bestB)));
  const cornerX = f32(f32(f32(c1 * b2) - f32(c2 * bestB)) * inverseDet);
  const cornerY = f32(f32(f32(bestA * c2) - f32(a2 * c1)) * inverseDet);
  const side1X = f32(bestA * bestWidth);
  const side1Y = f32(bestB * bestWidth);
  const side2X = f32(a2 * bestHeight);
  const side2Y = f32(b2 * bestHeight);

  return {
    centerX: f32(cornerX + f32(f32(side1X + side2X) * 0.5)),
    centerY: f32(cornerY + f32(f32(side1Y + side2Y) * 0.5)),
    width: f32(Math.sqrt(side1X * side1X + side1Y * side1Y)),
    height: f32(Math.sqrt(side2X * side2X + side2Y * side2Y)),
    angle: toDegrees(f32(Math.atan2(side1Y, side1X))),
  };
}
