import 'reflect-metadata';
import { detectionsCodec, DETECTIONS_TOPIC, MAX_DETECTIONS_PART_BYTES, sourcesCodec, SOURCES_TOPIC } from '@iev/frame-protocol';
import { edgeConnectionKind, EdgeModule } from '@iev/iot-edge';
import { createMetricsRegistry, MESSAGES_HEAP_GROWING_PERCENT, readTogether, runModule, setHeapGrowingPercent, startMicroservice } from '@iev/service-runtime';
import { ConsoleSink, IotEdgeSink, type DetectionsSink, type SinkContent, type TextEvent } from '@iev/telemetry-sinks';
import { connectingCurve, ServerZmq } from '@iev/zmq-transport';
import type { Logger } from 'pino';
import { readTelemetryConfig, readTelemetryCurve, type telemetryTwinSpec } from './app/telemetry.config';
import { TelemetryWatch } from './app/telemetry-health';
import { telemetryTwinSettings } from './app/telemetry-twin';
import { TelemetryMetrics } from './app/telemetry.metrics';
import { TelemetryModule } from './app/telemetry.module';

// Hours of small messages: collect what dies in the old generation before it creeps up (see the constant).
setHeapGrowingPercent(MESSAGES_HEAP_GROWING_PERCENT);

/** How long a stopping module keeps trying to hand queued messages to edgeHub. */
const UPSTREAM_FLUSH_ON_STOP_MS = 5000;
/** How often sources are looked at for TELEMETRY_FORGET_SOURCE_MS of silence. */
const FORGET_CHECK_MS = 1000;

/** Each source silent for `silentMs`, unannounced, leaves the series and the sink's summaries, logged once. */
function forgetSilentSources(metrics: TelemetryMetrics, sink: DetectionsSink, silentMs: number, logger: Logger): void {
  for (const { sourceId, ms } of metrics.forgetSilent(silentMs)) {
    sink.forget?.(sourceId);
    logger.info(
      { sourceId, silentSeconds: Math.round(ms / 1000) },
      `${sourceId}: no detections for ${Math.round(ms / 1000)} s and not a camera inference announces: forgotten (its series and summary; TELEMETRY_FORGET_SOURCE_MS), back as new with its next detections`,
    );
  }
}

void runModule('telemetry', () => readTogether(readTelemetryConfig, readTelemetryCurve), async (logger, [config, curve]) => {
  const edgeKind = edgeConnectionKind();
  if (config.sink === 'iotedge' && edgeKind === 'none') {
    throw new Error('TELEMETRY_SINK=iotedge needs IoT Edge: run under IoT Edge (IOTEDGE_* variables) or set EdgeHubConnectionString');
  }
  // Detections are small and each one matters upstream: queue them (bounded) instead of keeping the newest only.
  const server = new ServerZmq({
    endpoint: config.detectionsConnect,
    bind: false,
    delivery: 'queue',
    queueCapacity: config.queueCapacity,
    // Inference's announced cameras too: the series of one it removed are forgotten.
    codecs: { [DETECTIONS_TOPIC]: detectionsCodec, [SOURCES_TOPIC]: sourcesCodec },
    // A peer sending more is cut off by libzmq before the part is read.
    maxMessageBytes: MAX_DETECTIONS_PART_BYTES,
    curve: connectingCurve(curve, 'DETECTIONS'),
  });
  const registry = createMetricsRegistry('telemetry');
  const watch = new TelemetryWatch({ silenceLimitMs: config.silenceLimitMs, detectionsConnect: config.detectionsConnect, logger });
  const metrics = new TelemetryMetrics(registry, server, watch.detections);

  const events = { goneAfterMs: config.textGoneMs, confirmReads: config.textConfirmReads, sent: (event: TextEvent) => metrics.textEventSent(event), logger };
  const content: SinkContent = { textMatch: config.textMatch, ...(config.events === 'on' && { events }) };
  const upstream =
    config.sink === 'console' || edgeKind === 'none'
      ? undefined
      : new IotEdgeSink({
          outputName: config.outputName,
          queueCapacity: config.upstreamQueueCapacity,
          aggregation: { frames: config.aggregateFrames, intervalMs: config.aggregateIntervalMs },
          logger,
          ...content,
        });
  const sink: DetectionsSink = upstream ?? new ConsoleSink(config.consoleFormat, process.stdout, content);
  const forgetting = config.forgetSourceMs > 0 ? setInterval(() => forgetSilentSources(metrics, sink, config.forgetSourceMs, logger), FORGET_CHECK_MS) : undefined;

  const edge = EdgeModule.start<typeof telemetryTwinSpec>({
    name: 'telemetry',
    logger,
    registry,
    settings: telemetryTwinSettings(config, upstream),
    reported: () => ({ sink: upstream ? 'iotedge' : 'console', fps: metrics.rate.perSecond(), upstream: upstream?.stats() ?? null }),
    status: () => ({ fps: metrics.rate.perSecond(), upstream: upstream?.stats() ?? null, transport: server.stats() }),
  });
  if (edge && upstream) {
    metrics.countUpstream(registry, () => upstream.stats());
    watch.watchUpstream(() => upstream.stats(), edge, config.upstreamGraceMs);
    upstream.attach(edge);
    edge.onConnected(() => upstream.resume());
  }

  const service = await startMicroservice({
    module: TelemetryModule.forRoot({ sink, metrics, logger }),
    strategy: server,
    logger,
    registry,
    metricsPort: config.metricsPort,
    health: () => ({
      ...watch.health(),
      sink: upstream ? 'iotedge' : 'console',
      transport: server.stats(),
      ...(edge && { iotEdge: { connected: edge.connected, upstream: upstream?.stats() } }),
    }),
  });
  logger.info({ detectionsConnect: config.detectionsConnect, sink: upstream ? 'iotedge' : 'console', metricsPort: service.metricsPort }, 'telemetry listening');
  return {
    fatal: edge?.fatal,
    async close() {
      clearInterval(forgetting);
      await service.close();
      watch.close();
      await sink.close?.(UPSTREAM_FLUSH_ON_STOP_MS);
      await edge?.close();
    },
  };
});
