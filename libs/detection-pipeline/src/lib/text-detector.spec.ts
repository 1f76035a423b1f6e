import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DetectedBox } from '@iev/frame-protocol';
import { OnnxRuntimeBackend } from '@iev/inference-backends';
import { evaluateDetections, getPreset, matchBoxes, type ImageView } from '@iev/text-detection';
import { TextDetector } from './text-detector';

const ROOT = join(__dirname, '../../../..');
const MODEL = join(ROOT, 'models/ch_pp_inf_dynamic.onnx');
const FRAMES = join(ROOT, 'testdata/text-frames');

type Quad = DetectedBox['points'];

/** A PNG decoded to BGR by ffmpeg, as the detect CLI and capture do. */
function readImage(path: string, width: number, height: number): ImageView {
  const decoded = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-'], { maxBuffer: 64 << 20 });
  if (decoded.status !== 0) throw new Error(`ffmpeg could not decode ${path}: ${decoded.stderr}`);
  return { data: decoded.stdout, width, height, stride: width * 3 };
}

interface SetResult {
  referenceBoxes: number;
  matched: number;
  equalCountFrames: number;
  frames: number;
  ours: Quad[][];
  truth: Quad[][];
  reference: Quad[][];
}

async function runSet(detector: TextDetector, set: string): Promise<SetResult> {
  const gt = JSON.parse(readFileSync(join(FRAMES, set, 'gt.json'), 'utf8')) as {
    frames: { file: string; width: number; height: number; items: { quad: Quad }[] }[];
  };
  const referenceByFile = new Map(
    readFileSync(join(FRAMES, set, 'seed-ref.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { source: string; boxes: { points: Quad }[] })
      .map((entry) => [entry.source, entry.boxes.map((box) => box.points)]),
  );
  const result: SetResult = { referenceBoxes: 0, matched: 0, equalCountFrames: 0, frames: gt.frames.length, ours: [], truth: [], reference: [] };
  for (const frame of gt.frames) {
    const { boxes } = await detector.detect(readImage(join(FRAMES, set, frame.file), frame.width, frame.height));
    const ours = boxes.map((box) => box.points);
    const reference = referenceByFile.get(frame.file) ?? [];
    result.referenceBoxes += reference.length;
    result.matched += matchBoxes(reference, ours, 0.9);
    if (reference.length === ours.length) result.equalCountFrames += 1;
    result.ours.push(ours);
    result.truth.push(frame.items.map((item) => item.quad));
    result.reference.push(reference);
  }
  return result;
}

const hmean = (detections: Quad[][], truth: Quad[][]) => evaluateDetections(truth.map((gt, i) => ({ gt, detections: detections[i] }))).hmean;

describe('TextDetector with the seed preset reproduces the original sample (real model, real frames)', () => {
  const backend = new OnnxRuntimeBackend({ modelPath: MODEL });
  let detector: TextDetector;
  let results: SetResult[];

  beforeAll(async () => {
    await backend.load();
    detector = new TextDetector(backend, getPreset('seed'));
    results = [await runSet(detector, 'dev-a'), await runSet(detector, 'dev-b')];
  }, 120_000);
  afterAll(() => backend.dispose());

  it("matches >= 98% of the sample's boxes at IoU >= 0.9 across dev-a and dev-b", () => {
    const matched = results.reduce((sum, r) => sum + r.matched, 0);
    const total = results.reduce((sum, r) => sum + r.referenceBoxes, 0);
    expect(total).toBeGreaterThan(200);
    expect(matched / total).toBeGreaterThanOrEqual(0.98);
  });

  it('finds the same number of boxes as the sample on >= 95% of frames', () => {
    const equal = results.reduce((sum, r) => sum + r.equalCountFrames, 0);
    const frames = results.reduce((sum, r) => sum + r.frames, 0);
    expect(equal / frames).toBeGreaterThanOrEqual(0.95);
  });

  it("scores at least the sample's hmean (minus 0.005) against the ground truth on each set", () => {
    for (const result of results) {
      expect(hmean(result.ours, result.truth)).toBeGreaterThanOrEqual(hmean(result.reference, result.truth) - 0.005);
    }
  });

  it('reports integer points inside the frame, clockwise from top-left, with a score above box_thresh', () => {
    for (const frameBoxes of results[1].ours) {
      for (const [[x0, y0], [x1], , [, y3]] of frameBoxes) {
        expect(x1).toBeGreaterThanOrEqual(x0);
        expect(y3).toBeGreaterThanOrEqual(y0);
      }
      for (const point of frameBoxes.flat()) {
        expect(Number.isInteger(point[0]) && point[0] >= 0 && point[0] <= 1280).toBe(true);
        expect(Number.isInteger(point[1]) && point[1] >= 0 && point[1] <= 720).toBe(true);
      }
    }
  });

  it('times each stage', async () => {
    const { timings } = await detector.detect(readImage(join(FRAMES, 'dev-a/frame_000.png'), 640, 480));
    for (const ms of Object.values(timings)) expect(ms).toBeGreaterThan(0);
  });
});

describe('the default preset', () => {
  const backend = new OnnxRuntimeBackend({ modelPath: MODEL });
  beforeAll(() => backend.load());
  afterAll(() => backend.dispose());

  it('is at least as accurate as the seed preset over both dev sets (the reason it is the default)', async () => {
    const overall = async (preset: string) => {
      const detector = new TextDetector(backend, getPreset(preset));
      const sets = [await runSet(detector, 'dev-a'), await runSet(detector, 'dev-b')];
      return hmean(sets.flatMap((set) => set.ours), sets.flatMap((set) => set.truth));
    };
    expect(await overall('default')).toBeGreaterThanOrEqual(await overall('seed'));
  }, 120_000);
});
