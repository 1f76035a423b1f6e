import { Controller, Inject, type OnApplicationShutdown } from '@nestjs/common';
import { EventPattern, Payload, type ClientProxy } from '@nestjs/microservices';
import { InOrderDetections, TextDetector, type ChainedFrame, type FrameDetections } from '@iev/detection-pipeline';
import { DETECTIONS_TOPIC, epochMs, FRAMES_TOPIC, PixelFormat, type Detections, type Frame, type StageTimings } from '@iev/frame-protocol';
import { FrameSummary, MODULE_LOGGER, SequenceGaps } from '@iev/service-runtime';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import { InferenceMetrics } from './inference.metrics';
import { TextReading } from './text-reading';
import { DETECTIONS_CLIENT } from './tokens';

interface ReceivedFrame extends ChainedFrame {
  transportMs: number;
}

@Controller()
export class FramesController implements OnApplicationShutdown {
  private readonly gaps = new SequenceGaps();
  private readonly chain: InOrderDetections<ReceivedFrame>;

  constructor(
    private readonly detector: TextDetector,
    reading: TextReading,
    @Inject(DETECTIONS_CLIENT) private readonly detectionsClient: ClientProxy,
    private readonly metrics: InferenceMetrics,
    @Inject(MODULE_LOGGER) private readonly logger: Logger,
    private readonly summary: FrameSummary,
  ) {
    this.chain = new InOrderDetections({
      detector,
      reader: () => reading.active,
      publish: (frame, detections) => this.publish(frame, detections),
      dropped: () => metrics.framesRejected.inc({ reason: 'inference_error' }),
      log: logger,
    });
  }

  /** Resolves as soon as the model can take another frame, so the transport hands over the newest then (see InOrderDetections). */
  @EventPattern(FRAMES_TOPIC)
  async onFrame(@Payload() frame: Frame): Promise<void> {
    const transportMs = epochMs() - frame.captureTimeMs;
    this.metrics.framesSkipped.inc(this.gaps.observe(frame.sourceId, frame.sequence));
    if (frame.pixelFormat !== PixelFormat.BGR24) {
      this.metrics.framesRejected.inc({ reason: 'pixel_format' });
      this.logger.warn({ sourceId: frame.sourceId, pixelFormat: frame.pixelFormat }, 'frame dropped: only BGR24 frames are supported');
      return;
    }
    const { sourceId, sequence, captureTimeMs, pixels, width, height, stride } = frame;
    await this.chain.push({ sourceId, sequence, captureTimeMs, image: { data: pixels, width, height, stride }, transportMs });
  }

  /** Lets the last frame's detections out before the client closes. */
  onApplicationShutdown(): Promise<void> {
    return this.chain.drain();
  }

  private async publish(frame: ReceivedFrame, { boxes, width, height, timings: detectionTimings, lines }: FrameDetections): Promise<void> {
    const timings: StageTimings = { transportMs: frame.transportMs, ...detectionTimings };
    const detections: Detections = {
      frame: { sourceId: frame.sourceId, sequence: frame.sequence, captureTimeMs: frame.captureTimeMs },
      width,
      height,
      modelId: this.detector.backend.modelId,
      boxes,
      timings,
      ...(lines && { lines }),
      publishedAtMs: epochMs(),
    };
    await lastValueFrom(this.detectionsClient.emit(DETECTIONS_TOPIC, detections), { defaultValue: undefined });

    const { transportMs, preprocessMs, inferenceMs, postprocessMs, recognizeMs } = timings;
    this.metrics.framesProcessed.inc();
    this.metrics.rate.mark();
    this.metrics.boxes.inc(boxes.length);
    this.metrics.lastFrameAt.set(Date.now() / 1000);
    if (lines) for (const outcome of ['read', 'carried', 'dropped'] as const) this.metrics.lines.inc({ outcome }, lines[outcome]);
    for (const [stage, ms] of [['transport', transportMs], ['preprocess', preprocessMs], ['inference', inferenceMs], ['postprocess', postprocessMs], ['recognize', recognizeMs]] as const) {
      if (ms !== undefined) this.metrics.stageSeconds.observe({ stage }, ms / 1000);
    }
    const seconds = (preprocessMs + inferenceMs + postprocessMs + (recognizeMs ?? 0)) / 1000;
    // The original sample's per-frame line, word for word, at debug; info gets a summary every LOG_SUMMARY_INTERVAL.
    this.summary.frame({ sourceId: frame.sourceId, sequence: frame.sequence, boxes: boxes.length, seconds });
    this.logger.debug(
      { sourceId: frame.sourceId, sequence: frame.sequence, boxes: boxes.length, timings },
      `Bounding boxes detected: ${boxes.length}, time taken: ${seconds.toFixed(3)}`,
    );
  }
}
