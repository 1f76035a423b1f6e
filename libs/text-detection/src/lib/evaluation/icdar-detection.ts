import { areaOf, intersectionArea, pairByIoU, type Quad } from '../geometry/polygon-iou';

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

/** ICDAR 2015's transcription of a line it does not care about (unreadable text): found or not, it is not scored. */
export const DONT_CARE_TEXT = '###';

/**
 * Whether ICDAR 2015 leaves a detection out of the scores: more than half of its area lies inside one of the
 * don't-care lines (`DONT_CARE_TEXT`), so finding unreadable text is neither a hit nor a false alarm.
 */
export function inDontCare(detection: Quad, dontCare: readonly Quad[]): boolean {
  const area = areaOf(detection);
  return area > 0 && dontCare.some((line) => intersectionArea(line, detection) > 0.5 * area);
}
