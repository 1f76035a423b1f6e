import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { matchBoxes, type Quad } from './icdar-detection';

/** One frame of a ground-truth set: its image, its text lines and, where the set has them, the original sample's boxes. */
export interface TextFrame {
  file: string;
  /** The image's path: the set's folder joined with `file`. */
  path: string;
  width: number;
  height: number;
  truth: Quad[];
  /** Each true line's text, in `truth`'s order, when gt.json has a `text` for every line. */
  texts?: string[];
  /** The original sample's boxes for this frame (seed-ref.jsonl), when the set has that file. */
  reference?: Quad[];
}

/** Reads a folder holding gt.json and, optionally, seed-ref.jsonl (the layout of testdata/text-frames). */
export function readTextFrameSet(dir: string): TextFrame[] {
  const gtPath = join(dir, 'gt.json');
  if (!existsSync(gtPath)) throw new Error(`${dir} has no gt.json (expected {"frames": [{"file", "width", "height", "items": [{"quad"}]}]})`);
  const gt = JSON.parse(readFileSync(gtPath, 'utf8')) as { frames: { file: string; width: number; height: number; items: { quad: Quad; text?: unknown }[] }[] };
  const reference = readReference(join(dir, 'seed-ref.jsonl'));
  return gt.frames.map((frame) => ({
    file: frame.file,
    path: join(dir, frame.file),
    width: frame.width,
    height: frame.height,
    truth: frame.items.map((item) => item.quad),
    texts: frame.items.every((item) => typeof item.text === 'string') ? frame.items.map((item) => item.text as string) : undefined,
    reference: reference && (reference.get(frame.file) ?? []),
  }));
}

function readReference(path: string): Map<string, Quad[]> | undefined {
  if (!existsSync(path)) return undefined;
  const entries = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as { source: string; boxes: { points: Quad }[] });
  return new Map(entries.map((entry) => [entry.source, entry.boxes.map((box) => box.points)]));
}

export interface ParityScores {
  referenceBoxes: number;
  /** Reference boxes matched one-to-one by ours at the IoU threshold. */
  matched: number;
  /** Frames where we found as many boxes as the reference. */
  equalCountFrames: number;
  frames: number;
}

/** How closely detections reproduce a reference (the original sample), box for box. */
export function scoreParity(frames: readonly { reference: readonly Quad[]; ours: readonly Quad[] }[], iouThreshold = 0.9): ParityScores {
  const scores: ParityScores = { referenceBoxes: 0, matched: 0, equalCountFrames: 0, frames: frames.length };
  for (const { reference, ours } of frames) {
    scores.referenceBoxes += reference.length;
    scores.matched += matchBoxes(reference, ours, iouThreshold);
    if (reference.length === ours.length) scores.equalCountFrames += 1;
  }
  return scores;
}
