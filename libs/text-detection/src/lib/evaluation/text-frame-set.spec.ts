import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Quad } from './icdar-detection';
import { readTextFrameSet, scoreParity } from './text-frame-set';

const square = (x: number, y: number, size: number): Quad => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
];

describe('readTextFrameSet', () => {
  it('reads the development sets with their ground truth and the sample\'s boxes', () => {
    const frames = readTextFrameSet(join(__dirname, '../../../../../testdata/text-frames/dev-b'));
    expect(frames).toHaveLength(8);
    expect(frames.reduce((sum, frame) => sum + frame.truth.length, 0)).toBe(34);
    expect(frames[0]).toMatchObject({ file: 'frame_000.png', width: 1280, height: 720 });
    expect(frames[0].path.endsWith('dev-b/frame_000.png')).toBe(true);
    expect(frames.every((frame) => Array.isArray(frame.reference))).toBe(true);
  });

  it('leaves the reference out when the set has no seed-ref.jsonl, and says what a folder without gt.json lacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iev-set-'));
    try {
      expect(() => readTextFrameSet(dir)).toThrow(`${dir} has no gt.json`);
      writeFileSync(join(dir, 'gt.json'), JSON.stringify({ frames: [{ file: 'a.png', width: 4, height: 4, items: [{ quad: square(0, 0, 2) }] }] }));
      expect(readTextFrameSet(dir)).toEqual([{ file: 'a.png', path: join(dir, 'a.png'), width: 4, height: 4, truth: [square(0, 0, 2)], reference: undefined }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scoreParity', () => {
  it('counts reference boxes matched at the IoU and frames with equal box counts', () => {
    const scores = scoreParity([
      { reference: [square(0, 0, 10), square(50, 50, 10)], ours: [square(0, 0, 10), square(51, 50, 10)] },
      { reference: [square(0, 0, 10)], ours: [] },
    ]);
    // square(51, ...) overlaps square(50, ...) at IoU 90/110 < 0.9: not matched.
    expect(scores).toEqual({ referenceBoxes: 3, matched: 1, equalCountFrames: 1, frames: 2 });
  });
});
