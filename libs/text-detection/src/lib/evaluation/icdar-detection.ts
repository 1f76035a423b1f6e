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

/**
 * Pairs boxes of `a` with boxes of `b` one-to-one, greedily by IoU (highest first, ties in input order),
 * counting pairs whose IoU is at least `iouThreshold`.
 */
function countGreedyMatches(a: readonly Quad[], b: readonly Quad[], iouThreshold: number): number {
  const pairs: { iou: number; i: number; j: number }[] = [];
  a.forEach((quadA, i) =>
    b.forEach((quadB, j) => {
      const iou = convexPolygonIoU(quadA, quadB);
      if (iou >= iouThreshold) pairs.push({ iou, i, j });
    }),
  );
  pairs.sort((p, q) => q.iou - p.iou || p.i - q.i || p.j - q.j);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  for (const { i, j } of pairs) {
    if (usedA.has(i) || usedB.has(j)) continue;
    usedA.add(i);
    usedB.add(j);
  }
  return usedA.size;
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
    matched += countGreedyMatches(frame.gt, frame.detections, iouThreshold);
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
  return countGreedyMatches(reference, ours, iouThreshold);
}
