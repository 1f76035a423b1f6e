import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IgnoredRegions } from '@iev/detection-pipeline';
import { readTextFrameSet } from '@iev/text-detection';
import { evaluate, formatEvaluation } from './evaluate';
import { seedDetectorFixture, WORKSPACE_ROOT } from '../seed-detector.fixture';

jest.setTimeout(120_000);

const devB = join(WORKSPACE_ROOT, 'testdata/text-frames/dev-b');
const { workDir, detector } = seedDetectorFixture('cli-evaluate-');

type GroundTruthFrame = { file: string; width: number; height: number; items: { text: string }[] };

/** A set of dev-b's first frame (every line found by the seed preset) with its gt.json changed by `change`. */
function frameSet(name: string, change: (frame: GroundTruthFrame) => GroundTruthFrame): string {
  const dir = join(workDir, name);
  mkdirSync(dir);
  const [frame] = (JSON.parse(readFileSync(join(devB, 'gt.json'), 'utf8')) as { frames: GroundTruthFrame[] }).frames;
  copyFileSync(join(devB, frame.file), join(dir, frame.file));
  writeFileSync(join(dir, 'gt.json'), JSON.stringify({ frames: [change(frame)] }));
  return dir;
}

describe('evaluate', () => {
  it("scores neither a line transcribed ### (ICDAR's don't care) nor the box found on it", async () => {
    const plain = frameSet('plain', (frame) => frame);
    const unreadable = frameSet('dont-care', (frame) => ({ ...frame, items: frame.items.map((item, i) => (i === 0 ? { ...item, text: '###' } : item)) }));

    const [before, after] = [await evaluate(detector(), undefined, plain, readTextFrameSet(plain)), await evaluate(detector(), undefined, unreadable, readTextFrameSet(unreadable))];

    expect(before.ours.recall).toBe(1);
    expect(after).toMatchObject({ groundTruth: before.groundTruth - 1, dontCare: 1, ours: { recall: 1, detections: before.ours.detections - 1 } });
    // The line's box is neither a match nor a false alarm: one match fewer, the false alarms as they were.
    const matched = (scores: typeof before.ours) => Math.round(scores.precision * scores.detections);
    expect(matched(after.ours)).toBe(matched(before.ours) - 1);
  });

  it('leaves out the boxes centred in --ignore-regions before scoring, so their lines count as missed, and says how many', async () => {
    const plain = frameSet('regions', (frame) => frame);
    const frames = readTextFrameSet(plain);
    const before = await evaluate(detector(), undefined, plain, frames);
    const [frame] = frames;
    // The left half of the picture, in pixels: the lines there are what such a region costs in recall.
    const region = [0, 0, frame.width / 2, frame.height];
    const leftLines = frame.truth.filter((quad) => quad.reduce((sum, [x]) => sum + x, 0) / quad.length < frame.width / 2).length;

    const after = await evaluate(detector(), undefined, plain, frames, { ignored: IgnoredRegions.fromText(JSON.stringify({ '*': [region] })) });

    expect(leftLines).toBeGreaterThan(0);
    expect(after.ignored).toBeGreaterThan(0);
    expect(after.ours.detections).toBe(before.ours.detections - (after.ignored ?? 0));
    expect(after.ours.recall).toBeCloseTo(before.ours.recall - leftLines / before.groundTruth, 4);
    expect(before.ignored).toBeUndefined();
    expect(formatEvaluation(after)).toContain(`${after.ignored} boxes in ignore regions left out`);
  });

  it("leaves the boxes in --ignore-regions out of the sample's too (seed-ref.jsonl): its row and the parity compare like with like", async () => {
    const withReference = frameSet('regions-reference', (frame) => frame);
    const [reference] = readFileSync(join(devB, 'seed-ref.jsonl'), 'utf8').split('\n');
    writeFileSync(join(withReference, 'seed-ref.jsonl'), `${reference}\n`);
    const frames = readTextFrameSet(withReference);
    const before = await evaluate(detector(), undefined, withReference, frames);
    const after = await evaluate(detector(), undefined, withReference, frames, { ignored: IgnoredRegions.fromText(JSON.stringify({ '*': [[0, 0, 0.5, 1]] })) });

    expect(after.ignored).toBeGreaterThan(0);
    // The seed preset finds the sample's boxes: as many, and with the same regions, as many left.
    expect(before.sample?.detections).toBe(before.ours.detections);
    expect(after.sample?.detections).toBe(after.ours.detections);
    expect(after.parity).toMatchObject({ equalCountRatio: before.parity?.equalCountRatio, matchedRatio: before.parity?.matchedRatio });
  });

  it('refuses a frame whose picture is not the one gt.json describes: another size, or more than one picture', async () => {
    const resized = frameSet('resized', (frame) => ({ ...frame, width: frame.width / 2, height: frame.height / 2 }));
    const animated = frameSet('animated', (frame) => ({ ...frame, file: 'frame_000.gif' }));
    const png = join(animated, 'frame_000.png');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', png, '-filter_complex', 'loop=loop=1:size=1', join(animated, 'frame_000.gif')]);

    await expect(evaluate(detector(), undefined, resized, readTextFrameSet(resized))).rejects.toThrow(
      `${join(resized, 'frame_000.png')} is 1280x720, but gt.json gives it as 640x360: its quads would be in other pixels`,
    );
    await expect(evaluate(detector(), undefined, animated, readTextFrameSet(animated))).rejects.toThrow(
      `${join(animated, 'frame_000.gif')} holds more than one picture (a video, an animation, pages): eval scores one picture a frame`,
    );
  });
});
