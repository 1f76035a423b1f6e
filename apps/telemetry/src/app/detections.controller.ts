import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DETECTIONS_TOPIC, epochMs, type Detections } from '@iev/frame-protocol';
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

  @EventPattern(DETECTIONS_TOPIC)
  async onDetections(@Payload() detections: Detections): Promise<void> {
    const receivedAtMs = epochMs();
    this.metrics.received(detections.frame.sourceId);
    try {
      await this.sink.write(detections, receivedAtMs);
      const source = { source_id: detections.frame.sourceId };
      this.metrics.messages.inc(source);
      this.metrics.rate.mark();
      this.metrics.endToEndSeconds.observe(source, (receivedAtMs - detections.frame.captureTimeMs) / 1000);
    } catch (error) {
      this.metrics.sinkErrors.inc({ source_id: detections.frame.sourceId });
      this.logger.error({ err: error, sequence: detections.frame.sequence }, 'sink failed to write detections');
    }
  }
}
