import type { DetectedBox, FrameHeader, LineCounts } from '@iev/frame-protocol';
import type { ImageView } from '@iev/text-detection';
import { IgnoreRegionAdvice } from './ignore-region-advice';
import { IgnoredRegions } from './ignore-regions';
import type { InFlightTimes } from './in-flight-times';
import type { DetectionResult, InferredImage, TextDetector } from './text-detector';
import type { VideoTextReader } from './video-text-reader';

/** A frame going through the chain: where it came from and its pixels (which must stay put until it is published). */
export interface ChainedFrame extends Pick<FrameHeader, 'sourceId' | 'sequence' | 'captureTimeMs'> {
  image: ImageView;
}

/** One frame's detections, read when recognition is on. */
export interface FrameDetections {
  /** The detection model that ran the frame. */
  modelId: string;
  /** In the frame's own pixels; with `text` where recognition read them. */
  boxes: DetectedBox[];
  width: number;
  height: number;
  timings: DetectionResult['timings'] & { recognizeMs?: number };
  /** What recognition did with the boxes, when it ran. */
  lines?: LineCounts;
  /** Boxes left out, their centre in one of the camera's ignore regions: neither tracked, read nor in `boxes`. */
  ignored: number;
}

export interface InOrderDetectionsOptions<F extends ChainedFrame> {
  detector: Pick<TextDetector, 'inferBatch' | 'whenReady' | 'concurrency'>;
  /** The reader while recognition is on (it may be switched live). */
  reader(): VideoTextReader | undefined;
  /** The regions whose boxes are left out, per camera, before reading (they may change live); none when not given. */
  ignoredRegions?(): IgnoredRegions;
  /** Gets each frame's detections in the order frames were pushed. A rejection is logged; the chain goes on. */
  publish(frame: F, detections: FrameDetections): Promise<void>;
  /** A frame the model failed on: it leaves no detections (the chain logs it and goes on). */
  dropped?(frame: F, error: Error): void;
  /** Told once the chain holds the frame no more (published, or not): its pixels may go. */
  done?(frame: F): void;
  /** Each frame's time in the chain, from its push to its leaving (published, or not). */
  times?: InFlightTimes<ChainedFrame>;
  /** IgnoreRegionAdvice's wait before it compares a camera without regions of its own with the keys (MISTYPED_KEY_AFTER_MS). */
  mistypedKeyAfterMs?: number;
  /** `warn`: mistakes in the ignore regions (IgnoreRegionAdvice), each once per regions in force. */
  log: { error(context: object, message: string): void; warn?(context: object, message: string): void };
}

/**
 * Frames through detection (and reading) concurrently, detections out in frame order. push() starts a frame in
 * the model and returns as soon as the model can take another, so a live source hands over its newest frame
 * then: with several streams the next frame goes in while this one is still running. Each frame's boxes are made
 * on a later turn of the event loop than the one that freed its stream, so the next frame is already in the model
 * meanwhile (it runs on a worker thread), and it is read and published after the frame before it.
 * Should publishing fall behind detection, push() waits rather than let frames pile up: at most one more frame
 * than there are streams is in the chain. (Reading does not hold it: the reader reads lines in the background.)
 */
export class InOrderDetections<F extends ChainedFrame> {
  /** The last frame's boxes, reading and publishing; each frame's publishing waits for the one before. */
  private tail: Promise<void> = Promise.resolve();
  private unpublished = 0;
  private readonly publishedWaiters: Array<() => void> = [];
  private failedFrames = 0;
  private failedPublishes = 0;
  /** Mistakes in the regions in force, each told once (a warning). */
  private readonly regionAdvice: IgnoreRegionAdvice;

  constructor(private readonly options: InOrderDetectionsOptions<F>) {
    this.regionAdvice = new IgnoreRegionAdvice((context, message) => options.log.warn?.(context, message), options.mistypedKeyAfterMs);
  }

  /** Frames pushed and not yet published (or dropped). */
  get inChain(): number {
    return this.unpublished;
  }

  /** Frames the model failed on, and frames whose publish() failed, since start. */
  get failures(): { inference: number; publish: number } {
    return { inference: this.failedFrames, publish: this.failedPublishes };
  }

  /** Starts the frame in the model; resolves once the model can take another and the chain has room for it. */
  push(frame: F): Promise<void> {
    return this.pushBatch([frame]);
  }

  /**
   * Starts the frames in the model as one batch (one input size; see TextDetector.inferBatch), each published in
   * turn as if pushed alone; resolves once the model can take another batch and the chain has room for one.
   */
  async pushBatch(frames: readonly F[]): Promise<void> {
    const { detector } = this.options;
    const inferring = detector.inferBatch(frames.map((frame) => frame.image));
    for (const [index, frame] of frames.entries()) {
      const previous = this.tail;
      this.unpublished++;
      this.options.times?.entered(frame);
      this.tail = this.finish(
        frame,
        inferring.then((inferred) => inferred[index]),
        previous,
      ).finally(() => {
        this.options.times?.left(frame);
        this.guarded(frame, 'done', () => this.options.done?.(frame));
        this.unpublished--;
        this.publishedWaiters.shift()?.();
      });
    }
    await detector.whenReady();
    while (this.unpublished > detector.concurrency * frames.length) await new Promise<void>((resolve) => this.publishedWaiters.push(resolve));
  }

  /** Resolves once every frame pushed so far has been published or dropped (shutdown). */
  async drain(): Promise<void> {
    let tail: Promise<void>;
    do await (tail = this.tail);
    while (tail !== this.tail);
  }

  private async finish(frame: F, inferring: Promise<InferredImage>, previous: Promise<void>): Promise<void> {
    const { sourceId, sequence } = frame;
    let result: DetectionResult;
    try {
      const inferred = await inferring;
      // A later turn than the one that freed the stream: the transport's next frame goes into the model first.
      await new Promise<void>((resolve) => setImmediate(resolve));
      result = await inferred.finish();
    } catch (error) {
      await previous;
      this.failedFrames++;
      this.guarded(frame, 'dropped', () => this.options.dropped?.(frame, error as Error));
      this.options.log.error({ err: error, sourceId, sequence }, `frame dropped: inference failed: ${(error as Error).message}`);
      return;
    }
    await previous;
    try {
      await this.options.publish(frame, await this.read(frame, result));
    } catch (error) {
      this.failedPublishes++;
      this.options.log.error({ err: error, sourceId, sequence }, `failed to publish detections: ${(error as Error).message}`);
    }
  }

  /**
   * Calls back the caller: each frame's publishing waits for the frame before it, so one callback that threw would
   * fail every frame after it, unpublished and unlogged.
   */
  private guarded(frame: F, callback: 'done' | 'dropped', call: () => void): void {
    try {
      call();
    } catch (error) {
      this.options.log.error({ err: error, sourceId: frame.sourceId, sequence: frame.sequence }, `the chain's ${callback} callback failed: ${(error as Error).message}`);
    }
  }

  private async read(frame: F, detected: DetectionResult): Promise<FrameDetections> {
    const regions = this.options.ignoredRegions?.() ?? IgnoredRegions.NONE;
    this.regionAdvice.look(regions, frame.sourceId, detected.width, detected.height);
    const { kept, ignored } = regions.split(frame.sourceId, detected.boxes, detected.width, detected.height);
    const result = { ...detected, boxes: kept, ignored };
    const reader = this.options.reader();
    if (!reader) return result;
    const reading = await reader.read({ sourceId: frame.sourceId, timeMs: frame.captureTimeMs, image: frame.image, boxes: kept });
    return {
      ...result,
      boxes: reading.boxes,
      timings: { ...result.timings, recognizeMs: reading.recognizeMs },
      lines: { read: reading.read, carried: reading.carried, dropped: reading.dropped, ...(reading.textAfterMs.length > 0 && { textAfterMs: reading.textAfterMs }) },
    };
  }
}
