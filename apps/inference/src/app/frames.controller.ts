import { Controller, Inject, type OnApplicationShutdown } from '@nestjs/common';
import { EventPattern, Payload, type ClientProxy } from '@nestjs/microservices';
import { TextDetector, type InferredImage } from '@iev/detection-pipeline';
import { DETECTIONS_TOPIC, epochMs, FRAMES_TOPIC, PixelFormat, type Detections, type Frame } from '@iev/frame-protocol';
import { FrameSummary, MODULE_LOGGER, SequenceGaps } from '@iev/service-runtime';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import { InferenceMetrics } from './inference.metrics';
import { DETECTIONS_CLIENT } from './tokens';

@Controller()
export class FramesController implements OnApplicationShutdown {
  private readonly gaps = new SequenceGaps();
  /** Postprocessing and publishing of the frame before, chained so detections leave in frame order. */
  private publishing: Promise<void> = Promise.resolve();

  constructor(
    private readonly detector: TextDetector,
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
    const inferring = this.detector.infer({ data: frame.pixels, width: frame.width, height: frame.height, stride: frame.stride });
    const previous = this.publishing;
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
      await this.publish(frame, inferred, transportMs).catch((error: Error) => this.logger.error({ err: error }, 'failed to publish detections'));
    })();
    await this.detector.whenReady();
  }

  /** Lets the last frame's detections out before the client closes. */
  onApplicationShutdown(): Promise<void> {
    return this.publishing;
  }

  private async publish(frame: Frame, inferred: InferredImage, transportMs: number): Promise<void> {
    const result = inferred.finish();
    const detections: Detections = {
      frame: { sourceId: frame.sourceId, sequence: frame.sequence, captureTimeMs: frame.captureTimeMs },
      width: result.width,
      height: result.height,
      modelId: this.detector.backend.modelId,
      boxes: result.boxes,
      timings: { transportMs, ...result.timings },
      publishedAtMs: epochMs(),
    };
    await lastValueFrom(this.detectionsClient.emit(DETECTIONS_TOPIC, detections), { defaultValue: undefined });

    const { preprocessMs, inferenceMs, postprocessMs } = result.timings;
    this.metrics.framesProcessed.inc();
    this.metrics.rate.mark();
    this.metrics.boxes.inc(result.boxes.length);
    this.metrics.lastFrameAt.set(Date.now() / 1000);
    for (const [stage, ms] of [['transport', transportMs], ['preprocess', preprocessMs], ['inference', inferenceMs], ['postprocess', postprocessMs]] as const) {
      this.metrics.stageSeconds.observe({ stage }, ms / 1000);
    }
    const seconds = (preprocessMs + inferenceMs + postprocessMs) / 1000;
    // The original sample's per-frame line, word for word, at debug; info gets a summary every LOG_SUMMARY_INTERVAL.
    this.summary.frame({ sourceId: frame.sourceId, sequence: frame.sequence, boxes: result.boxes.length, seconds });
    this.logger.debug(
      { sourceId: frame.sourceId, sequence: frame.sequence, boxes: result.boxes.length, timings: detections.timings },
      `Bounding boxes detected: ${result.boxes.length}, time taken: ${seconds.toFixed(3)}`,
    );
  }
}
