import { Controller, Inject, type OnApplicationShutdown } from '@nestjs/common';
import { EventPattern, Payload, type ClientProxy } from '@nestjs/microservices';
import { TextDetector, type InferredImage } from '@iev/detection-pipeline';
import { DETECTIONS_TOPIC, epochMs, FRAMES_TOPIC, PixelFormat, type Detections, type Frame, type LineCounts, type StageTimings } from '@iev/frame-protocol';
import type { ImageView } from '@iev/text-detection';
import { FrameSummary, MODULE_LOGGER, SequenceGaps } from '@iev/service-runtime';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import { InferenceMetrics } from './inference.metrics';
import { TextReading } from './text-reading';
import { DETECTIONS_CLIENT } from './tokens';

@Controller()
export class FramesController implements OnApplicationShutdown {
  private readonly gaps = new SequenceGaps();
  /** Postprocessing, reading and publishing of the frame before, chained so detections leave in frame order. */
  private publishing: Promise<void> = Promise.resolve();
  /** Frames taken in and not yet published; beyond the model's streams + 1 the transport waits (see onFrame). */
  private unpublished = 0;
  private readonly publishedWaiters: Array<() => void> = [];

  constructor(
    private readonly detector: TextDetector,
    private readonly reading: TextReading,
    @Inject(DETECTIONS_CLIENT) private readonly detectionsClient: ClientProxy,
    private readonly metrics: InferenceMetrics,
    @Inject(MODULE_LOGGER) private readonly logger: Logger,
    private readonly summary: FrameSummary,
  ) {}

  /**
   * Starts the frame in the model and returns as soon as the model can take another, so the transport hands
   * over the newest frame then: with several streams the next frame goes in while this one is still running.
   * Detections are postprocessed and published in frame order, each on a later turn of the event loop than the
   * one that freed its stream, so the next frame is already in the model meanwhile (it runs on a worker thread).
   * Should publishing ever fall behind detection, frames wait here rather than pile up in the chain: at most one
   * more frame than there are streams is in it, and the transport keeps only the newest meanwhile. (Reading text
   * does not hold the chain: the reader sends lines to its model in the background.)
   */
  @EventPattern(FRAMES_TOPIC)
  async onFrame(@Payload() frame: Frame): Promise<void> {
    const transportMs = epochMs() - frame.captureTimeMs;
    this.metrics.framesSkipped.inc(this.gaps.observe(frame.sourceId, frame.sequence));
    if (frame.pixelFormat !== PixelFormat.BGR24) {
      this.metrics.framesRejected.inc({ reason: 'pixel_format' });
      this.logger.warn({ sourceId: frame.sourceId, pixelFormat: frame.pixelFormat }, 'frame dropped: only BGR24 frames are supported');
      return;
    }
    const image = { data: frame.pixels, width: frame.width, height: frame.height, stride: frame.stride };
    const inferring = this.detector.infer(image);
    const previous = this.publishing;
    this.unpublished++;
    this.publishing = (async () => {
      let inferred: InferredImage;
      try {
        inferred = await inferring;
      } catch (error) {
        await previous;
        this.metrics.framesRejected.inc({ reason: 'inference_error' });
        this.logger.error({ err: error, sourceId: frame.sourceId, sequence: frame.sequence }, `frame dropped: inference failed: ${(error as Error).message}`);
        return;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      await previous;
      await this.publish(frame, image, inferred, transportMs).catch((error: Error) => this.logger.error({ err: error }, 'failed to publish detections'));
    })().finally(() => {
      this.unpublished--;
      this.publishedWaiters.shift()?.();
    });
    await this.detector.whenReady();
    while (this.unpublished > this.detector.concurrency) await new Promise<void>((resolve) => this.publishedWaiters.push(resolve));
  }

  /** Lets the last frame's detections out before the client closes. */
  onApplicationShutdown(): Promise<void> {
    return this.publishing;
  }

  private async publish(frame: Frame, image: ImageView, inferred: InferredImage, transportMs: number): Promise<void> {
    const result = inferred.finish();
    const timings: StageTimings = { transportMs, ...result.timings };
    let boxes = result.boxes;
    let lines: LineCounts | undefined;
    const reader = this.reading.active;
    if (reader) {
      const reading = await reader.read({ sourceId: frame.sourceId, timeMs: frame.captureTimeMs, image, boxes });
      boxes = reading.boxes;
      timings.recognizeMs = reading.recognizeMs;
      lines = { read: reading.read, carried: reading.carried, dropped: reading.dropped };
      this.metrics.lines.inc({ outcome: 'read' }, reading.read);
      this.metrics.lines.inc({ outcome: 'carried' }, reading.carried);
      this.metrics.lines.inc({ outcome: 'dropped' }, reading.dropped);
    }
    const detections: Detections = {
      frame: { sourceId: frame.sourceId, sequence: frame.sequence, captureTimeMs: frame.captureTimeMs },
      width: result.width,
      height: result.height,
      modelId: this.detector.backend.modelId,
      boxes,
      timings,
      ...(lines && { lines }),
      publishedAtMs: epochMs(),
    };
    await lastValueFrom(this.detectionsClient.emit(DETECTIONS_TOPIC, detections), { defaultValue: undefined });

    const { preprocessMs, inferenceMs, postprocessMs } = result.timings;
    this.metrics.framesProcessed.inc();
    this.metrics.rate.mark();
    this.metrics.boxes.inc(boxes.length);
    this.metrics.lastFrameAt.set(Date.now() / 1000);
    for (const [stage, ms] of [['transport', transportMs], ['preprocess', preprocessMs], ['inference', inferenceMs], ['postprocess', postprocessMs], ['recognize', timings.recognizeMs]] as const) {
      if (ms !== undefined) this.metrics.stageSeconds.observe({ stage }, ms / 1000);
    }
    const seconds = (preprocessMs + inferenceMs + postprocessMs + (timings.recognizeMs ?? 0)) / 1000;
    // The original sample's per-frame line, word for word, at debug; info gets a summary every LOG_SUMMARY_INTERVAL.
    this.summary.frame({ sourceId: frame.sourceId, sequence: frame.sequence, boxes: boxes.length, seconds });
    this.logger.debug(
      { sourceId: frame.sourceId, sequence: frame.sequence, boxes: boxes.length, timings },
      `Bounding boxes detected: ${boxes.length}, time taken: ${seconds.toFixed(3)}`,
    );
  }
}
