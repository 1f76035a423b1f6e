import type { ImageView } from '@iev/text-detection';
import type { Corners } from './homography';
import { DEFAULT_LINE_TRACKER_OPTIONS, LineTracker, type LineTrackerOptions } from './line-tracker';
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
  it('stays below the change threshold under sensor noise in the same place, and goes past it for one character changed', () => {
    const still = lineSignature(frame(WORD), box(20));
    const { changeDistance } = DEFAULT_LINE_TRACKER_OPTIONS;
    expect(signatureDistance(still, lineSignature(frame(WORD, 12, 7), box(20)))).toBeLessThan(changeDistance * 0.8);
    expect(signatureDistance(still, lineSignature(frame([...WORD.slice(0, 5), 78], 12, 5), box(20)))).toBeGreaterThan(changeDistance * 1.1);
    expect(signatureDistance(still, lineSignature(frame(OTHER_WORD), box(20)))).toBeGreaterThan(changeDistance * 1.5);
  });

  it('goes past the change threshold for one character changed in a vertical line as in a horizontal one', () => {
    const line = [1, 2, 3, 4, 5, 6, 7, 8];
    const changed = [1, 2, 3, 12, 5, 6, 7, 8];
    const { changeDistance } = DEFAULT_LINE_TRACKER_OPTIONS;
    const across = box(10, 8, 100, 24);
    // The same box turned with the frame: 24 wide, 100 tall, corners still clockwise from its top-left.
    const down: Corners = [[8, 10], [32, 10], [32, 110], [8, 110]];
    const distance = (quad: Corners, turn: (image: ImageView) => ImageView) =>
      signatureDistance(lineSignature(turn(glyphLine(line)), quad), lineSignature(turn(glyphLine(changed)), quad));
    expect(distance(across, (image) => image)).toBeGreaterThan(changeDistance);
    expect(distance(down, turnedRight)).toBeGreaterThan(changeDistance);
  });
});

/** A line of glyphs 10 x 20 pixels, 12 apart, dark on grey, in a 120 x 40 frame: glyph k a broken stroke placed by k. */
function glyphLine(glyphs: number[]): ImageView {
  const [width, height] = [120, 40];
  const data = new Uint8Array(width * height * 3).fill(200);
  glyphs.forEach((glyph, position) => {
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 10; x++) {
        if (x >> 2 === glyph % 3 && y >> 2 !== glyph % 5) data.fill(30, ((10 + y) * width + 12 + position * 12 + x) * 3, ((10 + y) * width + 12 + position * 12 + x) * 3 + 3);
      }
    }
  });
  return { data, width, height, stride: width * 3 };
}

/** The image turned a quarter right: a line read top to bottom, as a vertical sign holds it. */
function turnedRight(image: ImageView): ImageView {
  const { width, height } = image;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(image.data.subarray(y * image.stride + x * 3, y * image.stride + x * 3 + 3), (x * height + (height - 1 - y)) * 3);
  }
  return { data, width: height, height: width, stride: height * 3 };
}

/** The tests below read a line in the frame it appears (confirmFrames 1); confirmation has a test of its own. */
const trackerReadingAtOnce = (options: Partial<LineTrackerOptions> = {}) => new LineTracker({ confirmFrames: 1, ...options });

/** Tracks one frame and reads everything the tracker asks for at once, as a reader with no backlog would. */
function trackAndRead(tracker: LineTracker, image: ImageView, quads: Corners[], nowMs: number, texts: string[] = []) {
  const step = tracker.track(image, quads, nowMs);
  step.begin(step.toRead)(step.toRead.map((_, i) => read(texts[i] ?? `line ${i}`)));
  return step;
}

describe('LineTracker', () => {
  it('reads a new line once it has been followed over confirmFrames (2), not a box seen in one frame only', () => {
    const tracker = new LineTracker();
    const first = tracker.track(frame(WORD), [box(20), box(110, 60)], 0);
    expect(first.toRead).toEqual([]);
    // The first line is followed into a second frame; the second box was a flicker, and a new one appears.
    const second = tracker.track(frame(WORD), [box(21), box(20, 70)], 33);
    expect(second.toRead).toEqual([{ index: 0, reason: 'new' }]);
    expect(tracker.track(frame(WORD), [box(21), box(21, 70)], 66).toRead).toEqual([{ index: 0, reason: 'new' }, { index: 1, reason: 'new' }]);
    // Its wait for text counts from the frame it first appeared in.
    trackAndRead(tracker, frame(WORD), [box(21), box(21, 70)], 99);
    expect(tracker.track(frame(WORD), [box(21), box(21, 70)], 132).textAfterMs).toEqual([132, 99]);
  });

  it('asks for a new line once, then carries its text while it looks the same, even as its box jitters', () => {
    const tracker = trackerReadingAtOnce({ rereadMs: 0, lookEveryMs: 0 });
    const first = trackAndRead(tracker, frame(WORD), [box(20)], 0, ['EXIT']);
    expect(first.toRead).toEqual([{ index: 0, reason: 'new' }]);
    expect(first.texts).toEqual([undefined]);

    for (let t = 1; t <= 30; t++) {
      const step = tracker.track(frame(WORD, 10, t), [box(20 + (t % 2), 18)], t * 33);
      expect(step.toRead).toEqual([]);
      expect(step.texts).toEqual([read('EXIT')]);
    }
  });

  it('carries a sign whose box is a tenth wider on one side in some frames, and re-reads it when one character changes in place', () => {
    const tracker = trackerReadingAtOnce({ rereadMs: 0, lookEveryMs: 0 });
    trackAndRead(tracker, frame(WORD), [box(20)], 0, ['FUEL 1.89']);
    // The detector's box for a sign that stays put: as read, one pixel off, or taking in 8 more pixels on the right.
    const jittered = (t: number) => [box(20), box(21, 19), box(20, 18, 88)][t % 3];
    for (let t = 1; t <= 12; t++) expect(tracker.track(frame(WORD, 12, t), [jittered(t)], t * 40).toRead).toEqual([]);
    const oneCharacter = [...WORD.slice(0, 5), 78];
    for (let t = 13; t <= 15; t++) {
      expect(tracker.track(frame(oneCharacter, 12, t), [jittered(t)], t * 40).toRead).toEqual([{ index: 0, reason: 'changed' }]);
    }
  });

  it('carries a line that moves as a whole (a passing plate) and re-reads one that changes in place', () => {
    const tracker = trackerReadingAtOnce({ rereadMs: 0, lookEveryMs: 0 });
    const strokes = (dx: number) => WORD.map((x) => x + dx);
    trackAndRead(tracker, frame(strokes(0)), [box(20)], 0, ['KA 05 2931']);
    for (let dx = 6; dx <= 60; dx += 6) expect(tracker.track(frame(strokes(dx)), [box(20 + dx)], dx).toRead).toEqual([]);
    const changed = tracker.track(frame(OTHER_WORD.map((x) => x + 60)), [box(80)], 100);
    expect(changed.toRead).toEqual([{ index: 0, reason: 'changed' }]);
  });

  it("compares a line's look with its read at most every lookEveryMs, and its size every frame", () => {
    const tracker = trackerReadingAtOnce({ rereadMs: 0, lookEveryMs: 200 });
    trackAndRead(tracker, frame(WORD), [box(20)], 0);
    expect(tracker.track(frame(WORD), [box(20)], 40).toRead).toEqual([]);
    expect(tracker.track(frame(OTHER_WORD), [box(20)], 80).toRead).toEqual([]); // looked at 40: next at 240
    expect(tracker.track(frame(WORD), [box(20, 18, 100)], 120).toRead).toEqual([{ index: 0, reason: 'resized' }]);
    expect(tracker.track(frame(OTHER_WORD), [box(20)], 240).toRead).toEqual([{ index: 0, reason: 'changed' }]);
  });

  it('re-reads a line whose box grew (text scrolled in) and one due for a refresh', () => {
    const tracker = trackerReadingAtOnce({ refreshMs: 1000, rereadMs: 0 });
    trackAndRead(tracker, frame(WORD), [box(20)], 0);
    expect(tracker.track(frame(WORD), [box(20, 18, 100)], 33).toRead).toEqual([{ index: 0, reason: 'resized' }]);
    expect(tracker.track(frame(WORD), [box(20)], 500).toRead).toEqual([]);
    expect(tracker.track(frame(WORD), [box(20)], 1000).toRead).toEqual([{ index: 0, reason: 'refresh' }]);
  });

  it('refreshes a line less often while its reads agree, up to refreshMaxMs, and every refreshMs again once one disagrees', () => {
    const tracker = trackerReadingAtOnce({ refreshMs: 1000, refreshMaxMs: 4000, rereadMs: 0 });
    const refreshes: number[] = [];
    let text = 'EXIT';
    for (let t = 0; t <= 20_000; t += 100) {
      if (t === 9000) text = 'EX1T';
      const step = trackAndRead(tracker, frame(WORD), [box(20)], t, [text]);
      if (step.toRead.some(({ reason }) => reason === 'refresh')) refreshes.push(t);
    }
    // Read at 0; confirmed at 1000 (next in 2 s), 3000 (4 s), 7000 (the cap); 11000 reads EX1T: 1 s again.
    expect(refreshes).toEqual([1000, 3000, 7000, 11_000, 12_000, 14_000, 18_000]);
    const fixed = trackerReadingAtOnce({ refreshMs: 1000, refreshMaxMs: 0, rereadMs: 0 });
    const due = [0, 1000, 2000, 3000].map((t) => trackAndRead(fixed, frame(WORD), [box(20)], t, ['EXIT']).toRead.map(({ reason }) => reason));
    expect(due).toEqual([['new'], ['refresh'], ['refresh'], ['refresh']]);
  });

  it('re-reads a line that changed or grew no sooner than rereadMs after its read, carrying its text meanwhile', () => {
    const tracker = trackerReadingAtOnce({ rereadMs: 1000 });
    trackAndRead(tracker, frame(WORD), [box(20)], 0, ['NEXT TRAIN 08.40']);
    for (const t of [33, 500, 999]) {
      const step = tracker.track(frame(OTHER_WORD), [box(20)], t);
      expect(step.toRead).toEqual([]);
      expect(step.texts).toEqual([read('NEXT TRAIN 08.40')]);
    }
    expect(tracker.track(frame(WORD), [box(20, 18, 100)], 600).toRead).toEqual([]);
    expect(tracker.track(frame(OTHER_WORD), [box(20)], 1000).toRead).toEqual([{ index: 0, reason: 'changed' }]);
    expect(tracker.track(frame(WORD), [box(20, 18, 100)], 1000).toRead).toEqual([{ index: 0, reason: 'resized' }]);
  });

  it("keeps its clock running when the frames' clock steps back (a restarted source), and re-reads a line that changed", () => {
    const tracker = trackerReadingAtOnce();
    trackAndRead(tracker, frame(WORD), [box(20)], 100_040, ['EXIT']);
    const asked: [number, string][] = [];
    for (let t = 40_000; t <= 99_960; t += 40) for (const { reason } of tracker.track(frame(OTHER_WORD), [box(20)], t).toRead) asked.push([t, reason]);
    // The step back counts as no time: the re-read is due rereadMs (1000) after the read, at 41000 on the new clock.
    expect(asked[0]).toEqual([41_000, 'changed']);
  });

  it('compares a box whose shape hovers at the vertical-text ratio in the orientation it was read in: no change seen', () => {
    const tracker = trackerReadingAtOnce();
    // 40 wide: 59 tall reads across (ratio 1.48), 61 tall along its height (1.53), the same pixels either way.
    trackAndRead(tracker, frame(WORD), [box(20, 10, 40, 59)], 0);
    expect(tracker.track(frame(WORD), [box(20, 10, 40, 61)], DEFAULT_LINE_TRACKER_OPTIONS.rereadMs).toRead).toEqual([]);
  });

  it('keeps the default of an option given as undefined (a setting left unset), rather than turning its rule off', () => {
    const tracker = trackerReadingAtOnce({ rereadMs: undefined });
    trackAndRead(tracker, frame(WORD), [box(20)], 0);
    expect(tracker.track(frame(OTHER_WORD), [box(20)], DEFAULT_LINE_TRACKER_OPTIONS.rereadMs).toRead).toEqual([{ index: 0, reason: 'changed' }]);
  });

  it('does not ask again for a line whose read is under way, and fills it in when the read arrives', () => {
    const tracker = trackerReadingAtOnce();
    const first = tracker.track(frame(WORD), [box(20)], 0);
    const finish = first.begin(first.toRead);
    expect(tracker.track(frame(WORD), [box(20)], 33).toRead).toEqual([]);
    finish([read('GATE 7')]);
    expect(tracker.track(frame(WORD), [box(20)], 66).texts).toEqual([read('GATE 7')]);
  });

  it("tells how long a new line's text waited: once, with the frame its first read shows in, not for re-reads", () => {
    const tracker = trackerReadingAtOnce({ refreshMs: 100, rereadMs: 0 });
    const first = tracker.track(frame(WORD), [box(20)], 1000);
    expect(first.textAfterMs).toEqual([]);
    const finish = first.begin(first.toRead);
    expect(tracker.track(frame(WORD), [box(20)], 1033).textAfterMs).toEqual([]);
    finish([read('GATE 7')]);
    // A second line appears as the first one's text shows; it is read with this frame, so shows with the next.
    expect(trackAndRead(tracker, frame(WORD), [box(20), box(110, 60)], 1066).textAfterMs).toEqual([66]);
    expect(tracker.track(frame(WORD), [box(20), box(110, 60)], 1099).textAfterMs).toEqual([33]);
    const refreshed = trackAndRead(tracker, frame(WORD), [box(20), box(110, 60)], 1300);
    expect(refreshed.toRead.map(({ reason }) => reason)).toEqual(['refresh', 'refresh']);
    expect(tracker.track(frame(WORD), [box(20), box(110, 60)], 1333).textAfterMs).toEqual([]);
  });

  it('takes a lost line back when a box of its look comes back where it was within reviveMs, and reads it as new otherwise', () => {
    const tracker = trackerReadingAtOnce({ forgetAfterFrames: 2, reviveMs: 500 });
    trackAndRead(tracker, frame(WORD), [box(20)], 0, ['EXIT']);
    const lose = (fromMs: number) => [1, 2].forEach((k) => tracker.track(frame(WORD), [], fromMs + k * 33));
    lose(0);
    expect(tracker.size).toBe(0);
    const back = tracker.track(frame(WORD, 10, 3), [box(21, 19)], 100);
    expect(back.toRead).toEqual([]);
    expect(back.texts).toEqual([read('EXIT')]);

    lose(100);
    expect(tracker.track(frame(OTHER_WORD), [box(20)], 200).toRead).toEqual([{ index: 0, reason: 'new' }]);
    const other = trackerReadingAtOnce({ forgetAfterFrames: 2, reviveMs: 500 });
    trackAndRead(other, frame(WORD), [box(20)], 0, ['EXIT']);
    [1, 2].forEach((k) => other.track(frame(WORD), [], k * 33));
    expect(other.track(frame(WORD), [box(20, 18, 100)], 100).toRead).toEqual([{ index: 0, reason: 'new' }]);
    const late = trackerReadingAtOnce({ forgetAfterFrames: 2, reviveMs: 500 });
    trackAndRead(late, frame(WORD), [box(20)], 0, ['EXIT']);
    [1, 2].forEach((k) => late.track(frame(WORD), [], k * 33));
    expect(late.track(frame(WORD), [box(20)], 600).toRead).toEqual([{ index: 0, reason: 'new' }]);
  });

  it('gives each line an id it keeps while followed and once revived, and never gives an id again, in any tracker', () => {
    const tracker = trackerReadingAtOnce({ forgetAfterFrames: 2, reviveMs: 500 });
    const [exit] = trackAndRead(tracker, frame(WORD), [box(20)], 0, ['EXIT']).lineIds;
    const both = tracker.track(frame(WORD), [box(21), box(110, 60)], 33).lineIds;
    expect(both[0]).toBe(exit);
    expect(both[1]).not.toBe(exit);
    [1, 2].forEach((k) => tracker.track(frame(WORD), [], 33 + k * 33));
    expect(tracker.track(frame(WORD, 10, 3), [box(21, 19)], 150).lineIds).toEqual([exit]);

    const another = trackerReadingAtOnce().track(frame(WORD), [box(20), box(110, 60)], 0).lineIds;
    expect(new Set([exit, both[1], ...another]).size).toBe(4);
  });

  it('asks for new lines first, and forgets a line unseen for several frames', () => {
    const tracker = trackerReadingAtOnce({ forgetAfterFrames: 2, refreshMs: 50 });
    trackAndRead(tracker, frame(WORD), [box(20)], 0);
    expect(tracker.track(frame(WORD), [box(20), box(110, 60)], 60).toRead).toEqual([{ index: 1, reason: 'new' }, { index: 0, reason: 'refresh' }]);
    expect(tracker.size).toBe(2);
    tracker.track(frame(WORD), [box(20)], 70);
    tracker.track(frame(WORD), [box(20)], 80);
    expect(tracker.size).toBe(1);
  });
});
