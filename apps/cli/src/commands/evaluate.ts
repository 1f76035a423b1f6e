import type { TextDetector } from '@iev/detection-pipeline';
import type { DetectedBox } from '@iev/frame-protocol';
import { evaluateDetections, matchBoxes } from '@iev/text-detection';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFile } from '../media';
import { round } from '../stats';

type Quad = DetectedBox['points'];

interface GroundTruth {
  frames: { file: string; width: number; height: number; items: { text: string; quad: Quad }[] }[];
}

export interface EvaluationReport {
  set: string;
  preset: string;
  frames: number;
  groundTruth: number;
  ours: { precision: number; recall: number; hmean: number; detections: number };
  /** The original sample's own outputs (seed-ref.jsonl) scored the same way, when the set has them. */
  sample?: { precision: number; recall: number; hmean: number; detections: number };
  /** How closely we reproduce the sample, box for box (IoU >= 0.9). */
  parity?: { referenceBoxes: number; matched: number; matchedRatio: number; equalCountFrames: number; equalCountRatio: number };
}

const PARITY_IOU = 0.9;

/** `eval <dir>`: ICDAR-2015-style precision/recall/hmean on a folder with gt.json, and parity with seed-ref.jsonl. */
export async function evaluate(detector: TextDetector, dir: string): Promise<EvaluationReport> {
  const gtPath = join(dir, 'gt.json');
  if (!existsSync(gtPath)) throw new Error(`${dir} has no gt.json (expected {"frames": [{"file", "items": [{"quad"}]}]})`);
  const truth = JSON.parse(readFileSync(gtPath, 'utf8')) as GroundTruth;
  const reference = readReference(join(dir, 'seed-ref.jsonl'));

  const ours: Quad[][] = [];
  for (const frame of truth.frames) {
    let boxes: Quad[] = [];
    for await (const { image } of decodeFile(join(dir, frame.file))) boxes = (await detector.detect(image)).boxes.map((box) => box.points);
    ours.push(boxes);
  }
  const gtQuads = truth.frames.map((frame) => frame.items.map((item) => item.quad));
  const score = (detections: Quad[][]) => {
    const result = evaluateDetections(gtQuads.map((gt, i) => ({ gt, detections: detections[i] })));
    return { precision: round(result.precision, 4), recall: round(result.recall, 4), hmean: round(result.hmean, 4), detections: result.detections };
  };

  const report: EvaluationReport = {
    set: dir,
    preset: detector.preset.name,
    frames: truth.frames.length,
    groundTruth: gtQuads.reduce((sum, quads) => sum + quads.length, 0),
    ours: score(ours),
  };
  if (reference) {
    const referenceQuads = truth.frames.map((frame) => reference.get(frame.file) ?? []);
    report.sample = score(referenceQuads);
    let matched = 0;
    let referenceBoxes = 0;
    let equalCountFrames = 0;
    referenceQuads.forEach((quads, i) => {
      referenceBoxes += quads.length;
      matched += matchBoxes(quads, ours[i], PARITY_IOU);
      if (quads.length === ours[i].length) equalCountFrames += 1;
    });
    report.parity = {
      referenceBoxes,
      matched,
      matchedRatio: round(referenceBoxes ? matched / referenceBoxes : 1, 4),
      equalCountFrames,
      equalCountRatio: round(equalCountFrames / truth.frames.length, 4),
    };
  }
  return report;
}

function readReference(path: string): Map<string, Quad[]> | undefined {
  if (!existsSync(path)) return undefined;
  const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.trim());
  return new Map(
    lines.map((line) => {
      const entry = JSON.parse(line) as { source: string; boxes: { points: Quad }[] };
      return [entry.source, entry.boxes.map((box) => box.points)];
    }),
  );
}

export function formatEvaluation(report: EvaluationReport): string {
  const row = (name: string, s: EvaluationReport['ours']) =>
    `${name.padEnd(8)} ${s.precision.toFixed(3).padStart(9)} ${s.recall.toFixed(3).padStart(7)} ${s.hmean.toFixed(3).padStart(6)} ${String(s.detections).padStart(10)}`;
  const lines = [
    `${report.set}: ${report.frames} frames, ${report.groundTruth} text lines, preset ${report.preset} (IoU >= 0.5)`,
    `${''.padEnd(8)} precision  recall  hmean detections`,
    row('ours', report.ours),
  ];
  if (report.sample) lines.push(row('sample', report.sample));
  if (report.parity) {
    const p = report.parity;
    lines.push(
      `parity with the sample: ${p.matched}/${p.referenceBoxes} boxes matched at IoU >= ${PARITY_IOU} (${(p.matchedRatio * 100).toFixed(1)}%),` +
        ` equal box count on ${p.equalCountFrames}/${report.frames} frames (${(p.equalCountRatio * 100).toFixed(1)}%)`,
    );
  }
  return lines.join('\n');
}
