import { setTimeout as sleep } from 'node:timers/promises';
import { detectionsCodec, frameCodec, DETECTIONS_TOPIC, FRAMES_TOPIC, type Detections, type Frame } from '@iev/frame-protocol';
import { EdgeModule } from '@iev/iot-edge';
import { annotatedJpeg, MjpegStreams, ModuleHealth, pictureHeader, plainJpeg, PreviewRenderer, PreviewSources, startPreviewHttpServer, takeSnapshot } from '@iev/preview-server';
import { createMetricsRegistry, reniceProcess, runModule, startObservabilityServer } from '@iev/service-runtime';
import { connectingCurve, releaseReceived, ServerZmq, ServerZmqFanIn } from '@iev/zmq-transport';
import { readPreviewConfig, readPreviewCurve } from './app/preview.config';
import { watchPreview } from './app/preview.metrics';

void runModule('preview', async (logger) => {
  const config = readPreviewConfig();
  const curve = readPreviewCurve();
  // Before sharp starts its threads, so they inherit it.
  reniceProcess(config.nice);
  const sources = new PreviewSources(config.sources);
  const encodingFailed = (error: unknown) => logger.warn({ err: error }, 'could not encode a preview frame');
  const renderer = new PreviewRenderer(sources, annotatedJpeg());
  const streams = new MjpegStreams(renderer, encodingFailed);
  const plainRenderer = new PreviewRenderer(sources, plainJpeg());
  const liveStreams = new MjpegStreams(plainRenderer, encodingFailed, pictureHeader);
  sources.onChange((sourceId) => {
    streams.pictureChanged(sourceId);
    liveStreams.pictureChanged(sourceId);
  });
  const viewers = () => streams.viewerCount + liveStreams.viewerCount;
  const health = new ModuleHealth(config.healthUrls);

  // One more consumer of each capture's frames, at its own pace: the handler resolves no sooner than one frame
  // interval after it started, and that capture then sends the newest frame inference took (frames on demand,
  // following: each frame has detections of its own and none is decoded for the preview alone; with no inference
  // there, the newest). A link per capture, so every source is shown at up to PREVIEW_FPS whatever the others do.
  // With no one watching, one frame a second keeps latest.jpg and snapshots current at a fraction of the cost; a
  // viewer who arrives gets PREVIEW_FPS within a second.
  const frameIntervalMs = () => (viewers() > 0 ? 1000 / config.fps : Math.max(1000, 1000 / config.fps));
  const frames = new ServerZmqFanIn({ endpoints: config.framesConnect, codecs: { [FRAMES_TOPIC]: frameCodec }, follow: true, curve: connectingCurve(curve, 'FRAMES') });
  frames.addHandler(
    FRAMES_TOPIC,
    async (frame: Frame) => {
      const started = performance.now();
      sources.addFrame(frame);
      releaseReceived(frame.pixels); // kept as a copy, if at all: see releaseReceived
      await sleep(frameIntervalMs() - (performance.now() - started));
    },
    true,
  );
  // Detections are small and come at most as fast as frames: queue them so none is missed for pairing.
  const detections = new ServerZmq({ endpoint: config.detectionsConnect, delivery: 'queue', queueCapacity: 100, codecs: { [DETECTIONS_TOPIC]: detectionsCodec }, curve: connectingCurve(curve, 'DETECTIONS') });
  detections.addHandler(DETECTIONS_TOPIC, async (message: Detections) => sources.addDetections(message), true);
  await Promise.all([frames, detections].map((server) => new Promise<void>((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())))));

  const registry = createMetricsRegistry('preview');
  watchPreview(registry, { sources, renderers: { annotated: renderer, plain: plainRenderer }, viewers, frames, detections });
  const edge = EdgeModule.start({
    name: 'preview',
    logger,
    registry,
    status: () => ({ sources: sources.summaries(), viewers: viewers() }),
    methods: { getSnapshot: (payload) => takeSnapshot(sources, (payload as { sourceId?: string } | null)?.sourceId) },
  });
  health.start();
  const http = await startPreviewHttpServer({ port: config.port, host: config.host, sources, renderer, streams, liveStreams, health });
  const observability = await startObservabilityServer({
    port: config.metricsPort,
    registry,
    health: () => ({
      healthy: true,
      sources: sources.summaries(),
      viewers: viewers(),
      frames: frames.stats(),
      detections: detections.stats(),
      ...(edge && { iotEdge: { connected: edge.connected } }),
    }),
  });
  const address = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${http.port}/`;
  logger.info({ address, framesConnect: config.framesConnect, detectionsConnect: config.detectionsConnect, fps: config.fps, nice: config.nice, metricsPort: observability.port }, `preview on ${address}`);

  return {
    fatal: edge?.fatal,
    async close() {
      health.stop();
      await http.close();
      await Promise.all([frames.close(), detections.close()]);
      await observability.close();
      await edge?.close();
    },
  };
});
