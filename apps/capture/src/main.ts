import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DECODED_FORMAT_NAMES, prepareSource } from '@iev/capture-sources';
import { EdgeModule } from '@iev/iot-edge';
import { frameCodec, FRAMES_TOPIC } from '@iev/frame-protocol';
import { counterReadAtScrape, createMetricsRegistry, listenAsConfigured, PinoNestLogger, runModule, startObservabilityServer } from '@iev/service-runtime';
import { boundCurve, ClientZmqOnDemand } from '@iev/zmq-transport';
import { captureTwinSpec, readCaptureConfig, readCaptureCurve } from './app/capture.config';
import { CaptureMetrics } from './app/capture.metrics';
import { CaptureModule } from './app/capture.module';
import { CaptureService } from './app/capture.service';

void runModule('capture', async (logger) => {
  const config = readCaptureConfig();
  const curve = readCaptureCurve();
  const startupSettings = { source: config.cameraPath, fps: config.fps, width: config.width, height: config.height };
  const framesClient = new ClientZmqOnDemand({ endpoint: config.framesBind, bind: true, codecs: { [FRAMES_TOPIC]: frameCodec }, curve: boundCurve(curve) });
  const sourceOptions = {
    sourceType: config.sourceType,
    sourceId: config.sourceId,
    loop: config.loop,
    realtime: config.realtime,
    ffmpegPath: config.ffmpegPath,
    gstLaunchPath: config.gstLaunchPath,
    v4l2InputFormat: config.v4l2Format === 'auto' ? undefined : config.v4l2Format,
    // I420 is half the bytes of BGR24 to read from ffmpeg, send, and receive; the consumers convert it where they read it.
    pixelFormat: DECODED_FORMAT_NAMES[config.pixelFormat],
    rtspTransport: config.rtspTransport,
    streamTimeoutSeconds: config.streamTimeout,
    // Frames are cut into reused buffers once the transport no longer sends them.
    bufferHeld: (buffer: ArrayBufferLike) => framesClient.holds(buffer),
  };
  const source = await prepareSource(startupSettings, sourceOptions);
  await listenAsConfigured('FRAMES_BIND', framesClient.connect());
  // Every capture series is about its one source.
  const registry = createMetricsRegistry('capture', { source_id: config.sourceId });
  const metrics = new CaptureMetrics(registry, framesClient);
  let currentSource = source.description;
  // A file that cannot be read is a configuration error; a camera or stream that is not up yet is retried.
  const failFastBeforeFirstFrame = currentSource.type === 'file';
  // A live source silent for CAPTURE_STREAM_TIMEOUT, or three frame intervals at a slow CAPTURE_FPS, is restarted.
  let currentFps = startupSettings.fps;
  const stallTimeoutMs = () => Math.max(config.streamTimeout * 1000, currentFps > 0 ? 3000 / currentFps : 0);
  const app = await NestFactory.createApplicationContext(CaptureModule.forRoot({ createSource: source.create, failFastBeforeFirstFrame, stallTimeoutMs, framesClient, metrics, logger }), {
    logger: new PinoNestLogger(logger),
  });
  const capture = app.get(CaptureService);
  counterReadAtScrape(registry, 'iev_capture_frames_decoded_total', 'Frames the decoder delivered, taken by a consumer or not', () => capture.framesDecoded);
  // Under IoT Edge, connected once the source is up (below); /health answers from the start.
  let edge: EdgeModule<typeof captureTwinSpec> | undefined = undefined;
  const observability = await startObservabilityServer({
    port: config.metricsPort,
    registry,
    health: () => ({
      healthy: capture.state === 'streaming' || capture.state === 'ended',
      source: capture.state,
      lastFrameAt: capture.lastFrameAt,
      ...(edge && { iotEdge: { connected: edge.connected } }),
    }),
  });
  try {
    await capture.start();
  } catch (error) {
    await Promise.all([app.close(), framesClient.close(), observability.close()]);
    throw error;
  }
  logger.info({ source: currentSource.type, framesBind: config.framesBind, metricsPort: observability.port }, 'capture publishing');

  edge = EdgeModule.start({
    name: 'capture',
    logger,
    registry,
    settings: {
      spec: captureTwinSpec,
      startup: startupSettings,
      apply: async (_changes, next) => {
        const prepared = await prepareSource(next, sourceOptions, { requireCamera: true });
        currentFps = next.fps;
        await capture.switchSource(prepared.create);
        currentSource = prepared.description;
      },
    },
    reported: () => ({ sourceType: currentSource.type, fps: metrics.rate.perSecond() }),
    status: () => ({ source: capture.state, sourceType: currentSource.type, fps: metrics.rate.perSecond(), lastFrameAt: capture.lastFrameAt }),
  });

  return {
    fatal: edge?.fatal,
    async close() {
      await edge?.close();
      await app.close();
      await framesClient.close();
      await observability.close();
    },
  };
});
