import type { DetectedBox, Detections } from '@iev/frame-protocol';

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
  /** Frames the sequence numbers say were never seen here (skipped by a busy inference, or lost). */
  skippedFrames: number;
  fromCaptureTimeMs: number;
  toCaptureTimeMs: number;
  framesWithText: number;
  boxes: { total: number; min: number; max: number; mean: number };
  inferenceMs: { mean: number; max: number };
  /** The newest frame's boxes, so a consumer sees where the text is now. */
  last: { sequence: number; width: number; height: number; boxes: DetectedBox[] };
}

export type UpstreamPayload = ({ type: 'detections' } & Detections) | DetectionsSummary;

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
}

/**
 * Folds per-frame detections into fewer upstream messages, per source, because IoT Hub meters and throttles
 * messages: counts are kept exactly, only the per-frame boxes of all but the newest frame are left out.
 */
export class DetectionsAggregator {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private settings: AggregationSettings,
    private readonly emit: (payload: UpstreamPayload) => void,
  ) {
    this.startTimer();
  }

  get perFrame(): boolean {
    return this.settings.frames <= 1 && this.settings.intervalMs === 0;
  }

  add(detections: Detections): void {
    if (this.perFrame) {
      this.emit({ type: 'detections', ...detections });
      return;
    }
    const sourceId = detections.frame.sourceId;
    const count = detections.boxes.length;
    const pending = this.pending.get(sourceId);
    if (!pending) {
      this.pending.set(sourceId, {
        first: detections,
        last: detections,
        frames: 1,
        framesWithText: count > 0 ? 1 : 0,
        boxTotal: count,
        boxMin: count,
        boxMax: count,
        inferenceTotal: detections.timings.inferenceMs,
        inferenceMax: detections.timings.inferenceMs,
      });
    } else {
      pending.last = detections;
      pending.frames += 1;
      pending.framesWithText += count > 0 ? 1 : 0;
      pending.boxTotal += count;
      pending.boxMin = Math.min(pending.boxMin, count);
      pending.boxMax = Math.max(pending.boxMax, count);
      pending.inferenceTotal += detections.timings.inferenceMs;
      pending.inferenceMax = Math.max(pending.inferenceMax, detections.timings.inferenceMs);
    }
    if (this.settings.frames > 1 && (this.pending.get(sourceId) as Pending).frames >= this.settings.frames) this.flushSource(sourceId);
  }

  /** New settings take effect at once; what was gathered under the old ones is sent first. */
  configure(settings: AggregationSettings): void {
    this.flush();
    this.settings = settings;
    this.startTimer();
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
    const span = last.frame.sequence - first.frame.sequence + 1;
    this.emit({
      type: 'detections-summary',
      sourceId,
      modelId: last.modelId,
      frames: pending.frames,
      firstSequence: first.frame.sequence,
      lastSequence: last.frame.sequence,
      // A source restart numbers frames on, so the span never goes backwards; guard anyway.
      skippedFrames: Math.max(0, span - pending.frames),
      fromCaptureTimeMs: first.frame.captureTimeMs,
      toCaptureTimeMs: last.frame.captureTimeMs,
      framesWithText: pending.framesWithText,
      boxes: { total: pending.boxTotal, min: pending.boxMin, max: pending.boxMax, mean: round(pending.boxTotal / pending.frames) },
      inferenceMs: { mean: round(pending.inferenceTotal / pending.frames), max: round(pending.inferenceMax) },
      last: { sequence: last.frame.sequence, width: last.width, height: last.height, boxes: last.boxes },
    });
  }
}

const round = (value: number) => Math.round(value * 100) / 100;
