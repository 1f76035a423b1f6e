import type { DetectedBox } from '@iev/frame-protocol';
import { pairByIoU, type Quad } from '@iev/text-detection';
import { textLabel, type Annotation, type Rgb } from './annotation';

export const TRUTH_COLOUR: Rgb = [0, 200, 255];
export const PREDICTION_COLOUR: Rgb = [255, 64, 200];

/** A line of the ground truth, with its text where the set has it. */
export interface TruthLine {
  quad: Quad;
  text?: string;
}

/**
 * Ground truth and predictions of one frame in two colours, paired as the evaluation pairs them (one-to-one,
 * greedily by IoU, at `iouThreshold`): a true line no prediction matched is dashed and labelled "miss", a
 * prediction that matched no line dashed and labelled "false alarm" (labels of the truth below their outline, of
 * predictions above, so a miss and the false alarm beside it can both be read).
 */
export function evaluationAnnotations(truth: readonly TruthLine[], predictions: readonly DetectedBox[], iouThreshold = 0.5): Annotation[] {
  const pairs = pairByIoU(
    truth.map((line) => line.quad),
    predictions.map((box) => box.points),
    iouThreshold,
  );
  const matchedTruth = new Set(pairs.map((pair) => pair.a));
  const matchedPredictions = new Set(pairs.map((pair) => pair.b));
  return [
    ...truth.map((line, i): Annotation => {
      const missed = !matchedTruth.has(i);
      return { points: line.quad, colour: TRUTH_COLOUR, dashed: missed, label: missed ? joined('miss', line.text) : undefined, labelBelow: true };
    }),
    ...predictions.map((box, j): Annotation => {
      const falseAlarm = !matchedPredictions.has(j);
      const read = box.text === undefined ? undefined : textLabel(box.text, box.textScore);
      return { points: box.points, colour: PREDICTION_COLOUR, dashed: falseAlarm, label: falseAlarm ? joined('false alarm', read) : read };
    }),
  ];
}

const joined = (mark: string, text: string | undefined) => (text === undefined ? mark : `${mark}: ${text}`);
