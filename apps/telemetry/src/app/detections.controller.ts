import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DETECTIONS_TOPIC, epochMs, SOURCES_TOPIC, type Detections, type SourcesAnnouncement } from '@iev/frame-protocol';
import { MODULE_LOGGER } from '@iev/service-runtime';
import type { Logger } from 'pino';
import type { DetectionsSink } from '@iev/telemetry-sinks';
import { TelemetryMetrics } from './telemetry.metrics';
import { SINK } from './tokens';

@Controller()
export class DetectionsController {
  constructor(
    @Inject(SINK) private readonly sink: DetectionsSink,
    private readonly metrics: TelemetryMetrics,
    @Inject(MODULE_LOGGER) private readonly logger: Logger,
  ) {}

  /** Inference's cameras (CAPTURE_SOURCES): one it removed leaves the metrics, and what the sink holds of it is sent. */
  @EventPattern(SOURCES_TOPIC)
  onSources(@Payload() announcement: SourcesAnnouncement): void {
    for (const sourceId of this.metrics.announced(announcement)) this.sink.forget?.(sourceId);
  }

  @EventPattern(DETECTIONS_TOPIC)
  async onDetections(@Payload() detections: Detections): Promise<void> {
    const receivedAtMs = epochMs();
    // A camera inference removed, its detections still in flight: sent per frame as every frame is, but not into what
    // the sink keeps of a camera (its lines, a summary), sent as it forgot the camera and started again by them.
    if (!this.metrics.received(detections.frame.sourceId) && this.sink.keepsPerSource?.()) {
      this.metrics.droppedAfterRemoval();
      return;
    }
    try {
      await this.sink.write(detections, receivedAtMs);
      this.metrics.written(detections.frame.sourceId, (receivedAtMs - detections.frame.captureTimeMs) / 1000);
    } catch (error) {
      this.metrics.sinkFailed(detections.frame.sourceId);
      this.logger.error({ err: error, sequence: detections.frame.sequence }, 'sink failed to write detections');
    }
  }
}
