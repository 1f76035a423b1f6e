import { randomUUID } from 'node:crypto';
import { Controller, Inject, type OnApplicationShutdown } from '@nestjs/common';
import { EventPattern, Payload, type ClientProxy } from '@nestjs/microservices';
import { FrameImages, InOrderDetections, SourceFeed, TextDetector, type ChainedFrame, type FrameDetections } from '@iev/detection-pipeline';
import { DETECTIONS_TOPIC, epochMs, FRAMES_TOPIC, type Detections, type Frame, type StageTimings } from '@iev/frame-protocol';
import { FrameSummary, MODULE_LOGGER, SequenceGaps } from '@iev/service-runtime';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import { InferenceMetrics } from './inference.metrics';
import { TextReading } from './text-reading';
import { DETECTIONS_CLIENT, IGNORED_REGIONS, RELEASE_PIXELS, type IgnoredRegionsInForce, type ReleasePixels } from './tokens';

interface ReceivedFrame extends ChainedFrame {
  width: number;
  height: number;
  transportMs: number;
}

@Controller()
export class FramesController implements OnApplicationShutdown {
  private readonly gaps = new SequenceGaps();
  private readonly feed: SourceFeed<ReceivedFrame>;
  private readonly images = new FrameImages();
  /** Line ids count from 1 again in a restarted process: this tells its lines from the last run's downstream. */
  private readonly runId = randomUUID();

  constructor(
    detector: TextDetector,
    reading: TextReading,
    @Inject(DETECTIONS_CLIENT) private readonly detectionsClient: ClientProxy,
    private readonly metrics: InferenceMetrics,
    @Inject(MODULE_LOGGER) private readonly logger: Logger,
    private readonly summary: FrameSummary,
    @Inject(RELEASE_PIXELS) private readonly releaseReceived: ReleasePixels,
    @Inject(IGNORED_REGIONS) ignoredRegions: IgnoredRegionsInForce,
  ) {
    // A frame's image is released as soon as nothing here reads it (published, dropped, or replaced before its turn):
    // a converted one back to its pool, a frame's own pixels to the transport that delivered them.
    const releasePixels = ({ image }: ReceivedFrame) => {
      if (!this.images.release(image)) releaseReceived(image.data);
    };
    const chain = new InOrderDetections<ReceivedFrame>({
      detector,
      reader: () => reading.active,
      ignoredRegions,
      publish: (frame, detections) => this.publish(frame, detections),
      dropped: (frame) => metrics.framesRejected.inc({ reason: 'inference_error', source_id: frame.sourceId }),
      done: releasePixels,
      times: metrics.chain,
      log: logger,
    });
    this.feed = new SourceFeed({
      chain,
      maxBatch: () => detector.maxBatch,
      scheduler: { discarded: releasePixels },
      taken: ({ sourceId, sequence }) => {
        const skipped = this.gaps.observe(sourceId, sequence);
        metrics.framesSkipped.inc({ source_id: sourceId }, skipped);
        metrics.sources.skipped(sourceId, skipped);
      },
    });
  }

  /**
   * Each capture's frames arrive on a link of their own (ServerZmqFanIn); this resolves once the frame has left its
   * place in line (replaced, waited too long, or gone into the model and the model can take another), and the link
   * then asks its capture for the newest.
   */
  @EventPattern(FRAMES_TOPIC)
  async onFrame(@Payload() frame: Frame): Promise<void> {
    // Its capture is asked for the next frame only once this settles: the time between is not the camera's silence.
    this.metrics.sources.received(frame.sourceId);
    try {
      await this.take(frame);
    } finally {
      this.metrics.sources.waitingFor(frame.sourceId);
    }
  }

  /** Lets the last frames' detections out before the client closes. */
  onApplicationShutdown(): Promise<void> {
    return this.feed.close();
  }

  private async take(frame: Frame): Promise<void> {
    const transportMs = epochMs() - frame.captureTimeMs;
    if (!FrameImages.reads(frame.pixelFormat)) {
      this.metrics.framesRejected.inc({ reason: 'pixel_format', source_id: frame.sourceId });
      this.logger.warn({ sourceId: frame.sourceId, pixelFormat: frame.pixelFormat }, 'frame dropped: only BGR24 and I420 frames are supported');
      this.releaseReceived(frame.pixels);
      return;
    }
    const image = this.images.imageOf(frame);
    if (image.data !== frame.pixels) this.releaseReceived(frame.pixels);
    const { sourceId, sequence, captureTimeMs, width, height } = frame;
    await this.feed.offer({ sourceId, sequence, captureTimeMs, width, height, image, transportMs });
  }

  private async publish(frame: ReceivedFrame, { modelId, boxes, width, height, timings: detectionTimings, lines, ignored }: FrameDetections): Promise<void> {
    const timings: StageTimings = { transportMs: frame.transportMs, ...detectionTimings };
    const detections: Detections = {
      frame: { sourceId: frame.sourceId, sequence: frame.sequence, captureTimeMs: frame.captureTimeMs },
      width,
      height,
      modelId,
      boxes,
      timings,
      ...(lines && { lines }),
      // Counted for the preview beside the boxes; none ignored, none said (most cameras have no regions).
      ...(ignored > 0 && { ignored }),
      publishedAtMs: epochMs(),
      runId: this.runId,
    };
    await lastValueFrom(this.detectionsClient.emit(DETECTIONS_TOPIC, detections), { defaultValue: undefined });

    const { transportMs, preprocessMs, inferenceMs, postprocessMs, recognizeMs } = timings;
    const source = { source_id: frame.sourceId };
    const latencyMs = detections.publishedAtMs - frame.captureTimeMs;
    this.metrics.framesProcessed.inc(source);
    this.metrics.latencySeconds.observe(source, latencyMs / 1000);
    this.metrics.sources.done(frame.sourceId, latencyMs);
    this.metrics.rate.mark();
    this.metrics.boxes.inc(boxes.length);
    this.metrics.boxesIgnored.inc(source, ignored);
    this.metrics.lastFrameAt.set(Date.now() / 1000);
    if (lines) for (const outcome of ['read', 'carried', 'dropped'] as const) this.metrics.lines.inc({ outcome }, lines[outcome]);
    for (const ms of lines?.textAfterMs ?? []) this.metrics.textAfterSeconds.observe(source, ms / 1000);
    for (const [stage, ms] of [['transport', transportMs], ['preprocess', preprocessMs], ['inference', inferenceMs], ['postprocess', postprocessMs], ['recognize', recognizeMs]] as const) {
      if (ms !== undefined) this.metrics.stageSeconds.observe({ stage }, ms / 1000);
    }
    const seconds = (preprocessMs + inferenceMs + postprocessMs + (recognizeMs ?? 0)) / 1000;
    // The original sample's per-frame line, word for word, at debug; info gets a summary every LOG_SUMMARY_INTERVAL.
    this.summary.frame({ sourceId: frame.sourceId, sequence: frame.sequence, boxes: boxes.length, ignored, seconds });
    this.logger.debug(
      { sourceId: frame.sourceId, sequence: frame.sequence, boxes: boxes.length, ignored, timings },
      `Bounding boxes detected: ${boxes.length}, time taken: ${seconds.toFixed(3)}`,
    );
  }
}
