import { setTimeout as sleep } from 'node:timers/promises';
import type { DetectedBox, LineCounts } from '@iev/frame-protocol';
import type { ImageView } from '@iev/text-detection';
import { LineTracker, perspectiveCrop, type Corners, type LineTrackerOptions, type ReadReason, type ReadText, type TrackingStep } from '@iev/text-recognition';
import type { InFlightTimes } from './in-flight-times';
import type { TextDetector } from './text-detector';
import { NOTHING_READ, TextRecognizer, type TextRecognizerOptions } from './text-recognizer';

export interface VideoTextReaderOptions {
  /** REC_MIN_SCORE: lines read with a lower score are left out of the result (PaddleOCR's drop_score, 0.5). */
  minScore: number;
  /** Carry texts across a source's frames (see LineTracker); false reads every box of every frame. */
  tracking: Partial<LineTrackerOptions> | false;
  /** Told of a background batch that failed (it reads as nothing until its lines are due again): for logs. */
  onBatchFailed?: (error: Error, lines: number) => void;
  /** Told of each background batch read (metrics). */
  onBatchRead?: (batch: ReadBatch) => void;
  /** Detection, where it runs on the same cores: each batch is read in one of its streams' turns (TextDetector.lendStream). */
  detectionStreams?: StreamLender;
  /**
   * Each batch's time at the model, from its run's start to its end (not its wait for a stream): a batch there far
   * longer than batches take is a recognition model run hung (InFlightTimes). Without tracking a frame's boxes are
   * read inline, as one batch: it holds the frame in detection's chain, which alone would blame detection.
   */
  batchTimes?: InFlightTimes<ReadBatch>;
}

/** What the reader needs of detection to take turns with it on the cores. */
export type StreamLender = Pick<TextDetector, 'lendStream'>;

/** A batch for the model: why each of its lines is read, and how many sources they came from. */
export interface ReadBatch {
  reasons: ReadReason[];
  sources: number;
  /**
   * Without tracking: the camera whose frame's boxes are read before the frame goes on (it waits in the chain for
   * this read), and how many; no line is read for a tracked reason, so `reasons` is empty.
   */
  inline?: { sourceId: string; lines: number };
}

/** One frame to read: its boxes from detection, and when it was captured (the tracker's clock). */
export interface FrameToRead {
  sourceId: string;
  timeMs: number;
  image: ImageView;
  boxes: readonly DetectedBox[];
}

/** One frame read: its boxes with text, what happened to its lines (LineCounts), and the time it took. */
export interface FrameReading extends Required<LineCounts> {
  /**
   * The frame's boxes in detection order, each with `text` and `textScore` once its line has been read and, in video,
   * its line's `lineId` (LineTracker), less those read below minScore (in video, a line whose last read fell below it after
   * an earlier one at or above it stays, without text). A line seen for the first time has no text until its read is done (in video, a frame or a
   * few later: reading never holds a frame back).
   */
  boxes: DetectedBox[];
  /** Time this frame spent here (tracking, cutting crops); the model runs beside the pipeline. */
  recognizeMs: number;
}

/** A source not seen for this long loses its tracked lines. */
const SOURCE_IDLE_MS = 60_000;
/** Lines sent to the model at once: one PaddleOCR batch. */
const READ_BATCH = 6;

/** Lines cut from one source's frame for a batch, and how their reads go back to its tracker. */
interface SourceLines {
  sourceId: string;
  crops: (ImageView | undefined)[];
  reasons: ReadReason[];
  finish: (reads: readonly ReadText[]) => void;
}

/**
 * Reads the text of each frame's boxes. In video (tracking on) each source has a LineTracker: a line is read
 * once and its text carried while it looks the same; lines to read are cut from the frame and read in the
 * background, one batch at a time, most urgent first, so reading costs the pipeline its CPU but never a frame,
 * and a busy reader reads less often instead of falling behind. After each batch the reader rests as long as the
 * batch took (restAfter): reading takes at most half a core from detection, however slow the CPU. Where both models run on the
 * CPU, a batch is read in a detection stream's turn (detectionStreams), so frames in the model never share their
 * cores with it: reading costs frames per second, not each frame's latency. A batch that fails reads as nothing
 * (score 0, so left out) until its lines are due again. Without tracking every box is read before read() returns
 * (still images).
 *
 * Batches hold lines of several sources: while one batch is at the model, the next is filled from the frames that
 * arrive, each source's first frame with lines to read taking its fair share (READ_BATCH over the sources seen),
 * and it goes to the model as soon as the reader is free; a frame that finds the reader free tops the batch up and
 * sends it. On the CPU a line costs about the same either way (padding to the widest line eats the run saved);
 * where a run costs more than its lines (a GPU), cameras reading together cost less than each alone.
 */
export class VideoTextReader {
  private readonly sources = new Map<string, { tracker: LineTracker; lastSeenMs: number }>();
  private reading: Promise<void> | undefined;
  /** performance.now() before which no new batch starts: after each batch, a pause as long as the batch took. */
  private nextBatchAt = 0;
  /** The next batch, filled while the reader is busy or resting, one entry per source. */
  private nextBatch: SourceLines[] = [];
  /** Starts nextBatch once the rest is over when no frame comes to do it. */
  private startTimer: NodeJS.Timeout | undefined;
  /** Set by dispose(): no batch starts after it, on a model about to go. */
  private disposed = false;
  /** Background batches that failed since construction. */
  failedBatches = 0;

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
    const tracker = this.trackerOf(frame.sourceId);
    let texts: readonly (ReadText | undefined)[];
    let lineIds: readonly number[] = [];
    let bestScores: readonly (number | undefined)[] = [];
    let read = quads.length;
    let textAfterMs: number[] = [];
    if (tracker) {
      const step = tracker.track(frame.image, quads, frame.timeMs);
      texts = step.texts;
      lineIds = step.lineIds;
      bestScores = step.bestScores;
      textAfterMs = step.textAfterMs;
      read = this.gather(frame, quads, step, started);
    } else {
      texts = await this.readInline(frame.sourceId, frame.image, quads);
    }
    const boxes: DetectedBox[] = [];
    let known = 0;
    frame.boxes.forEach((detected, index) => {
      const lineId = lineIds[index];
      const text = texts[index];
      if (!text) return void boxes.push(boxOfLine(detected, lineId));
      known++;
      if (text.score >= this.options.minScore) boxes.push(boxOfLine(detected, lineId, text));
      // A line once read well is text: a re-read of it blurred or half hidden keeps its box (and lineId) without text,
      // where dropping it would tell downstream the line had gone, and its next good read that it came back.
      else if ((bestScores[index] ?? 0) >= this.options.minScore) boxes.push(boxOfLine(detected, lineId));
    });
    const dropped = quads.length - boxes.length;
    return { boxes, read, carried: tracker ? known : 0, dropped, recognizeMs: performance.now() - started, textAfterMs };
  }

  /**
   * Forgets the lines of a source (a camera removed), or of every source (reading switched off), and drops those
   * waiting for the model unread: the trackers see no frames meanwhile, while downstream takes the lines as gone;
   * kept, they would come back under those ids with texts read before the pause. Its next frames start afresh: new
   * ids (never reused in the process), each line read again.
   */
  forgetLines(sourceId?: string): void {
    if (sourceId === undefined) this.sources.clear();
    else this.sources.delete(sourceId);
    this.nextBatch = this.nextBatch.filter((lines) => sourceId !== undefined && lines.sourceId !== sourceId);
  }

  /** Reads every box of a frame before it goes on, timed as a batch: a run that hangs is told as reading's. */
  private async readInline(sourceId: string, image: ImageView, quads: readonly Corners[]): Promise<readonly ReadText[]> {
    const read: ReadBatch = { reasons: [], sources: 1, inline: { sourceId, lines: quads.length } };
    this.options.batchTimes?.entered(read);
    try {
      return await this.recognizer.read(image, quads);
    } finally {
      this.options.batchTimes?.left(read);
    }
  }

  /** Resolves when every line cut has been read and the next batch may start (tests). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.reading) {
        await this.reading;
        continue;
      }
      // Timers round to whole milliseconds: sleep until the clock has really passed nextBatchAt.
      const rest = this.nextBatchAt - performance.now();
      if (rest > 0) await sleep(Math.ceil(rest));
      else if (this.nextBatch.length > 0) this.startBatch();
      else return;
    }
  }

  /**
   * Stops reading: lines not yet at the model are dropped unread, for nothing waits on them (a frame's publishing
   * never does, and their trackers go with the reader), and reading them, with rests between, would outlast a
   * module's stop limit on a slow board. The batch at the model ends first: its run must be over before its session goes.
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    clearTimeout(this.startTimer);
    this.nextBatch = [];
    await this.reading;
    await this.recognizer.dispose();
  }

  /**
   * Cuts this frame's most urgent lines into the next batch, and sends the batch if the reader is free; returns how
   * many lines it cut. While the reader is busy, a source that already has lines in the next batch waits for the
   * one after, and the others take their fair share of it.
   */
  private gather(frame: FrameToRead, quads: readonly Corners[], step: TrackingStep, nowMs: number): number {
    const free = !this.reading && nowMs >= this.nextBatchAt;
    let count = 0;
    if (!this.nextBatch.some(({ sourceId }) => sourceId === frame.sourceId)) {
      const room = READ_BATCH - this.nextBatch.reduce((lines, { crops }) => lines + crops.length, 0);
      count = Math.min(step.toRead.length, free ? room : Math.min(room, Math.ceil(READ_BATCH / this.sources.size)));
    }
    if (count > 0) {
      const requests = step.toRead.slice(0, count);
      const crops = requests.map(({ index }) => perspectiveCrop(frame.image, quads[index]));
      this.nextBatch.push({ sourceId: frame.sourceId, crops, reasons: requests.map(({ reason }) => reason), finish: step.begin(requests) });
    }
    if (free) this.startBatch();
    else this.startAfterRest();
    return count;
  }

  /** Sends the next batch to the model; after it, the reader rests as long as it took. */
  private startBatch(): void {
    clearTimeout(this.startTimer);
    this.startTimer = undefined;
    const batch = this.nextBatch;
    if (batch.length === 0 || this.disposed) return;
    this.nextBatch = [];
    this.reading = this.readBatch(batch).finally(() => {
      this.reading = undefined;
      this.startAfterRest();
    });
  }

  /** Reads a batch (in a detection stream's turn where they share the cores) and hands each source its reads. */
  private async readBatch(batch: readonly SourceLines[]): Promise<void> {
    const read: ReadBatch = { reasons: batch.flatMap((source) => source.reasons), sources: batch.length };
    const giveBack = await this.options.detectionStreams?.lendStream();
    // The rest is as long as the model took, not the wait for a stream. Nor is the wait timed for a hang: it lasts a
    // detection run at most (a loan goes ahead of frames), or for ever only behind a detection run that never ends,
    // whose frame stays in detection and is told there; timed, it would blame the recognition model as well.
    const started = performance.now();
    this.options.batchTimes?.entered(read);
    try {
      await this.recognizer.readCrops(batch.flatMap(({ crops }) => crops)).then(
        (reads) => {
          let offset = 0;
          for (const { crops, finish } of batch) finish(reads.slice(offset, (offset += crops.length)));
          this.options.onBatchRead?.(read);
        },
        (error: Error) => {
          this.failedBatches++;
          this.options.onBatchFailed?.(error, read.reasons.length);
          for (const { crops, finish } of batch) finish(crops.map(() => NOTHING_READ));
        },
      );
    } finally {
      const finished = performance.now();
      // Judged by the batches before this one: counted first, a long first or second batch would be its own median.
      const rest = this.restAfter(finished - started);
      this.options.batchTimes?.left(read);
      giveBack?.();
      this.nextBatchAt = finished + rest;
    }
  }

  /**
   * As long as the batch took, so reading takes at most half a core; but a batch held far longer than batches take
   * (a run hung, the process stopped) did not read on the cores all that time, and resting as long again would keep
   * lines unread as long once more, with nothing telling it, and a shutdown waiting it out: then as long as batches take
   * (the median of those before it; none before it, no rest). Called before the batch's own time is counted.
   */
  private restAfter(tookMs: number): number {
    const times = this.options.batchTimes;
    return times && tookMs > times.stuckAfterMs() ? (times.medianMs() ?? 0) : tookMs;
  }

  /** Lines are waiting and the reader is resting: they go when the rest is over, whether or not a frame comes. */
  private startAfterRest(): void {
    if (this.reading || this.startTimer || this.nextBatch.length === 0) return;
    this.startTimer = setTimeout(() => this.startBatch(), Math.max(0, Math.ceil(this.nextBatchAt - performance.now())));
    // A process shutting down waits for no line (dispose() drops them), so the timer keeps it from nothing.
    this.startTimer.unref();
  }

  /** A source's tracker; idle ones go by this process's clock, not the frames' (each capture's own, which may differ). */
  private trackerOf(sourceId: string): LineTracker | undefined {
    const tracking = this.options.tracking;
    if (tracking === false) return undefined;
    const nowMs = performance.now();
    for (const [id, source] of this.sources) if (nowMs - source.lastSeenMs > SOURCE_IDLE_MS) this.sources.delete(id);
    let source = this.sources.get(sourceId);
    if (!source) this.sources.set(sourceId, (source = { tracker: new LineTracker(tracking), lastSeenMs: nowMs }));
    source.lastSeenMs = nowMs;
    return source.tracker;
  }
}

/** A detected box with its line's id (in video) and the text read, in one new object per box; the box itself with neither. */
function boxOfLine(detected: DetectedBox, lineId: number | undefined, read?: ReadText): DetectedBox {
  if (lineId === undefined) return read ? { ...detected, text: read.text, textScore: read.score } : detected;
  return read ? { ...detected, lineId, text: read.text, textScore: read.score } : { ...detected, lineId };
}

/** Whether a preset reads text unless a setting (RECOGNITION, the twin's `recognition`, --recognition) says otherwise: `seed` is the sample's detection only. */
export const presetReads = (preset: string, setting: 'on' | 'off' | undefined): boolean => (setting ? setting === 'on' : preset !== 'seed');

/** REC_MODEL_PATH, REC_DICT_PATH and the backend settings (TextRecognizerOptions), and how the reader reads. */
export interface ReaderLoading extends TextRecognizerOptions {
  threads: number;
  minScore: number;
  /** REC_REFRESH_MS; 0 reads every box of every frame (no tracking). */
  refreshMs: number;
  /** REC_REFRESH_MAX_MS, REC_REREAD_MS and REC_CONFIRM_FRAMES (LineTrackerOptions); the tracker's defaults when not given. */
  refreshMaxMs?: number;
  rereadMs?: number;
  confirmFrames?: number;
  onBatchFailed?: VideoTextReaderOptions['onBatchFailed'];
  onBatchRead?: VideoTextReaderOptions['onBatchRead'];
  batchTimes?: VideoTextReaderOptions['batchTimes'];
  /** The frames' detector: where both models run on the CPU, the reader takes turns with its streams. */
  detector?: StreamLender & Pick<TextDetector, 'backend'>;
}

/** Loads the recognition model and dictionary (checked against each other) into a reader. */
export async function loadVideoTextReader(options: ReaderLoading): Promise<VideoTextReader> {
  const recognizer = await TextRecognizer.load(options);
  const { refreshMs, refreshMaxMs, rereadMs, confirmFrames } = options;
  const tracking = refreshMs > 0 && {
    refreshMs,
    ...(refreshMaxMs !== undefined && { refreshMaxMs }),
    ...(rereadMs !== undefined && { rereadMs }),
    ...(confirmFrames !== undefined && { confirmFrames }),
  };
  const { minScore, onBatchFailed, onBatchRead, batchTimes, detector } = options;
  const detectionStreams = detector?.backend.runsOnCpu && recognizer.backend.runsOnCpu ? detector : undefined;
  return new VideoTextReader(recognizer, { minScore, tracking, onBatchFailed, onBatchRead, batchTimes, detectionStreams });
}
