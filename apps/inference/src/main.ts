import 'reflect-metadata';
import { loadTextDetector } from '@iev/detection-pipeline';
import { EdgeModule } from '@iev/iot-edge';
import { customizePreset } from '@iev/text-detection';
import { detectionsCodec, frameCodec, DETECTIONS_TOPIC, FRAMES_TOPIC } from '@iev/frame-protocol';
import { createMetricsRegistry, FrameSummary, readLogConfig, runModule, startMicroservice } from '@iev/service-runtime';
import { ClientZmq, ServerZmq } from '@iev/zmq-transport';
import { inferenceTwinSpec, readInferenceConfig } from './app/inference.config';
import { InferenceMetrics } from './app/inference.metrics';
import { InferenceModule } from './app/inference.module';

void runModule('inference', async (logger) => {
  const config = readInferenceConfig();
  const { preset, thresh, boxThresh, unclipRatio, limitSideLen } = config;
  const startupSettings = { preset, thresh, boxThresh, unclipRatio, limitSideLen };
  const detector = await loadTextDetector({ ...config, overrides: startupSettings, log: logger });
  const { backend } = detector;
  const streams = detector.concurrency;
  logger.info({ backend: backend.name, streams, modelId: backend.modelId, preset: config.preset, modelPath: config.modelPath }, 'model loaded');

  // Frames are drained eagerly into a one-frame slot; a small socket queue bounds memory (~1 MB a frame) if the
  // event loop is briefly busy.
  const server = new ServerZmq({
    endpoint: config.framesConnect,
    bind: false,
    delivery: 'latest',
    receiveHighWaterMark: 4,
    codecs: { [FRAMES_TOPIC]: frameCodec },
  });
  const detectionsClient = new ClientZmq({ endpoint: config.detectionsBind, bind: true, codecs: { [DETECTIONS_TOPIC]: detectionsCodec } });
  await detectionsClient.connect();

  const registry = createMetricsRegistry('inference');
  const metrics = new InferenceMetrics(registry, server);
  const edge = EdgeModule.start({
    name: 'inference',
    logger,
    registry,
    settings: {
      spec: inferenceTwinSpec,
      startup: startupSettings,
      // customizePreset validates the combination (limitSideLen needs a preset that resizes by side length).
      apply: (_changes, next) => detector.configure(customizePreset(next.preset, next)),
    },
    reported: () => ({ modelId: backend.modelId, modelSha256: backend.modelSha256, backend: backend.name, streams, fps: metrics.rate.perSecond() }),
    status: () => ({ backend: backend.name, streams, modelId: backend.modelId, fps: metrics.rate.perSecond(), preset: detector.preset, transport: server.stats() }),
  });

  const summary = new FrameSummary({ logger, intervalMs: readLogConfig().summaryIntervalMs });
  const service = await startMicroservice({
    module: InferenceModule.forRoot({ detector, detectionsClient, metrics, logger, summary }),
    strategy: server,
    logger,
    registry,
    metricsPort: config.metricsPort,
    health: () => ({
      healthy: true,
      backend: backend.name,
      streams,
      modelId: backend.modelId,
      transport: server.stats(),
      ...(edge && { iotEdge: { connected: edge.connected } }),
    }),
  });
  logger.info({ framesConnect: config.framesConnect, detectionsBind: config.detectionsBind, metricsPort: service.metricsPort }, 'inference listening');

  return {
    fatal: edge?.fatal,
    async close() {
      await service.close();
      summary.close();
      await edge?.close();
      await detectionsClient.close();
      await backend.dispose();
    },
  };
});
