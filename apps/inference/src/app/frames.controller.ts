import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload, type ClientProxy } from '@nestjs/microservices';
import { TextDetector } from '@iev/detection-pipeline';
import { DETECTIONS_TOPIC, FRAMES_TOPIC, PixelFormat, type Detections, type Frame } from '@iev/frame-protocol';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import { InferenceMetrics } from './inference.metrics';
import { SequenceGaps } from './sequence-gaps';
import { DETECTIONS_CLIENT, LOGGER } from './tokens';

const epochMs = () => performance.timeOrigin + performance.now();

@Controller()
export class FramesController {
  private readonly gaps = new SequenceGaps();

  constructor(
    private readonly detector: TextDetector,
    @Inject(DETECTIONS_CLIENT) private readonly detectionsClient: ClientProxy,
    private readonly metrics: InferenceMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @EventPattern(FRAMES_TOPIC)
  async onFrame(@Payload() frame: Frame): Promise<void> {
    const transportMs = epochMs() - frame.captureTimeMs;
    this.metrics.framesSkipped.inc(this.gaps.observe(frame.sourceId, frame.sequence));
    if (frame.pixelFormat !== PixelFormat.BGR24) {
      this.metrics.framesRejected.inc({ reason: 'pixel_format' });
      this.logger.warn({ sourceId: frame.sourceId, pixelFormat: frame.pixelFormat }, 'frame dropped: only BGR24 frames are supported');
      return;
    }

    const result = await this.detector.detect({ data: frame.pixels, width: frame.width, height: frame.height, stride: frame.stride });
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
