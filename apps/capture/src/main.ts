import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createFrameSource, ensureDecoderInstalled, resolveSource, type FrameSourceOptions } from '@iev/capture-sources';
import { frameCodec, FRAMES_TOPIC } from '@iev/frame-protocol';
import { createMetricsRegistry, PinoNestLogger, runModule, startObservabilityServer } from '@iev/service-runtime';
import { ClientZmq } from '@iev/zmq-transport';
import { readCaptureConfig } from './app/capture.config';
import { CaptureMetrics } from './app/capture.metrics';
import { CaptureModule } from './app/capture.module';
import { CaptureService } from './app/capture.service';

void runModule('capture', async (logger) => {
  const config = readCaptureConfig();
  const source = resolveSource(config.cameraPath, config.sourceType);
  const sourceOptions: FrameSourceOptions = {
    sourceId: config.sourceId,
    loop: config.loop,
    realtime: config.realtime,
    width: config.width || undefined,
    height: config.height || undefined,
    fps: config.fps || undefined,
    ffmpegPath: config.ffmpegPath,
    gstLaunchPath: config.gstLaunchPath,
    v4l2InputFormat: config.v4l2Format === 'auto' ? undefined : config.v4l2Format,
    rtspTransport: config.rtspTransport,
    streamTimeoutSeconds: config.streamTimeout,
  };
  await ensureDecoderInstalled(source, sourceOptions);

  const framesClient = new ClientZmq({ endpoint: config.framesBind, bind: true, codecs: { [FRAMES_TOPIC]: frameCodec } });
  await framesClient.connect();
  const registry = createMetricsRegistry('capture');
  const metrics = new CaptureMetrics(registry);
  const createSource = () => createFrameSource(source, sourceOptions);
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

  return {
    async close() {
      await app.close();
      await framesClient.close();
      await observability.close();
    },
  };
});
