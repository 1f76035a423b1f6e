import 'reflect-metadata';
import { access } from 'node:fs/promises';
import { NestFactory } from '@nestjs/core';
import { createFrameSource, ensureDecoderInstalled, resolveSource, type FrameSourceOptions, type SourceDescription } from '@iev/capture-sources';
import { EdgeModule } from '@iev/iot-edge';
import { frameCodec, FRAMES_TOPIC } from '@iev/frame-protocol';
import { createMetricsRegistry, PinoNestLogger, runModule, startObservabilityServer } from '@iev/service-runtime';
import { ClientZmq } from '@iev/zmq-transport';
import { captureTwinSpec, readCaptureConfig, type CaptureConfig } from './app/capture.config';
import { CaptureMetrics } from './app/capture.metrics';
import { CaptureModule } from './app/capture.module';
import { CaptureService } from './app/capture.service';

void runModule('capture', async (logger) => {
  const config = readCaptureConfig();
  const startupSettings = { source: config.cameraPath, fps: config.fps, width: config.width, height: config.height };
  const { source, sourceOptions } = await prepareSource(config, startupSettings);

  const framesClient = new ClientZmq({ endpoint: config.framesBind, bind: true, codecs: { [FRAMES_TOPIC]: frameCodec } });
  await framesClient.connect();
  // Every capture series is about its one source.
  const registry = createMetricsRegistry('capture', { source_id: config.sourceId });
  const metrics = new CaptureMetrics(registry);
  const createSource = () => createFrameSource(source, sourceOptions);
  let currentSource = source;
  // A file that cannot be read is a configuration error; a camera or stream that is not up yet is retried.
  const failFastBeforeFirstFrame = source.type === 'file';
  const app = await NestFactory.createApplicationContext(CaptureModule.forRoot({ createSource, failFastBeforeFirstFrame, framesClient, metrics, logger }), {
    logger: new PinoNestLogger(logger),
  });
  const capture = app.get(CaptureService);
  const observability = await startObservabilityServer({
    port: config.metricsPort,
    registry,
    health: () => ({ healthy: capture.state === 'streaming' || capture.state === 'ended', source: capture.state, lastFrameAt: capture.lastFrameAt }),
  });
  try {
    await capture.start();
  } catch (error) {
    await Promise.all([app.close(), framesClient.close(), observability.close()]);
    throw error;
  }
  logger.info({ source: source.type, framesBind: config.framesBind, metricsPort: observability.port }, 'capture publishing');

  const edge = EdgeModule.start({
    name: 'capture',
    logger,
    registry,
    settings: {
      spec: captureTwinSpec,
      startup: startupSettings,
      apply: async (_changes, next) => {
        const prepared = await prepareSource(config, next, { requireCamera: true });
        await capture.switchSource(() => createFrameSource(prepared.source, prepared.sourceOptions));
        currentSource = prepared.source;
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

/**
 * Resolves CAMERA_PATH (or the twin's `source`) with the frame size and rate, and checks what can be checked
 * before the source starts: the decoder is installed and a video file is readable. At start-up a failure stops
 * the module (a camera that is not plugged in yet is waited for); for a twin change it rejects the change, a
 * missing camera included, and the running source stays.
 */
async function prepareSource(
  config: CaptureConfig,
  settings: { source: string; fps: number; width: number; height: number },
  { requireCamera = false } = {},
): Promise<{ source: SourceDescription; sourceOptions: FrameSourceOptions }> {
  const source = resolveSource(settings.source, config.sourceType);
  const sourceOptions: FrameSourceOptions = {
    sourceId: config.sourceId,
    loop: config.loop,
    realtime: config.realtime,
    width: settings.width || undefined,
    height: settings.height || undefined,
    fps: settings.fps || undefined,
    ffmpegPath: config.ffmpegPath,
    gstLaunchPath: config.gstLaunchPath,
    v4l2InputFormat: config.v4l2Format === 'auto' ? undefined : config.v4l2Format,
    rtspTransport: config.rtspTransport,
    streamTimeoutSeconds: config.streamTimeout,
  };
  await ensureDecoderInstalled(source, sourceOptions);
  if (source.type === 'file') {
    await access(source.path).catch(() => {
      throw new Error(`video file ${source.path} does not exist or cannot be read`);
    });
  }
  if (source.type === 'v4l2' && requireCamera) {
    await access(source.device).catch(() => {
      throw new Error(`camera ${source.device} does not exist on this device`);
    });
  }
  return { source, sourceOptions };
}
