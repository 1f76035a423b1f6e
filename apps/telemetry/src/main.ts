import 'reflect-metadata';
import { detectionsCodec, DETECTIONS_TOPIC } from '@iev/frame-protocol';
import { createMetricsRegistry, runModule, startMicroservice } from '@iev/service-runtime';
import { ServerZmq } from '@iev/zmq-transport';
import { ConsoleSink } from './app/sinks';
import { readTelemetryConfig } from './app/telemetry.config';
import { TelemetryMetrics } from './app/telemetry.metrics';
import { TelemetryModule } from './app/telemetry.module';

void runModule('telemetry', async (logger) => {
  const config = readTelemetryConfig();
  // Detections are small and each one matters upstream: queue them (bounded) instead of keeping the newest only.
  const server = new ServerZmq({
    endpoint: config.detectionsConnect,
    bind: false,
    delivery: 'queue',
    queueCapacity: config.queueCapacity,
    codecs: { [DETECTIONS_TOPIC]: detectionsCodec },
  });
  const registry = createMetricsRegistry('telemetry');
  const metrics = new TelemetryMetrics(registry, server);
  const sink = new ConsoleSink(config.consoleFormat);
  const service = await startMicroservice({
    module: TelemetryModule.forRoot({ sink, metrics, logger }),
    strategy: server,
    logger,
    registry,
    metricsPort: config.metricsPort,
    health: () => ({ healthy: true, sink: config.sink, transport: server.stats() }),
  });
  logger.info({ detectionsConnect: config.detectionsConnect, sink: config.sink, metricsPort: service.metricsPort }, 'telemetry listening');
  return service;
});
