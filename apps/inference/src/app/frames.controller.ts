import { Controller, Inject, type OnApplicationShutdown } from '@nestjs/common';
import { EventPattern, Payload, type ClientProxy } from '@nestjs/microservices';
import { TextDetector, type InferredImage } from '@iev/detection-pipeline';
import { DETECTIONS_TOPIC, epochMs, FRAMES_TOPIC, PixelFormat, type Detections, type Frame } from '@iev/frame-protocol';
import { MODULE_LOGGER } from '@iev/service-runtime';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import { InferenceMetrics } from './inference.metrics';
import { SequenceGaps } from './sequence-gaps';
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
  ) {}

  /**
   * Runs the frame through the model and returns, so the transport hands over the newest frame at once;
   * this frame is postprocessed and published on the next turn of the event loop, while the next frame is
   * already in the model (it runs on a worker thread).
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
    const inferred = await this.detector.infer({ data: frame.pixels, width: frame.width, height: frame.height, stride: frame.stride });
    const nextTurn = new Promise<void>((resolve) => setImmediate(resolve));
    this.publishing = Promise.all([this.publishing, nextTurn]).then(() =>
      this.publish(frame, inferred, transportMs).catch((error: Error) => this.logger.error({ err: error }, 'failed to publish detections')),
    );
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
    // The original sample's per-frame line, kept word for word so existing log checks still match.
    this.logger.info(
      { sourceId: frame.sourceId, sequence: frame.sequence, boxes: result.boxes.length, timings: detections.timings },
      `Bounding boxes detected: ${result.boxes.length}, time taken: ${seconds.toFixed(3)}`,
    );
  }
}
