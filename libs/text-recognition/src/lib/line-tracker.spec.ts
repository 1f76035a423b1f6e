import type { ImageView } from '@iev/text-detection';
import type { Corners } from './homography';
import { DEFAULT_LINE_TRACKER_OPTIONS, LineTracker } from './line-tracker';
import { lineSignature, signatureDistance } from './line-signature';

const WIDTH = 200;
const HEIGHT = 100;

/** A grey frame with dark vertical strokes ("glyphs") at the given x positions inside the band y 20-40. */
function frame(strokes: number[], noise = 0, seed = 1): ImageView {
  const data = new Uint8Array(WIDTH * HEIGHT * 3).fill(200);
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  for (let y = 20; y < 40; y++) for (const x0 of strokes) for (let x = x0; x < x0 + 4; x++) data.fill(30, (y * WIDTH + x) * 3, (y * WIDTH + x) * 3 + 3);
  if (noise) for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, data[i] + Math.round(random() * noise)));
  return { data, width: WIDTH, height: HEIGHT, stride: WIDTH * 3 };
}

const box = (x: number, y = 18, width = 80, height = 24): Corners => [[x, y], [x + width, y], [x + width, y + height], [x, y + height]];
const WORD = [24, 36, 44, 60, 72, 84];
const OTHER_WORD = [22, 30, 52, 68, 90, 96];
const read = (text: string) => ({ text, score: 0.9 });

describe('lineSignature', () => {
  it('stays below the change threshold under sensor noise and a one-pixel box shift, and goes past it for one character changed', () => {
    const still = lineSignature(frame(WORD), box(20));
    const { changeDistance } = DEFAULT_LINE_TRACKER_OPTIONS;
    expect(signatureDistance(still, lineSignature(frame(WORD, 12, 7), box(21, 19)))).toBeLessThan(changeDistance * 0.8);
    expect(signatureDistance(still, lineSignature(frame([...WORD.slice(0, 5), 78], 12, 5), box(21, 19)))).toBeGreaterThan(changeDistance * 1.1);
    expect(signatureDistance(still, lineSignature(frame(OTHER_WORD), box(20)))).toBeGreaterThan(changeDistance * 1.5);
  });
});

describe('LineTracker', () => {
  it('reads a new line once, then carries its text while it stays and looks the same', () => {
    const tracker = new LineTracker();
    const first = tracker.track(frame(WORD), [box(20)], 0);
    expect(first.toRead).toEqual([{ index: 0, reason: 'new' }]);
    expect(first.complete([read('EXIT')])).toEqual([read('EXIT')]);

    for (let t = 1; t <= 30; t++) {
      const step = tracker.track(frame(WORD, 10, t), [box(20 + (t % 2), 18)], t * 33);
      expect(step.toRead).toEqual([]);
      expect(step.texts).toEqual([read('EXIT')]);
      step.complete([]);
    }
  });

  it('reads a line again when its characters change in the same place', () => {
    const tracker = new LineTracker();
    tracker.track(frame(WORD), [box(20)], 0).complete([read('FUEL 1.89')]);
    const changed = tracker.track(frame(OTHER_WORD), [box(20)], 33);
    expect(changed.toRead).toEqual([{ index: 0, reason: 'changed' }]);
    expect(changed.complete([read('FUEL 1.94')])).toEqual([read('FUEL 1.94')]);
    expect(tracker.track(frame(OTHER_WORD), [box(20)], 66).texts).toEqual([read('FUEL 1.94')]);
  });

  it('reads a line again once it has moved from where it was read, and after the refresh interval', () => {
    const tracker = new LineTracker({ refreshMs: 1000 });
    const strokes = (dx: number) => WORD.map((x) => x + dx);
    tracker.track(frame(strokes(0)), [box(20)], 0).complete([read('BUS 42')]);
    // Each step moves 5 px: IoU with the last step stays above matchIoU, but drifts from where it was read.
    expect(tracker.track(frame(strokes(5)), [box(25)], 33).toRead).toEqual([]);
    const moved = tracker.track(frame(strokes(10)), [box(30)], 66);
    expect(moved.toRead).toEqual([{ index: 0, reason: 'moved' }]);
    moved.complete([read('BUS 42')]);
    expect(tracker.track(frame(strokes(10)), [box(30)], 99).toRead).toEqual([]);
    expect(tracker.track(frame(strokes(10)), [box(30)], 1066).toRead).toEqual([{ index: 0, reason: 'refresh' }]);
  });

  it('keeps lines one-to-one and forgets a line unseen for several frames', () => {
    const tracker = new LineTracker({ forgetAfterFrames: 2 });
    tracker.track(frame(WORD), [box(20), box(110, 60)], 0).complete([read('A'), read('B')]);
    expect(tracker.size).toBe(2);
    tracker.track(frame(WORD), [box(20)], 33).complete([]);
    tracker.track(frame(WORD), [box(20)], 66).complete([]);
    expect(tracker.size).toBe(1);
    expect(tracker.track(frame(WORD), [box(20), box(110, 60)], 99).toRead).toEqual([{ index: 1, reason: 'new' }]);
  });
});
