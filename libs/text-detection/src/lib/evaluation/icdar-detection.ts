import { convexPolygonIoU, type PointLike } from '../geometry/polygon-iou';

/** A text line's or a detection's outline: four corners (any winding), e.g. a DetectedBox's points. */
export type Quad = readonly PointLike[];

export interface FrameDetections {
  gt: readonly Quad[];
  detections: readonly Quad[];
}

export interface DetectionScores {
  precision: number;
  recall: number;
  hmean: number;
  matched: number;
  detections: number;
  groundTruth: number;
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

/**
 * ICDAR 2015-style detection scores over a set of frames: a detection matches a ground-truth line when their
 * IoU is at least `iouThreshold`, one-to-one and greedily by IoU within a frame. precision = matched /
 * detections, recall = matched / ground truth (0 when there are none), hmean their harmonic mean (0 when both are 0).
 */
export function evaluateDetections(frames: readonly FrameDetections[], iouThreshold = 0.5): DetectionScores {
  let matched = 0;
  let detections = 0;
  let groundTruth = 0;
  for (const frame of frames) {
    matched += pairByIoU(frame.gt, frame.detections, iouThreshold).length;
    detections += frame.detections.length;
    groundTruth += frame.gt.length;
  }
  const precision = detections === 0 ? 0 : matched / detections;
  const recall = groundTruth === 0 ? 0 : matched / groundTruth;
  const hmean = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, hmean, matched, detections, groundTruth };
}

/** Parity check: how many `reference` boxes a box of `ours` matches one-to-one at IoU >= `iouThreshold`. */
export function matchBoxes(reference: readonly Quad[], ours: readonly Quad[], iouThreshold: number): number {
  return pairByIoU(reference, ours, iouThreshold).length;
}
