import type { DetectedBox, Detections } from '@iev/frame-protocol';
import { SequenceGaps } from '@iev/service-runtime';
import type { TextEvent } from './text-events';
import { matchesText, withMatchingLines } from './text-match';

/** One message per `frames` frames and/or per `intervalMs`; frames 1 and intervalMs 0 is one message per frame. */
export interface AggregationSettings {
  frames: number;
  intervalMs: number;
}

export interface DetectionsSummary {
  type: 'detections-summary';
  sourceId: string;
  modelId: string;
  frames: number;
  firstSequence: number;
  lastSequence: number;
  /** Frames the sequence numbers say were never seen here (skipped by a busy inference, or lost) between firstSequence and lastSequence. */
  skippedFrames: number;
  /**
   * The same between the source's previous summary and firstSequence (0 for the first after a restart), so that the
   * summaries of a run account for every frame: frames + skippedFrames + skippedBefore.
   */
  skippedBefore: number;
  fromCaptureTimeMs: number;
  toCaptureTimeMs: number;
  framesWithText: number;
  boxes: { total: number; min: number; max: number; mean: number };
  inferenceMs: { mean: number; max: number };
  /** The distinct texts read in the interval, each with the number of frames it was seen in, most seen first (recognition on). */
  texts?: { text: string; frames: number }[];
  /** Distinct texts read in the interval but not listed in `texts` (beyond the most seen 100, or to fit the message). */
  truncatedTexts?: number;
  /** The newest frame's boxes, so a consumer sees where the text is now. */
  last: { sequence: number; width: number; height: number; boxes: DetectedBox[] };
}

export type UpstreamPayload = ({ type: 'detections' } & Detections) | DetectionsSummary | TextEvent;

interface Pending {
  first: Detections;
  last: Detections;
  frames: number;
  framesWithText: number;
  boxTotal: number;
  boxMin: number;
  boxMax: number;
  inferenceTotal: number;
  inferenceMax: number;
  /** Text → frames it was read in. */
  texts: Map<string, number>;
  skippedFrames: number;
  skippedBefore: number;
}

/** Distinct texts a summary lists, the most seen: enough for a consumer, and a busy scene's list stays short. */
const MAX_SUMMARY_TEXTS = 100;

/**
 * Folds per-frame detections into fewer upstream messages, per source, because IoT Hub meters and throttles
 * messages: counts are kept exactly, only the per-frame boxes of all but the newest frame are left out. A summary
 * never spans a discontinuity in a source's sequence numbers (a restarted capture numbers its frames from 0 again;
 * a corrupt sequence leaps ahead): what was gathered before it is sent, and a new summary starts with it.
 */
export class DetectionsAggregator {
  private readonly pending = new Map<string, Pending>();
  private readonly gaps = new SequenceGaps();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private settings: AggregationSettings,
    private readonly emit: (payload: UpstreamPayload) => void,
    /** TELEMETRY_TEXT_MATCH: a frame keeps only the boxes whose text matches, a summary lists only such texts. */
    private readonly textMatch?: RegExp,
  ) {
    this.startTimer();
  }

  get perFrame(): boolean {
    return this.settings.frames <= 1 && this.settings.intervalMs === 0;
  }

  add(detections: Detections): void {
    if (this.perFrame) {
      this.emit({ type: 'detections', ...withMatchingLines(detections, this.textMatch) });
      return;
    }
    const sourceId = detections.frame.sourceId;
    const sequence = detections.frame.sequence;
    const count = detections.boxes.length;
    let pending = this.pending.get(sourceId);
    // Frames skipped before a summary's first frame are not in its span: they are its skippedBefore.
    const skipped = this.gaps.observe(sourceId, sequence);
    if (pending) {
      // SequenceGaps counts nothing at a discontinuity: no skip, yet not the next frame.
      if (skipped === 0 && sequence !== pending.last.frame.sequence + 1) {
        this.flushSource(sourceId);
        pending = undefined;
      } else {
        pending.skippedFrames += skipped;
      }
    }
    if (!pending) {
      // The gap since the previous summary's last frame; 0 after a discontinuity (flushed above), which counts none.
      pending = { first: detections, last: detections, frames: 0, framesWithText: 0, boxTotal: 0, boxMin: count, boxMax: count, inferenceTotal: 0, inferenceMax: 0, texts: new Map(), skippedFrames: 0, skippedBefore: skipped };
      this.pending.set(sourceId, pending);
    }
    pending.last = detections;
    pending.frames += 1;
    pending.framesWithText += count > 0 ? 1 : 0;
    pending.boxTotal += count;
    pending.boxMin = Math.min(pending.boxMin, count);
    pending.boxMax = Math.max(pending.boxMax, count);
    pending.inferenceTotal += detections.timings.inferenceMs;
    pending.inferenceMax = Math.max(pending.inferenceMax, detections.timings.inferenceMs);
    for (const text of new Set(detections.boxes.map((box) => box.text))) {
      if (text && matchesText(this.textMatch, text)) pending.texts.set(text, (pending.texts.get(text) ?? 0) + 1);
    }
    if (this.settings.frames > 1 && pending.frames >= this.settings.frames) this.flushSource(sourceId);
  }

  /** New settings take effect at once; what was gathered under the old ones is sent first. */
  configure(settings: AggregationSettings): void {
    this.flush();
    this.settings = settings;
    this.startTimer();
  }

  /**
   * A source gone for good (a camera removed): what was gathered of it is sent now, rather than held for frames that
   * never come (TELEMETRY_AGGREGATE_FRAMES without an interval), and one of its id later starts afresh.
   */
  forgetSource(sourceId: string): void {
    this.flushSource(sourceId);
    this.gaps.forget(sourceId);
  }

  flush(): void {
    for (const sourceId of [...this.pending.keys()]) this.flushSource(sourceId);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  private startTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.settings.intervalMs > 0) {
      this.timer = setInterval(() => this.flush(), this.settings.intervalMs);
      this.timer.unref();
    }
  }

  private flushSource(sourceId: string): void {
    const pending = this.pending.get(sourceId);
    if (!pending) return;
    this.pending.delete(sourceId);
    const { first, last } = pending;
    this.emit({
      type: 'detections-summary',
      sourceId,
      modelId: last.modelId,
      frames: pending.frames,
      firstSequence: first.frame.sequence,
      lastSequence: last.frame.sequence,
      skippedFrames: pending.skippedFrames,
      skippedBefore: pending.skippedBefore,
      fromCaptureTimeMs: first.frame.captureTimeMs,
      toCaptureTimeMs: last.frame.captureTimeMs,
      framesWithText: pending.framesWithText,
      boxes: { total: pending.boxTotal, min: pending.boxMin, max: pending.boxMax, mean: round(pending.boxTotal / pending.frames) },
      inferenceMs: { mean: round(pending.inferenceTotal / pending.frames), max: round(pending.inferenceMax) },
      ...(pending.texts.size > 0 && {
        texts: [...pending.texts]
          .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
          .slice(0, MAX_SUMMARY_TEXTS)
          .map(([text, frames]) => ({ text, frames })),
      }),
      ...(pending.texts.size > MAX_SUMMARY_TEXTS && { truncatedTexts: pending.texts.size - MAX_SUMMARY_TEXTS }),
      last: { sequence: last.frame.sequence, width: last.width, height: last.height, boxes: withMatchingLines(last, this.textMatch).boxes },
    });
  }
}

const round = (value: number) => Math.round(value * 100) / 100;
