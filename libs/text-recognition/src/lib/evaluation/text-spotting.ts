import { pairByIoU, type Quad } from '@iev/text-detection';

export interface SpottedLine {
  quad: Quad;
  text: string;
}

export interface SpottingFrame {
  truth: readonly SpottedLine[];
  predictions: readonly SpottedLine[];
}

export interface SpottingScores {
  precision: number;
  recall: number;
  hmean: number;
  /** Lines whose box matched and whose text equals the truth. */
  correct: number;
  predictions: number;
  groundTruth: number;
  /** Over the lines whose box matched: 1 - edit distance / true length, averaged (1 when none matched). */
  characterAccuracy: number;
  /** Lines whose box matched, read right or wrong. */
  boxesMatched: number;
}

/**
 * Texts compare without regard to case or whitespace (a detector may read "Gate 7" as "Gate7"), and in one Unicode
 * form (NFC): an "é" written as e + U+0301 is the "é" a dictionary holds.
 */
export function normalizeText(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/\s+/g, '');
}

/** Levenshtein distance over code points. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[y.length];
}

/**
 * End-to-end text spotting, ICDAR 2015 style: boxes are paired with true lines one-to-one by IoU (>= iouThreshold,
 * greedily, as detection is scored), and a pair counts when its text equals the true text (normalizeText).
 * precision = correct / predictions, recall = correct / true lines.
 */
export function evaluateTextSpotting(frames: readonly SpottingFrame[], iouThreshold = 0.5): SpottingScores {
  let correct = 0;
  let predictions = 0;
  let groundTruth = 0;
  let boxesMatched = 0;
  let characterAccuracySum = 0;
  for (const { truth, predictions: predicted } of frames) {
    predictions += predicted.length;
    groundTruth += truth.length;
    for (const pair of pairByIoU(truth.map((line) => line.quad), predicted.map((line) => line.quad), iouThreshold)) {
      const expected = normalizeText(truth[pair.a].text);
      const read = normalizeText(predicted[pair.b].text);
      boxesMatched++;
      if (read === expected) correct++;
      characterAccuracySum += Math.max(0, 1 - editDistance(read, expected) / Math.max(1, [...expected].length));
    }
  }
  const precision = predictions === 0 ? 0 : correct / predictions;
  const recall = groundTruth === 0 ? 0 : correct / groundTruth;
  const hmean = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, hmean, correct, predictions, groundTruth, characterAccuracy: boxesMatched === 0 ? 1 : characterAccuracySum / boxesMatched, boxesMatched };
}
