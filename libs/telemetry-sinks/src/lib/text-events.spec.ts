import type { DetectedBox, Detections } from '@iev/frame-protocol';
import { DEFAULT_LINE_TRACKER_OPTIONS } from '@iev/text-recognition';
import { TextEvents, TRACKER_FORGETS_AFTER_FRAMES, type TextEvent, type TextEventSettings } from './text-events';

const T0 = 1_765_000_000_000;

/** A box of line `lineId` at x, with `text` read (or none yet). */
function line(lineId: number | undefined, text?: string, textScore = 0.9, x = 10): DetectedBox {
  return {
    points: [[x, 20], [x + 100, 20], [x + 100, 50], [x, 50]],
    score: 0.9,
    ...(lineId !== undefined && { lineId }),
    ...(text !== undefined && { text, textScore }),
  };
}

/** Frame `sequence` of camera0 at 25 fps from T0, of inference run `runId`. */
function frame(sequence: number, boxes: DetectedBox[], runId: string | undefined = 'run-a', sourceId = 'camera0'): Detections {
  const captureTimeMs = T0 + sequence * 40;
  return {
    frame: { sourceId, sequence, captureTimeMs },
    width: 640,
    height: 480,
    modelId: 'det@1',
    boxes,
    timings: { transportMs: 1, preprocessMs: 1, inferenceMs: 30, postprocessMs: 1 },
    publishedAtMs: captureTimeMs + 40,
    ...(runId !== undefined && { runId }),
  };
}

describe('TextEvents', () => {
  let clockMs: number;
  let events: TextEvent[];
  let textEvents: TextEvents;
  const start = (settings: Partial<TextEventSettings> = {}) => {
    textEvents = new TextEvents({ goneAfterMs: 2000, confirmReads: 1, ...settings }, (event) => events.push(event), () => clockMs);
  };
  /** Feeds a frame received 50 ms after its capture, as telemetry's clock then reads. */
  const add = (detections: Detections) => {
    clockMs = detections.frame.captureTimeMs + 50;
    textEvents.add(detections);
  };
  const summary = () => events.map((event) => `${event.type} ${event.lineId} ${event.text}`);

  beforeEach(() => {
    jest.useFakeTimers();
    events = [];
  });
  afterEach(() => {
    textEvents.close();
    jest.useRealTimers();
  });

  it('says a line appeared once it has text, changed when its text differs (not its score alone), and carries its box and frame', () => {
    start();
    add(frame(0, [line(7)]));
    add(frame(1, [line(7, 'ABC 123', 0.91, 12)]));
    add(frame(2, [line(7, 'ABC 123', 0.99)]));
    add(frame(3, [line(7, 'ABC 124', 0.95)]));

    expect(summary()).toEqual(['text-appeared 7 ABC 123', 'text-changed 7 ABC 124']);
    expect(events[0]).toEqual({
      type: 'text-appeared',
      sourceId: 'camera0',
      runId: 'run-a',
      lineId: 7,
      modelId: 'det@1',
      text: 'ABC 123',
      textScore: 0.91,
      points: line(7, undefined, 0, 12).points,
      sequence: 1,
      captureTimeMs: T0 + 40,
    });
    expect(events[1]).toMatchObject({ previousText: 'ABC 123', textScore: 0.95, sequence: 3 });
  });

  it('sends no change where a re-read only merged or split words ("BUS 42" read as "BUS42"), and keeps the text sent', () => {
    start();
    add(frame(0, [line(1, 'BUS 42')]));
    add(frame(1, [line(1, 'BUS42')]));
    add(frame(2, [line(1, 'BUS 43')]));

    expect(events.map((event) => (event.type === 'text-changed' ? `${event.previousText} -> ${event.text}` : event.text))).toEqual(['BUS 42', 'BUS 42 -> BUS 43']);
  });

  it('with confirmReads, sends a new text once that many reads in a row gave it: a misread the next read takes back sends nothing', () => {
    start({ confirmReads: 2 });
    add(frame(0, [line(1, 'BUS 42', 0.99)]));
    // Misread, carried over frames (the same text and score: one read), then read right again.
    add(frame(1, [line(1, 'BUS 42 (', 0.91)]));
    add(frame(2, [line(1, 'BUS 42 (', 0.91)]));
    add(frame(3, [line(1, 'BUS 42 (', 0.91)]));
    add(frame(4, [line(1, 'BUS 42', 0.98)]));
    // A real change: its first read waits, its second (spaces aside) is sent, with that read's text and score.
    add(frame(5, [line(1, 'BUS 43', 0.9)]));
    expect(summary()).toEqual(['text-appeared 1 BUS 42']);
    add(frame(6, [line(1, 'BUS43', 0.95)]));

    expect(summary()).toEqual(['text-appeared 1 BUS 42', 'text-changed 1 BUS43']);
    expect(events[1]).toMatchObject({ previousText: 'BUS 42', textScore: 0.95, sequence: 6 });
  });

  it('with confirmReads, starts the count again at a read of another text, and says a line gone with the text sent, not one awaiting confirmation', () => {
    start({ confirmReads: 3 });
    add(frame(0, [line(1, 'OPEN', 0.99)]));
    add(frame(1, [line(1, 'CLOSED', 0.9)]));
    add(frame(2, [line(1, 'CLOSED', 0.91)]));
    add(frame(3, [line(1, 'CL0SED', 0.7)]));
    add(frame(4, [line(1, 'CLOSED', 0.92)]));
    add(frame(5, [line(1, 'CLOSED', 0.93)]));
    expect(summary()).toEqual(['text-appeared 1 OPEN']);
    add(frame(6, [line(1, 'CLOSED', 0.94)]));
    add(frame(7, [line(1, 'OPEN', 0.97)]));
    for (const sequence of [100, 101, 102, 160]) add(frame(sequence, []));

    expect(summary()).toEqual(['text-appeared 1 OPEN', 'text-changed 1 CLOSED', 'text-gone 1 CLOSED']);
  });

  it('tells two lines of the same text apart by their ids, and makes no event for boxes without one (detection only)', () => {
    start();
    add(frame(0, [line(1, 'EXIT'), line(2, 'EXIT', 0.9, 300), line(undefined, 'EXIT')]));

    expect(summary()).toEqual(['text-appeared 1 EXIT', 'text-appeared 2 EXIT']);
  });

  it("says a line has gone once its source's frames went on goneAfterMs without it, with when it was first and last seen", () => {
    start();
    add(frame(0, [line(3)]));
    for (let sequence = 1; sequence <= 100; sequence++) add(frame(sequence, [line(3, 'Platform 4'), line(4, 'MAIN ST', 0.9, 300)]));
    // Line 3 leaves view at frame 101; the tracker stops following it at frame 103, its third frame without it (and
    // could bring it back under its id for 2 s more): 2 s of frames after that (50 frames at 40 ms) it has gone.
    for (let sequence = 101; sequence <= 153; sequence++) add(frame(sequence, [line(4, 'MAIN ST', 0.9, 300)]));
    expect(summary()).toEqual(['text-appeared 3 Platform 4', 'text-appeared 4 MAIN ST']);
    add(frame(154, [line(4, 'MAIN ST', 0.9, 300)]));

    expect(summary()).toEqual(['text-appeared 3 Platform 4', 'text-appeared 4 MAIN ST', 'text-gone 3 Platform 4']);
    expect(events[2]).toMatchObject({ sequence: 100, captureTimeMs: T0 + 4000, firstSeenCaptureTimeMs: T0, lastSeenCaptureTimeMs: T0 + 4000, durationMs: 4000, textScore: 0.9 });
  });

  it('keeps a line in view while the tracker may bring it back under its id: three frames missed at 4 fps, back 2.5 s after its last frame', () => {
    start();
    /** Frame k at 4 fps. */
    const slowFrame = (k: number, boxes: DetectedBox[]) => {
      const detections = frame(k, boxes);
      return { ...detections, frame: { ...detections.frame, captureTimeMs: T0 + k * 250 } };
    };
    for (let k = 0; k <= 4; k++) add(slowFrame(k, [line(7, 'BUS 42')]));
    // Missed in frames 5 to 14 (the tracker lost it at frame 7, 0.75 s after its last), back at 14: 2.5 s after.
    for (let k = 5; k <= 13; k++) add(slowFrame(k, []));
    add(slowFrame(14, [line(7, 'BUS 42')]));
    expect(summary()).toEqual(['text-appeared 7 BUS 42']);

    // Gone for good: frames 15 to 26 without it; 2 s after the tracker let it go (frame 17), at frame 26, it has gone.
    for (let k = 15; k <= 25; k++) add(slowFrame(k, []));
    expect(summary()).toEqual(['text-appeared 7 BUS 42']);
    add(slowFrame(26, []));
    expect(summary()).toEqual(['text-appeared 7 BUS 42', 'text-gone 7 BUS 42']);
  });

  it('matches inference\'s tracker: the frames it misses a line in before letting it go', () => {
    expect(TRACKER_FORGETS_AFTER_FRAMES).toBe(DEFAULT_LINE_TRACKER_OPTIONS.forgetAfterFrames);
    // TELEMETRY_TEXT_GONE_MS' default (apps/telemetry) is no shorter than the tracker keeps a lost line for its comeback.
    expect(DEFAULT_LINE_TRACKER_OPTIONS.reviveMs).toBeLessThanOrEqual(2000);
  });

  it("says a line has gone after goneAfterMs of its source's frames though capture's clock was set back an hour meanwhile, in view as long as it was", () => {
    start();
    const steppedBack = (sequence: number, boxes: DetectedBox[]) => {
      const detections = frame(sequence, boxes);
      return { ...detections, frame: { ...detections.frame, captureTimeMs: detections.frame.captureTimeMs - (sequence >= 120 ? 3_600_000 : 0) } };
    };
    const [platform, main, exit] = [line(3, 'Platform 4'), line(4, 'MAIN ST', 0.9, 300), line(5, 'EXIT', 0.9, 500)];
    for (let sequence = 0; sequence < 100; sequence++) add(steppedBack(sequence, [platform, main]));
    // Platform 4 leaves at frame 100, EXIT shows from 100 to 130; the clock goes back an hour at frame 120.
    for (let sequence = 100; sequence <= 130; sequence++) add(steppedBack(sequence, [main, exit]));
    for (let sequence = 131; sequence <= 200; sequence++) add(steppedBack(sequence, [main]));

    expect(summary()).toEqual(['text-appeared 3 Platform 4', 'text-appeared 4 MAIN ST', 'text-appeared 5 EXIT', 'text-gone 3 Platform 4', 'text-gone 5 EXIT']);
    expect(events.slice(3)).toMatchObject([
      { sequence: 99, durationMs: 3960 },
      // 30 frames, less the one interval the step hid.
      { sequence: 130, durationMs: 1160 },
    ]);
  });

  // Inference's tracker follows a line whose reads all fall below a minTextScore raised live, but leaves its box out:
  // it goes, and comes back under its id once read above the minimum (or the minimum lowered again).
  it('takes a line id it said gone that comes back as a line anew: text-appeared again, its time in view counted from its return', () => {
    start();
    for (let sequence = 0; sequence <= 10; sequence++) add(frame(sequence, [line(7, 'BUS 42')]));
    for (let sequence = 11; sequence <= 70; sequence++) add(frame(sequence, []));
    expect(summary()).toEqual(['text-appeared 7 BUS 42', 'text-gone 7 BUS 42']);

    for (let sequence = 71; sequence <= 80; sequence++) add(frame(sequence, [line(7, 'BUS 42', 0.97)]));
    for (let sequence = 81; sequence <= 140; sequence++) add(frame(sequence, []));

    expect(summary()).toEqual(['text-appeared 7 BUS 42', 'text-gone 7 BUS 42', 'text-appeared 7 BUS 42', 'text-gone 7 BUS 42']);
    expect(events[2]).toMatchObject({ sequence: 71, textScore: 0.97 });
    expect(events[3]).toMatchObject({ firstSeenCaptureTimeMs: T0 + 71 * 40, lastSeenCaptureTimeMs: T0 + 80 * 40, durationMs: 9 * 40 });
  });

  it('forgets a line that never had text without an event', () => {
    start();
    add(frame(0, [line(5)]));
    for (let sequence = 1; sequence <= 60; sequence++) add(frame(sequence, []));
    add(frame(61, [line(5, 'late')]));

    expect(summary()).toEqual(['text-appeared 5 late']);
  });

  it('says every line of a source that sends nothing more (a camera stopped) has gone, goneAfterMs after its last frame', () => {
    start();
    add(frame(0, [line(1, 'BUS 42'), line(2, 'open 24h', 0.9, 300)]));
    add(frame(1, [line(1, 'BUS 42'), line(2, 'open 24h', 0.9, 300)]));
    add(frame(0, [line(9, 'other camera')], 'run-a', 'camera1'));
    const lastFrameAt = clockMs;

    clockMs = lastFrameAt + 1900;
    jest.advanceTimersByTime(1900);
    expect(events.filter((event) => event.type === 'text-gone')).toEqual([]);
    add({ ...frame(50, [line(9, 'other camera')], 'run-a', 'camera1') });
    clockMs = lastFrameAt + 2600;
    jest.advanceTimersByTime(700);

    expect(events.filter((event) => event.type === 'text-gone').map((event) => `${event.sourceId} ${event.lineId} ${event.durationMs}`)).toEqual(['camera0 1 40', 'camera0 2 40']);
  });

  it("times a silent source on the monotonic clock: NTP setting the wall clock back an hour does not keep a stopped camera's lines", () => {
    textEvents = new TextEvents({ goneAfterMs: 2000, confirmReads: 1 }, (event) => events.push(event));
    textEvents.add(frame(0, [line(1, 'BUS 42')]));
    jest.setSystemTime(Date.now() - 3_600_000);
    jest.advanceTimersByTime(3000);

    expect(summary()).toEqual(['text-appeared 1 BUS 42', 'text-gone 1 BUS 42']);
  });

  it('keeps the lines of a camera slower than goneAfterMs (CAPTURE_FPS=0.2) in view between its frames once it has a pace, and says they went when it stops', () => {
    start();
    /** A frame every 5 s, the sign in each, telemetry's timer running between them. */
    const slow = (k: number) => {
      const detections = frame(k * 125, [line(1, 'P2 FULL')]);
      while (clockMs < detections.frame.captureTimeMs) {
        clockMs += 100;
        jest.advanceTimersByTime(100);
      }
      add(detections);
    };
    add(frame(0, [line(1, 'P2 FULL')]));
    for (let k = 1; k <= 6; k++) slow(k);
    const events0 = summary();
    for (let k = 7; k <= 20; k++) slow(k);
    expect(summary()).toEqual(events0);
    // In its first gap it has no pace: its lines went and came back once, at most.
    expect(events0.length).toBeLessThanOrEqual(3);

    for (let k = 0; k < 160; k++) {
      clockMs += 100;
      jest.advanceTimersByTime(100);
    }
    expect(summary().slice(events0.length)).toEqual(['text-gone 1 P2 FULL']);
  });

  it('takes a restarted inference (another runId) numbering its lines afresh as new lines: the old ones go, none changes', () => {
    start();
    add(frame(0, [line(1, 'MAIN ST')]));
    add(frame(1, [line(1, 'MAIN ST')]));
    // The new run's line 1 is another line: the sign beside it.
    add(frame(100, [line(1, 'FUEL 1.89', 0.9, 300)], 'run-b'));

    expect(summary()).toEqual(['text-appeared 1 MAIN ST', 'text-gone 1 MAIN ST', 'text-appeared 1 FUEL 1.89']);
    expect(events[2].runId).toBe('run-b');
  });

  it('makes events only for texts that match TELEMETRY_TEXT_MATCH: a change to one that does not is not sent', () => {
    start({ textMatch: /^[A-Z]{3} \d{3}$/ });
    add(frame(0, [line(1, 'ABC 123'), line(2, 'open 24h', 0.9, 300)]));
    add(frame(1, [line(1, 'ABC 12'), line(2, 'XYZ 999', 0.9, 300)]));
    add(frame(2, [line(1, 'ABC 124'), line(2, 'XYZ 999', 0.9, 300)]));

    expect(summary()).toEqual(['text-appeared 1 ABC 123', 'text-appeared 2 XYZ 999', 'text-changed 1 ABC 124']);
    expect(events[2]).toMatchObject({ previousText: 'ABC 123' });
  });

  it('makes no event of an empty text (nothing read)', () => {
    start();
    add(frame(0, [line(1, '', 0)]));

    expect(events).toEqual([]);
  });
});
