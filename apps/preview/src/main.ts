import { limitEncodingThreads } from '@iev/frame-annotation';
import { detectionsCodec, DETECTIONS_TOPIC, MAX_DETECTIONS_PART_BYTES, regionsCodec, REGIONS_TOPIC, sourcesCodec, SOURCES_TOPIC, type Detections, type RegionsAnnouncement, type SourcesAnnouncement } from '@iev/frame-protocol';
import { EdgeModule } from '@iev/iot-edge';
import { annotatedJpeg, MjpegStreams, ModuleHealth, pictureHeader, plainJpeg, PreviewRenderer, PreviewSources, RecentReads, startPreviewHttpServer, takeSnapshot } from '@iev/preview-server';
import { cpuBudget, createMetricsRegistry, listenAsConfigured, readTogether, reniceProcess, runModule, startObservabilityServer } from '@iev/service-runtime';
import { connectingCurve, ServerZmq } from '@iev/zmq-transport';
import { readPreviewConfig, readPreviewCurve } from './app/preview.config';
import { PreviewFrames } from './app/preview-frames';
import { PreviewSilence } from './app/preview-health';
import { watchPreview } from './app/preview.metrics';

void runModule('preview', () => readTogether(readPreviewConfig, readPreviewCurve), async (logger, [config, curve]) => {
  // Before sharp starts its threads, so they inherit it.
  reniceProcess(config.nice);
  const encodingThreads = limitEncodingThreads(cpuBudget());
  const sources = new PreviewSources(config.sources);
  const encodingFailed = (error: unknown) => logger.warn({ err: error }, 'could not encode a preview frame');
  const renderer = new PreviewRenderer(sources, annotatedJpeg());
  const streams = new MjpegStreams(renderer, encodingFailed);
  const plainRenderer = new PreviewRenderer(sources, plainJpeg());
  const liveStreams = new MjpegStreams(plainRenderer, encodingFailed, pictureHeader);
  // The lines read, each with its picture cut out once per better read: kept whether or not anyone watches.
  const reads = new RecentReads(sources, (error) => logger.warn({ err: error }, 'could not encode a line read'));
  const silence = new PreviewSilence({ limitMs: config.silenceLimitMs, framesConnect: config.framesConnect, detectionsConnect: config.detectionsConnect, logger });
  sources.onChange((sourceId, changed) => {
    if (changed !== 'regions') (changed === 'frame' ? silence.frames : silence.detections).arrived(sourceId);
    streams.pictureChanged(sourceId);
    liveStreams.pictureChanged(sourceId);
  });
  const viewers = () => streams.viewerCount + liveStreams.viewerCount;
  const health = new ModuleHealth(config.healthUrls);

  // With no one watching, one frame a second keeps latest.jpg and snapshots current at a fraction of the cost; a
  // viewer who arrives gets PREVIEW_FPS within a second.
  const frameIntervalMs = () => (viewers() > 0 ? 1000 / config.fps : Math.max(1000, 1000 / config.fps));
  const frames = new PreviewFrames(sources, frameIntervalMs, { endpoints: config.framesConnect, curve: connectingCurve(curve, 'FRAMES') });
  // Detections are small and come at most as fast as frames: queue them so none is missed for pairing.
  const detections = new ServerZmq({
    endpoint: config.detectionsConnect,
    delivery: 'queue',
    queueCapacity: 100,
    maxMessageBytes: MAX_DETECTIONS_PART_BYTES,
    codecs: { [DETECTIONS_TOPIC]: detectionsCodec, [SOURCES_TOPIC]: sourcesCodec, [REGIONS_TOPIC]: regionsCodec },
    curve: connectingCurve(curve, 'DETECTIONS'),
  });
  detections.addHandler(DETECTIONS_TOPIC, async (message: Detections) => sources.addDetections(message), true);
  // An inference decoding its cameras itself says which they are: one its twin removed leaves the page at once.
  detections.addHandler(SOURCES_TOPIC, async (message: SourcesAnnouncement) => sources.announce(message), true);
  // The ignore regions inference applies, shaded on each camera's picture.
  detections.addHandler(REGIONS_TOPIC, async (message: RegionsAnnouncement) => sources.announceRegions(message), true);
  await Promise.all([frames, detections].map((server) => new Promise<void>((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())))));

  const registry = createMetricsRegistry('preview');
  watchPreview(registry, { sources, renderers: { annotated: renderer, plain: plainRenderer, read: reads }, viewers, frames, detectionsReceived: () => detections.patternStats(DETECTIONS_TOPIC).dispatched });
  const edge = EdgeModule.start({
    name: 'preview',
    logger,
    registry,
    status: () => ({ sources: sources.summaries(), viewers: viewers() }),
    methods: { getSnapshot: (payload) => takeSnapshot(sources, (payload as { sourceId?: string } | null)?.sourceId) },
  });
  health.start();
  const onError = (error: unknown) => logger.error({ err: error }, 'could not answer a preview request');
  const http = await listenAsConfigured('PREVIEW_PORT', startPreviewHttpServer({ port: config.port, host: config.host, sources, renderer, streams, liveStreams, health, reads, onError }), 'PREVIEW_HOST');
  // A source not expected that went silent (a camera removed or renamed) leaves the page and memory.
  const forgetting = setInterval(() => sources.forgetSilent(), 30_000);
  const observability = await startObservabilityServer({
    port: config.metricsPort,
    registry,
    health: () => ({
      ...silence.health(),
      sources: sources.summaries(),
      viewers: viewers(),
      frames: frames.stats(),
      // The link carries inference's camera announcements too: counted apart, so detections' figures are detections'
      // alone, as iev_preview_detections_total (their dispatched count) is.
      detections: { ...detections.patternStats(DETECTIONS_TOPIC), refusedPeers: detections.stats().refusedPeers },
      sourcesAnnouncements: detections.patternStats(SOURCES_TOPIC),
      ...(edge && { iotEdge: { connected: edge.connected } }),
    }),
  });
  const address = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${http.port}/`;
  logger.info({ address, framesConnect: config.framesConnect, detectionsConnect: config.detectionsConnect, fps: config.fps, nice: config.nice, encodingThreads, metricsPort: observability.port }, `preview on ${address}`);

  return {
    fatal: edge?.fatal,
    async close() {
      health.stop();
      silence.close();
      clearInterval(forgetting);
      await http.close();
      await Promise.all([frames.close(), detections.close()]);
      await observability.close();
      await edge?.close();
    },
  };
});
