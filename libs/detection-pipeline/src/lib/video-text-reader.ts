import type { DetectedBox } from '@iev/frame-protocol';
import type { ImageView } from '@iev/text-detection';
import { LineTracker, type LineTrackerOptions, type ReadText } from '@iev/text-recognition';
import type { TextRecognizer } from './text-recognizer';

export interface VideoTextReaderOptions {
  /** REC_MIN_SCORE: lines read with a lower score are left out of the result (PaddleOCR's drop_score, 0.5). */
  minScore: number;
  /** Carry texts across a source's frames (see LineTracker); false reads every box of every frame. */
  tracking: Partial<LineTrackerOptions> | false;
}

/** One frame to read: its boxes from detection, and when it was captured (the tracker's clock). */
export interface FrameToRead {
  sourceId: string;
  timeMs: number;
  image: ImageView;
  boxes: readonly DetectedBox[];
}

export interface FrameReading {
  /** The frame's boxes with `text` and `textScore`, in detection order, less those read below minScore. */
  boxes: DetectedBox[];
  /** Boxes run through the recognition model for this frame. */
  read: number;
  /** Boxes that carried the text of a line read in an earlier frame. */
  carried: number;
  /** Boxes left out for reading below minScore. */
  dropped: number;
  recognizeMs: number;
}

/** A source not seen for this long loses its tracked lines. */
const SOURCE_IDLE_MS = 60_000;

/**
 * Reads the text of each frame's boxes, with one LineTracker per source so a line is read once and its text
 * carried while it stays in view (re-read when it moves, changes or is due for a refresh).
 */
export class VideoTextReader {
  private readonly sources = new Map<string, { tracker: LineTracker; lastSeenMs: number }>();

  constructor(
    readonly recognizer: TextRecognizer,
    private options: VideoTextReaderOptions,
  ) {}

  /** Changes minScore live (a module twin patch); tracked lines keep their texts. */
  set minScore(minScore: number) {
    this.options = { ...this.options, minScore };
  }

  get minScore(): number {
    return this.options.minScore;
  }

  async read(frame: FrameToRead): Promise<FrameReading> {
    const started = performance.now();
    const quads = frame.boxes.map((box) => box.points);
    let texts: ReadText[];
    let read = quads.length;
    const tracker = this.trackerOf(frame.sourceId, frame.timeMs);
    if (tracker) {
      const step = tracker.track(frame.image, quads, frame.timeMs);
      read = step.toRead.length;
      const reads = read === 0 ? [] : await this.recognizer.read(frame.image, step.toRead.map(({ index }) => quads[index]));
      texts = step.complete(reads) as ReadText[];
    } else {
      texts = await this.recognizer.read(frame.image, quads);
    }
    const boxes: DetectedBox[] = [];
    frame.boxes.forEach((box, index) => {
      const { text, score } = texts[index];
      if (score >= this.options.minScore) boxes.push({ ...box, text, textScore: score });
    });
    return { boxes, read, carried: quads.length - read, dropped: quads.length - boxes.length, recognizeMs: performance.now() - started };
  }

  dispose(): Promise<void> {
    return this.recognizer.dispose();
  }

  private trackerOf(sourceId: string, nowMs: number): LineTracker | undefined {
    const tracking = this.options.tracking;
    if (tracking === false) return undefined;
    for (const [id, source] of this.sources) if (nowMs - source.lastSeenMs > SOURCE_IDLE_MS) this.sources.delete(id);
    let source = this.sources.get(sourceId);
    if (!source) this.sources.set(sourceId, (source = { tracker: new LineTracker(tracking), lastSeenMs: nowMs }));
    source.lastSeenMs = nowMs;
    return source.tracker;
  }
}
