import { counterReadAtScrape } from '@iev/service-runtime';
import type { ServerZmq } from '@iev/zmq-transport';
import { Counter, Histogram, type Registry } from 'prom-client';

export class TelemetryMetrics {
  readonly messages: Counter;
  readonly sinkErrors: Counter;
  readonly endToEndSeconds: Histogram;

  constructor(registry: Registry, server: ServerZmq) {
    const registers = [registry];
    this.messages = new Counter({ name: 'iev_telemetry_detections_total', help: 'Detections messages written to the sink', registers });
    this.sinkErrors = new Counter({ name: 'iev_telemetry_sink_errors_total', help: 'Detections the sink failed to write', registers });
    this.endToEndSeconds = new Histogram({
      name: 'iev_telemetry_capture_to_sink_seconds',
      help: 'From the frame leaving the decoder to its detections reaching telemetry',
      buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
    counterReadAtScrape(
      registry,
      'iev_telemetry_detections_dropped_total',
      'Detections dropped, oldest first, because the sink fell TELEMETRY_QUEUE_CAPACITY behind',
      () => server.stats().skipped,
    );
    counterReadAtScrape(registry, 'iev_telemetry_messages_malformed_total', 'Messages on the detections socket that failed to decode', () => server.stats().malformed);
  }
}
