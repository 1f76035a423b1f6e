import type { IgnoredRegions, TextDetector, VideoTextReader } from '@iev/detection-pipeline';
import type { DetectedBox } from '@iev/frame-protocol';
import { evaluationAnnotations } from '@iev/frame-annotation';
import { evaluateDetections, inDontCare, scoreParity, type Quad, type TextFrame } from '@iev/text-detection';
import { evaluateTextSpotting, type SpottedLine } from '@iev/text-recognition';
import { AnnotatedFiles } from '../annotated-files';
import { encodeAnnotatedPicture } from '../annotated-jpeg';
import { decodeFile } from '../media';
import { round } from '../stats';

export interface EvaluationReport {
  set: string;
  preset: string;
  frames: number;
  groundTruth: number;
  /** Lines transcribed `###`, ICDAR's don't care: not in groundTruth, and a detection mostly inside one is not scored. */
  dontCare: number;
  ours: { precision: number; recall: number; hmean: number; detections: number };
  /** Boxes centred in the ignore regions (--ignore-regions), left out before scoring and reading; absent without regions. */
  ignored?: number;
  /** The original sample's own outputs (seed-ref.jsonl) scored the same way, when the set has them. */
  sample?: { precision: number; recall: number; hmean: number; detections: number };
  /** How closely we reproduce the sample, box for box (IoU >= 0.9). */
  parity?: { referenceBoxes: number; matched: number; matchedRatio: number; equalCountFrames: number; equalCountRatio: number };
  /**
   * End-to-end text spotting, when text was read and gt.json has each line's text: a true line counts when a box
   * matches it (IoU >= 0.5) and reads its text (case, whitespace and Unicode composition aside).
   */
  spotting?: { precision: number; recall: number; hmean: number; predictions: number; correct: number; characterAccuracy: number };
}

const PARITY_IOU = 0.9;
/** ICDAR 2015's: a detection matches a true line at this IoU (the scores and the annotated frames alike). */
const MATCH_IOU = 0.5;

export interface EvaluationOptions {
  /** Each frame written here with its ground truth and predictions drawn, misses and false alarms marked, over its ignore regions shaded. */
  annotateDir?: string;
  /**
   * Boxes centred in these regions are left out before scoring, as inference leaves out a camera's: the lines under
   * them then count as missed, which is what a region costs in recall on the set (--ignore-regions).
   */
  ignored?: IgnoredRegions;
}

/**
 * `eval <dir>`: ICDAR-2015-style precision/recall/hmean on a folder with gt.json (`frames`, read by
 * readTextFrameSet before the models load, so a bad gt.json is told at once; detections mostly inside a don't-care
 * line, `###`, left out as ICDAR leaves them), parity with seed-ref.jsonl, and
 * with a reader end-to-end text spotting. With `annotateDir`, each frame is written there with its ground truth and
 * predictions drawn, misses and false alarms marked.
 */
export async function evaluate(
  detector: TextDetector,
  reader: VideoTextReader | undefined,
  dir: string,
  frames: readonly TextFrame[],
  { annotateDir, ignored }: EvaluationOptions = {},
): Promise<EvaluationReport> {
  const annotated = annotateDir === undefined ? undefined : new AnnotatedFiles(annotateDir, frames.map((frame) => frame.path));
  const ours: Quad[][] = [];
  const read: SpottedLine[][] = [];
  let ignoredBoxes = 0;
  for (const frame of frames) {
    for await (const { index, image } of decodeFile(frame.path)) {
      // Scores against another picture, or pixels other than the quads', would be wrong without a sign of it.
      if (index > 0) throw new Error(`${frame.path} holds more than one picture (a video, an animation, pages): eval scores one picture a frame`);
      if (image.width !== frame.width || image.height !== frame.height) {
        throw new Error(`${frame.path} is ${image.width}x${image.height}, but gt.json gives it as ${frame.width}x${frame.height}: its quads would be in other pixels`);
      }
      const found = (await detector.detect(image)).boxes;
      const split = ignored?.split(frame.file, found, image.width, image.height);
      ignoredBoxes += split?.ignored ?? 0;
      const boxes = (split?.kept ?? found).filter((box) => !inDontCare(box.points, frame.dontCare));
      ours.push(boxes.map((box) => box.points));
      const reading = reader && (await reader.read({ sourceId: frame.file, timeMs: 0, image, boxes }));
      if (reading) read.push(reading.boxes.map((box) => ({ quad: box.points, text: box.text ?? '' })));
      if (annotated) {
        // Every detection, as the detection scores count them, with the text read where it was kept: the reader
        // hands back each box it keeps with the same points.
        const readBoxes = new Map(reading?.boxes.map((box) => [box.points, box]));
        const predictions = boxes.map((box) => readBoxes.get(box.points) ?? box);
        const truth = frame.truth.map((quad, i) => ({ quad, text: frame.texts?.[i] }));
        annotated.write(frame.path, 0, await encodeAnnotatedPicture(image, evaluationAnnotations(truth, predictions, MATCH_IOU), ignored, frame.file));
      }
    }
  }
  const score = (detections: readonly Quad[][]) => {
    const result = evaluateDetections(frames.map((frame, i) => ({ gt: frame.truth, detections: detections[i] })), MATCH_IOU);
    return { precision: round(result.precision, 4), recall: round(result.recall, 4), hmean: round(result.hmean, 4), detections: result.detections };
  };

  const report: EvaluationReport = {
    set: dir,
    preset: detector.preset.name,
    frames: frames.length,
    groundTruth: frames.reduce((sum, frame) => sum + frame.truth.length, 0),
    dontCare: frames.reduce((sum, frame) => sum + frame.dontCare.length, 0),
    ours: score(ours),
    ...(ignored && { ignored: ignoredBoxes }),
  };
  // The sample's boxes under the same regions, as the sample on that camera would have had them left out: its row
  // and the parity then compare like with like.
  const outsideRegions = (frame: TextFrame, quads: Quad[]) =>
    ignored ? ignored.split(frame.file, quads.map((points) => ({ points: points as DetectedBox['points'], score: 1 })), frame.width, frame.height).kept.map((box) => box.points) : quads;
  const reference = frames.every((frame) => frame.reference)
    ? frames.map((frame) => outsideRegions(frame, frame.reference ?? []).filter((quad) => !inDontCare(quad, frame.dontCare)))
    : undefined;
  if (reference) {
    report.sample = score(reference);
    const parity = scoreParity(reference.map((boxes, i) => ({ reference: boxes, ours: ours[i] })), PARITY_IOU);
    report.parity = {
      referenceBoxes: parity.referenceBoxes,
      matched: parity.matched,
      matchedRatio: round(parity.referenceBoxes ? parity.matched / parity.referenceBoxes : 1, 4),
      equalCountFrames: parity.equalCountFrames,
      equalCountRatio: round(parity.equalCountFrames / frames.length, 4),
    };
  }
  const texts = frames.every((frame) => frame.texts) ? frames.map((frame) => frame.texts ?? []) : undefined;
  if (reader && texts) {
    const spotting = evaluateTextSpotting(frames.map((frame, i) => ({ truth: frame.truth.map((quad, j) => ({ quad, text: texts[i][j] })), predictions: read[i] })));
    report.spotting = {
      precision: round(spotting.precision, 4),
      recall: round(spotting.recall, 4),
      hmean: round(spotting.hmean, 4),
      predictions: spotting.predictions,
      correct: spotting.correct,
      characterAccuracy: round(spotting.characterAccuracy, 4),
    };
  }
  return report;
}

export function formatEvaluation(report: EvaluationReport): string {
  const row = (name: string, s: EvaluationReport['ours']) =>
    `${name.padEnd(8)} ${s.precision.toFixed(3).padStart(9)} ${s.recall.toFixed(3).padStart(7)} ${s.hmean.toFixed(3).padStart(6)} ${String(s.detections).padStart(10)}`;
  const lines = [
    `${report.set}: ${report.frames} frames, ${report.groundTruth} text lines${report.dontCare ? ` (and ${report.dontCare} don't care, ###)` : ''}, preset ${report.preset} (IoU >= 0.5)`,
    `${''.padEnd(8)} precision  recall  hmean detections`,
    row('ours', report.ours),
  ];
  if (report.ignored !== undefined) lines.push(`(${report.ignored} boxes in ignore regions left out before scoring: the lines under them count as missed)`);
  if (report.sample) lines.push(row('sample', report.sample));
  if (report.parity) {
    const p = report.parity;
    lines.push(
      `parity with the sample: ${p.matched}/${p.referenceBoxes} boxes matched at IoU >= ${PARITY_IOU} (${(p.matchedRatio * 100).toFixed(1)}%),` +
        ` equal box count on ${p.equalCountFrames}/${report.frames} frames (${(p.equalCountRatio * 100).toFixed(1)}%)`,
    );
  }
  if (report.spotting) {
    const s = report.spotting;
    lines.push(
      `reading (a line counts when its box matches and its text is right): precision ${s.precision.toFixed(3)}, recall ${s.recall.toFixed(3)},` +
        ` hmean ${s.hmean.toFixed(3)} (${s.correct} of ${report.groundTruth} lines, ${s.predictions} read); characters right on matched lines ${(s.characterAccuracy * 100).toFixed(1)}%`,
    );
  }
  return lines.join('\n');
}
