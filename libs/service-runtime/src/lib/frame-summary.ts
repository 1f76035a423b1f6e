import type { Logger } from 'pino';
import { SequenceGaps } from './sequence-gaps';

export interface SummarizedFrame {
  sourceId: string;
  sequence: number;
  boxes: number;
  /** Boxes left out, in an ignore region of the frame's camera (not in `boxes`). */
  ignored?: number;
  /** Time spent on the frame (preprocess, model, postprocess). */
  seconds: number;
}

export interface FrameSummaryOptions {
  logger: Logger;
  intervalMs: number;
  now?: () => number;
}

/**
 * One info line every intervalMs about the frames a module handled, instead of one per frame (which, at 15 fps,
 * fills an edge device's disk): frames, fps, boxes, frames skipped (gaps in the sequence numbers of the frames it
 * handled) and the mean time per frame; boxes left out in ignore regions, where there were any. An interval without frames is logged once, then nothing until frames
 * come back.
 */
export class FrameSummary {
  private readonly gaps = new SequenceGaps();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private startedAt: number;
  private frames = 0;
  private boxes = 0;
  private ignored = 0;
  private skipped = 0;
  private seconds = 0;
  private idleReported = false;

  constructor(private readonly options: FrameSummaryOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.timer = setInterval(() => this.flush(), options.intervalMs);
    this.timer.unref();
  }

  frame(frame: SummarizedFrame): void {
    this.frames += 1;
    this.boxes += frame.boxes;
    this.ignored += frame.ignored ?? 0;
    this.seconds += frame.seconds;
    this.skipped += this.gaps.observe(frame.sourceId, frame.sequence);
  }

  /** Logs the interval so far and starts the next one. */
  flush(): void {
    const now = this.now();
    const elapsedSeconds = Math.max(0.001, (now - this.startedAt) / 1000);
    const { frames, boxes, ignored, skipped, seconds } = this;
    this.startedAt = now;
    this.frames = this.boxes = this.ignored = this.skipped = this.seconds = 0;
    if (frames === 0) {
      if (!this.idleReported) this.options.logger.info({ frames: 0, intervalSeconds: elapsedSeconds }, `no frames in the last ${elapsedSeconds.toFixed(1)} s`);
      this.idleReported = true;
      return;
    }
    this.idleReported = false;
    const fps = frames / elapsedSeconds;
    const meanSeconds = seconds / frames;
    this.options.logger.info(
      { frames, fps: round(fps, 2), boxes, ...(ignored > 0 && { ignored }), skipped, meanSeconds: round(meanSeconds, 4), intervalSeconds: round(elapsedSeconds, 3) },
      `frames: ${frames} in ${elapsedSeconds.toFixed(1)} s (${fps.toFixed(1)} fps), boxes: ${boxes} (${(boxes / frames).toFixed(1)} a frame)${ignored > 0 ? `, ignored: ${ignored} (in ignore regions)` : ''}, ` +
        `skipped: ${skipped}, time taken: ${meanSeconds.toFixed(3)} s a frame`,
    );
  }

  /** Logs what is left and stops the timer. */
  close(): void {
    clearInterval(this.timer);
    if (this.frames > 0) this.flush();
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
