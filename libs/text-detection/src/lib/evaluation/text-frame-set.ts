import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { areaOf, type Quad } from '../geometry/polygon-iou';
import { DONT_CARE_TEXT, matchBoxes } from './icdar-detection';

/** One frame of a ground-truth set: its image, its text lines and, where the set has them, the original sample's boxes. */
export interface TextFrame {
  file: string;
  /** The image's path: the set's folder joined with `file`. */
  path: string;
  width: number;
  height: number;
  /** The lines to find: every item but the don't-care ones. */
  truth: Quad[];
  /** Each true line's text, in `truth`'s order, when gt.json has a `text` for every line. */
  texts?: string[];
  /** Items whose text is ICDAR's don't-care `###`: not scored, nor a detection mostly inside one (inDontCare). */
  dontCare: Quad[];
  /** The original sample's boxes for this frame (seed-ref.jsonl), when the set has that file. */
  reference?: Quad[];
}

const GT_SHAPE = '{"frames": [{"file", "width", "height", "items": [{"quad": [[x, y] x4], "text"?}]}]}';

/** gt.json's frames as readGroundTruth has checked them. */
interface GroundTruthFrame {
  file: string;
  width: number;
  height: number;
  items: { quad: Quad; text?: unknown }[];
}

/**
 * Reads a folder holding gt.json and, optionally, seed-ref.jsonl (the layout of testdata/text-frames). A gt.json
 * of another shape, or with no frames, is refused naming the frame and what is wrong with it, as are frames it lists
 * that the folder does not hold.
 */
export function readTextFrameSet(dir: string): TextFrame[] {
  const given = statSync(dir, { throwIfNoEntry: false });
  // A mistyped folder, or gt.json itself given: said as such, not as a folder that lacks gt.json.
  if (!given) throw new Error(`no such folder: ${dir}`);
  if (!given.isDirectory()) throw new Error(`${dir} is not a folder: give the folder that holds gt.json and its frames`);
  const gtPath = join(dir, 'gt.json');
  if (!existsSync(gtPath)) throw new Error(`${dir} has no gt.json (expected ${GT_SHAPE})`);
  const frames = readGroundTruth(gtPath);
  // All at once, before any frame is scored: a set of a thousand frames would otherwise stop at its first gap.
  const missing = frames.filter((frame) => !existsSync(join(dir, frame.file))).map((frame) => frame.file);
  if (missing.length > 0) throw new Error(`${gtPath} lists ${missing.length} frame(s) not in ${dir}: ${missing.join(', ')}`);
  const reference = readReference(join(dir, 'seed-ref.jsonl'));
  return frames.map((frame) => {
    const lines = frame.items.filter((item) => item.text !== DONT_CARE_TEXT);
    return {
      file: frame.file,
      path: join(dir, frame.file),
      width: frame.width,
      height: frame.height,
      truth: lines.map((item) => item.quad),
      texts: lines.every((item) => typeof item.text === 'string') ? lines.map((item) => item.text as string) : undefined,
      dontCare: frame.items.filter((item) => item.text === DONT_CARE_TEXT).map((item) => item.quad),
      reference: reference && (reference.get(frame.file) ?? []),
    };
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isPoint = (value: unknown) => Array.isArray(value) && value.length === 2 && value.every(Number.isFinite);
const isQuad = (value: unknown): value is Quad => Array.isArray(value) && value.length === 4 && value.every(isPoint);
const isSize = (value: unknown) => Number.isInteger(value) && (value as number) > 0;
/** Twice the signed area of the triangle a, b, c: which side of a→b the point c lies on. */
const turn = (a: readonly number[], b: readonly number[], c: readonly number[]) => (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
const crosses = (a: Quad[number], b: Quad[number], c: Quad[number], d: Quad[number]) => turn(a, b, c) * turn(a, b, d) < 0 && turn(c, d, a) * turn(c, d, b) < 0;
/** Corners in order round the line, with an area: a quad in Z order crosses itself and has no IoU with any box. */
const isOutline = (quad: Quad) => !crosses(quad[0], quad[1], quad[2], quad[3]) && !crosses(quad[1], quad[2], quad[3], quad[0]) && areaOf(quad) > 0;

function readGroundTruth(gtPath: string): GroundTruthFrame[] {
  let gt: unknown;
  try {
    gt = JSON.parse(readFileSync(gtPath, 'utf8'));
  } catch (error) {
    throw new Error(`${gtPath} is not JSON: ${(error as Error).message}`);
  }
  const refuse = (what: string) => new Error(`${gtPath}: ${what} (expected ${GT_SHAPE})`);
  if (!isRecord(gt) || !Array.isArray(gt.frames)) throw refuse('no "frames" list at the top');
  // No frames would score 0 of 0: NaN throughout.
  if (gt.frames.length === 0) throw new Error(`${gtPath} lists no frames`);
  gt.frames.forEach((frame: unknown, i) => {
    if (!isRecord(frame) || typeof frame.file !== 'string' || frame.file === '') throw refuse(`frame ${i} has no "file"`);
    const name = `frame ${i} (${frame.file})`;
    if (!isSize(frame.width) || !isSize(frame.height)) throw refuse(`${name} has no "width" and "height" in whole pixels`);
    if (!Array.isArray(frame.items)) throw refuse(`${name} has no "items" list`);
    frame.items.forEach((item: unknown, j) => {
      if (!isRecord(item) || !isQuad(item.quad)) throw refuse(`${name}, item ${j}: "quad" is not four [x, y] points`);
      if (!isOutline(item.quad)) throw refuse(`${name}, item ${j}: "quad" crosses itself or has no area: give its corners in order round the line`);
    });
  });
  return gt.frames as GroundTruthFrame[];
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
