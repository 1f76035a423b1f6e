import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Quad } from '../geometry/polygon-iou';
import { readTextFrameSet, scoreParity } from './text-frame-set';

const square = (x: number, y: number, size: number): Quad => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
];

/** A folder for a set, holding the frames its gt.json lists, a.png and b.png (their contents are not read here). */
function setDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iev-set-'));
  for (const file of ['a.png', 'b.png']) writeFileSync(join(dir, file), '');
  return dir;
}

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
    const dir = setDir();
    try {
      expect(() => readTextFrameSet(dir)).toThrow(`${dir} has no gt.json`);
      writeFileSync(join(dir, 'gt.json'), JSON.stringify({ frames: [{ file: 'a.png', width: 4, height: 4, items: [{ quad: square(0, 0, 2) }] }] }));
      expect(readTextFrameSet(dir)).toEqual([{ file: 'a.png', path: join(dir, 'a.png'), width: 4, height: 4, truth: [square(0, 0, 2)], dontCare: [], reference: undefined }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says a folder is not there, or that gt.json itself was given, rather than that a folder lacks gt.json', () => {
    const dir = setDir();
    try {
      expect(() => readTextFrameSet(join(dir, 'dev-x'))).toThrow(`no such folder: ${join(dir, 'dev-x')}`);
      writeFileSync(join(dir, 'gt.json'), JSON.stringify({ frames: [] }));
      expect(() => readTextFrameSet(join(dir, 'gt.json'))).toThrow(`${join(dir, 'gt.json')} is not a folder: give the folder that holds gt.json and its frames`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sets a line transcribed ### apart as don't care, as ICDAR 2015 does, out of the lines to find and their texts", () => {
    const dir = setDir();
    try {
      const items = [{ quad: square(0, 0, 2), text: 'EXIT' }, { quad: square(4, 0, 2), text: '###' }, { quad: square(8, 0, 2), text: 'GATE' }];
      writeFileSync(join(dir, 'gt.json'), JSON.stringify({ frames: [{ file: 'a.png', width: 16, height: 4, items }] }));
      expect(readTextFrameSet(dir)).toEqual([
        expect.objectContaining({ truth: [square(0, 0, 2), square(8, 0, 2)], texts: ['EXIT', 'GATE'], dontCare: [square(4, 0, 2)] }),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names every frame gt.json lists that the folder does not hold, before any is read', () => {
    const dir = setDir();
    try {
      const frames = ['a.png', 'gone.png', 'b.png', 'lost.png'].map((file) => ({ file, width: 4, height: 4, items: [] }));
      writeFileSync(join(dir, 'gt.json'), JSON.stringify({ frames }));
      expect(() => readTextFrameSet(dir)).toThrow(`${join(dir, 'gt.json')} lists 2 frame(s) not in ${dir}: gone.png, lost.png`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a gt.json of another shape, or without frames, naming the frame and what is wrong', () => {
    const dir = setDir();
    const gtPath = join(dir, 'gt.json');
    const frame = { file: 'a.png', width: 4, height: 4, items: [{ quad: square(0, 0, 2) }] };
    const refusal = (gt: unknown) => {
      writeFileSync(gtPath, typeof gt === 'string' ? gt : JSON.stringify(gt));
      try {
        readTextFrameSet(dir);
      } catch (error) {
        return (error as Error).message.replace(gtPath, 'gt.json').replace(/ \(expected .*\)$/, '');
      }
      return 'read';
    };
    try {
      expect(refusal({ frames: [frame] })).toBe('read');
      expect(refusal('{"frames": [')).toMatch(/^gt.json is not JSON: /);
      expect(refusal([frame])).toBe('gt.json: no "frames" list at the top');
      expect(refusal({ frames: [] })).toBe('gt.json lists no frames');
      expect(refusal({ frames: [frame, { ...frame, file: undefined }] })).toBe('gt.json: frame 1 has no "file"');
      expect(refusal({ frames: [{ ...frame, width: '4' }] })).toBe('gt.json: frame 0 (a.png) has no "width" and "height" in whole pixels');
      expect(refusal({ frames: [frame, { ...frame, file: 'b.png', items: undefined }] })).toBe('gt.json: frame 1 (b.png) has no "items" list');
      expect(refusal({ frames: [{ ...frame, items: [frame.items[0], { text: 'EXIT' }] }] })).toBe('gt.json: frame 0 (a.png), item 1: "quad" is not four [x, y] points');
      expect(refusal({ frames: [{ ...frame, items: [{ quad: square(0, 0, 2).slice(0, 3) }] }] })).toBe('gt.json: frame 0 (a.png), item 0: "quad" is not four [x, y] points');
      expect(refusal({ frames: [{ ...frame, items: [{ quad: [...square(0, 0, 2)].reverse() }] }] })).toBe('read'); // either winding
      // Corners given left to right, then left to right again (Z order), and all at one point.
      const [topLeft, topRight, bottomRight, bottomLeft] = square(0, 0, 2);
      const crossing = 'gt.json: frame 0 (a.png), item 0: "quad" crosses itself or has no area: give its corners in order round the line';
      expect(refusal({ frames: [{ ...frame, items: [{ quad: [topLeft, topRight, bottomLeft, bottomRight] }] }] })).toBe(crossing);
      expect(refusal({ frames: [{ ...frame, items: [{ quad: [topLeft, topLeft, topLeft, topLeft] }] }] })).toBe(crossing);
      expect(() => readTextFrameSet(dir)).toThrow(`(expected {"frames": [{"file", "width", "height", "items": [{"quad": [[x, y] x4], "text"?}]}]})`);
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
