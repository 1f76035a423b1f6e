import 'reflect-metadata';
import { readAddedSource, SourcesAnnouncer } from '@iev/capture-sources';
import { cpuParallelism, IgnoredRegions, loadTextDetector, presetReads } from '@iev/detection-pipeline';
import { byTwinKey, EdgeModule } from '@iev/iot-edge';
import { detectionsCodec, DETECTIONS_TOPIC, regionsCodec, REGIONS_TOPIC, sourcesCodec, SOURCES_TOPIC } from '@iev/frame-protocol';
import { counterReadAtScrape, createMetricsRegistry, FRAMES_HEAP_GROWING_PERCENT, FrameSummary, listenAsConfigured, readLogConfig, readTogether, runModule, setHeapGrowingPercent, startMicroservice, startObservabilityServer } from '@iev/service-runtime';
import { boundCurve, ClientZmq } from '@iev/zmq-transport';
import { inferenceTwinSpec, readInferenceConfig, readInferenceCurve, readInferenceSources, readStartupIgnoreRegions } from './app/inference.config';
import { capturedFrames, ownFrames } from './app/frames-intake';
import { InferenceMetrics } from './app/inference.metrics';
import { applyInferenceSettings } from './app/inference-settings';
import { inferenceHealth } from './app/inference-health';
import { InferenceModule } from './app/inference.module';
import { RegionsAnnouncer } from './app/regions-announcer';
import { TextReading } from './app/text-reading';

// Frames are external memory V8 counts against the heap's growth: see FRAMES_HEAP_GROWING_PERCENT.
setHeapGrowingPercent(FRAMES_HEAP_GROWING_PERCENT);

/** The variables, and the ignore regions they give together (IGNORE_REGIONS and each CAPTURE_SOURCES entry's own). */
function readModuleConfig() {
  const [config, ownSources, curve] = readTogether(readInferenceConfig, readInferenceSources, readInferenceCurve);
  return [config, ownSources, curve, readStartupIgnoreRegions(config, ownSources)] as const;
}

void runModule('inference', readModuleConfig, async (logger, [config, ownSources, curve, ignoreRegions]) => {
  const decodesOwnSources = ownSources.length > 0;
  const { preset, thresh, boxThresh, unclipRatio, limitSideLen, recognition } = config;
  // The twin's ignoreRegions replaces the start-up ones whole.
  const detectionSettings = { preset, thresh, boxThresh, unclipRatio, limitSideLen, recognition, minTextScore: config.recMinScore, ignoreRegions };
  const regions = { inForce: IgnoredRegions.fromText(ignoreRegions) };
  if (ignoreRegions !== undefined) logger.info({ ignoreRegions }, 'text in these regions is neither read nor published');
  const registry = createMetricsRegistry('inference');
  // Frames on demand from each capture (one per camera), on a link each: the frames handler lines the sources up in
  // fair turns and asks a capture for its newest frame once its last one has left the line. With CAPTURE_SOURCES,
  // from decoders this module runs itself, each read as the handler takes its frames; prepared (a file that
  // cannot be read stops the module) before the model loads.
  const frames = decodesOwnSources
    ? await ownFrames(ownSources, (sourceId) => readAddedSource(sourceId, process.env), logger, registry, config.framesBind, curve)
    : capturedFrames(config.framesConnect, curve);
  // Metrics and health are up before the model loads: a TensorRT engine build takes minutes on a Jetson, and the
  // module says so meanwhile rather than looking dead.
  let loading = 'loading model';
  const observability = await startObservabilityServer({ port: config.metricsPort, registry, health: () => ({ healthy: false, status: loading }) });
  logger.info({ metricsPort: observability.port }, 'loading the model; /health says what it is doing');
  const onActivity = (activity?: string) => {
    loading = activity ?? 'loading model';
  };
  const detector = await loadTextDetector({ ...config, overrides: detectionSettings, log: logger, onActivity });
  const streams = detector.concurrency;
  logger.info({ backend: detector.backend.name, streams, modelId: detector.backend.modelId, preset: config.preset, modelPath: detector.modelPath }, 'model loaded');

  const detectionsClient = new ClientZmq({
    endpoint: config.detectionsBind,
    bind: true,
    codecs: { [DETECTIONS_TOPIC]: detectionsCodec, [SOURCES_TOPIC]: sourcesCodec, [REGIONS_TOPIC]: regionsCodec },
    curve: boundCurve(curve),
  });
  await listenAsConfigured('DETECTIONS_BIND', detectionsClient.connect());

  // The regions in force, for the preview to shade on each camera's picture: every camera's, a capture module's too.
  const regionsAnnouncer = new RegionsAnnouncer(detectionsClient, () => regions.inForce, (error) => logger.warn({ err: error }, `could not announce the ignore regions: ${error.message}`));
  const metrics = new InferenceMetrics(registry, () => frames.malformedByEndpoint(), logger, {
    hangExitMs: config.hangExitMs,
    forgetSourceMs: config.forgetSourceMs,
    decodedHere: (sourceId) => frames.cameras?.sourceIds().includes(sourceId) ?? false,
  });
  // The cameras decoded here, announced beside the detections: a preview drops one the twin removes at once, rather
  // than after minutes of its silence (as it must for a capture module's, which may come back).
  const cameras = frames.cameras;
  const announcer =
    cameras && new SourcesAnnouncer(detectionsClient, () => cameras.sourceIds(), (error) => logger.warn({ err: error }, `could not announce the cameras: ${error.message}`));
  // Recognition follows the detector's backend; on the CPU, one session with the threads of one detection stream,
  // reading in that stream's turns.
  const reading = new TextReading({
    ...config,
    threads: cpuParallelism(config.streams, config.threads).threads,
    detector,
    log: logger,
    onActivity,
    onBatchFailed: (error, lines) => logger.warn({ err: error, lines }, `a recognition batch failed: ${error.message}; its lines are read again when due`),
    onBatchRead: ({ reasons, sources }) => {
      metrics.recognitionBatchLines.observe(reasons.length);
      metrics.recognitionBatchSources.observe(sources);
      for (const reason of reasons) metrics.linesRead.inc({ reason });
    },
    batchTimes: metrics.reading,
  });
  cameras?.watch({
    added: (sourceId) => {
      metrics.expectSource(sourceId);
      announcer?.announce();
    },
    removed: (sourceId) => {
      metrics.forgetSource(sourceId);
      announcer?.announce();
    },
  });
  cameras?.watch(reading.cameras);
  await reading.switch(presetReads(preset, recognition));
  if (reading.active) {
    const { characters, lookalikes } = reading.active.recognizer;
    // Which dictionary, and whether REC_LOOKALIKES=auto took it for the bundled one: a dictionary edited in any of its
    // characters or saved in another encoding is another file, and turns the lookalike rule off without a word otherwise.
    const dictionary = { dictPath: config.recDictPath, dictSha256: characters.sha256.slice(0, 12), dictClasses: characters.classCount, lookalikes };
    logger.info({ modelId: reading.modelId, modelPath: config.recModelPath, ...dictionary, minScore: config.recMinScore, refreshMs: config.recRefreshMs, refreshMaxMs: config.recRefreshMaxMs, rereadMs: config.recRereadMs, confirmFrames: config.recConfirmFrames }, 'recognition model loaded');
  }
  const recognitionStatus = () => ({ recognition: reading.active ? 'on' : 'off', recModelId: reading.modelId });
  counterReadAtScrape(registry, 'iev_inference_recognition_batches_failed_total', 'Recognition batches that failed (their lines read as nothing until due again)', () => reading.failedBatches);
  counterReadAtScrape(registry, 'iev_inference_peers_refused_total', 'Subscribers refused because their CURVE key is not in ZMQ_CURVE_CLIENT_KEYS', () => detectionsClient.stats().refusedPeers);
  // With CAPTURE_SOURCES, the twin sets the cameras as well, as capture's twin sets its one.
  const twinSettings = frames.cameras
    ? { spec: { ...inferenceTwinSpec, cameras: frames.cameras.twinSpec }, startup: { ...detectionSettings, cameras: frames.cameras.settings() } }
    : { spec: inferenceTwinSpec, startup: detectionSettings };
  const edge = EdgeModule.start({
    name: 'inference',
    logger,
    registry,
    settings: {
      ...twinSettings,
      apply: (_changes, next, { startup }) =>
        applyInferenceSettings(detector, reading, { ...config, log: logger, onActivity }, next, frames.cameras, {
          startup,
          regions,
          warn: (context, message) => logger.warn(context, message),
        }).finally(() => regionsAnnouncer.announce()),
    },
    reported: () => ({
      modelId: detector.backend.modelId,
      modelSha256: detector.backend.modelSha256,
      backend: detector.backend.name,
      streams,
      fps: metrics.rate.perSecond(),
      ...recognitionStatus(),
      // Per camera, for a fleet's queries over twins (IoT Hub's query language reads reported properties).
      sources: byTwinKey(metrics.sources.report().map(({ sourceId, fps, skipped, latencyMs, stale, outages }) => [sourceId, { fps, skipped, latencyMs, stale, outages }] as const)),
    }),
    status: () => ({
      backend: detector.backend.name,
      streams,
      modelId: detector.backend.modelId,
      fps: metrics.rate.perSecond(),
      preset: detector.preset,
      ...recognitionStatus(),
      sources: metrics.sources.report(),
      ...frames.status(),
    }),
  });

  // Its list is complete once the twin's cameras are in (at once without IoT Edge): a preview then drops those a run
  // before listed, removed while this module was down.
  if (edge) void edge.startupApplied.then(() => announcer?.markComplete());
  else announcer?.markComplete();

  const summary = new FrameSummary({ logger, intervalMs: readLogConfig().summaryIntervalMs });
  const service = await startMicroservice({
    module: InferenceModule.forRoot({ detector, reading, detectionsClient, metrics, logger, summary, releasePixels: frames.release, ignoredRegions: () => regions.inForce }),
    strategy: frames.server,
    logger,
    registry,
    metricsPort: config.metricsPort,
    observability,
    health: () => ({
      ...inferenceHealth(detector.backend, { sourcesDown: frames.sourcesDown(), stuckInDetectionMs: metrics.stuckInDetectionMs(), stuckInReadingMs: metrics.stuckInReadingMs() }),
      backend: detector.backend.name,
      streams,
      modelId: detector.backend.modelId,
      ...recognitionStatus(),
      sources: metrics.sources.report(),
      ...frames.status(),
      ...(edge && { iotEdge: { connected: edge.connected } }),
    }),
  });
  logger.info({ ...(decodesOwnSources ? { captureSources: ownSources.map(({ sourceId }) => sourceId) } : { framesConnect: config.framesConnect }), detectionsBind: config.detectionsBind, metricsPort: service.metricsPort }, 'inference listening');

  return {
    // A hang past HANG_EXIT_MS, or edgeHub refusing the credentials: IoT Edge restarts a module whose process exits.
    fatal: Promise.race([metrics.hungTooLong, ...(edge ? [edge.fatal] : [])]),
    async close() {
      await service.close();
      await frames.close?.();
      announcer?.close();
      regionsAnnouncer.close();
      summary.close();
      metrics.close();
      await edge?.close();
      await detectionsClient.close();
      await detector.backend.dispose();
      await reading.dispose();
    },
  };
});
