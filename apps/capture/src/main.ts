import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { VideoFileSource } from '@iev/capture-sources';
import { frameCodec, FRAMES_TOPIC } from '@iev/frame-protocol';
import { createMetricsRegistry, PinoNestLogger, runModule, startObservabilityServer } from '@iev/service-runtime';
import { ClientZmq } from '@iev/zmq-transport';
import { readCaptureConfig } from './app/capture.config';
import { CaptureMetrics } from './app/capture.metrics';
import { CaptureModule } from './app/capture.module';
import { CaptureService } from './app/capture.service';
import { describeCameraPath } from './app/source-kind';

void runModule('capture', async (logger) => {
  const config = readCaptureConfig();
  const kind = describeCameraPath(config.cameraPath);
  if (kind !== 'file') throw new Error(`CAMERA_PATH is ${kind} (${config.cameraPath}); this version captures from video files only`);

  const framesClient = new ClientZmq({ endpoint: config.framesBind, bind: true, codecs: { [FRAMES_TOPIC]: frameCodec } });
  await framesClient.connect();
  const registry = createMetricsRegistry('capture');
  const metrics = new CaptureMetrics(registry);
  const createSource = () =>
    new VideoFileSource({
      path: config.cameraPath,
      sourceId: config.sourceId,
      loop: config.loop,
      realtime: config.realtime,
      width: config.width || undefined,
      height: config.height || undefined,
      fps: config.fps || undefined,
      ffmpegPath: config.ffmpegPath,
    });
  const app = await NestFactory.createApplicationContext(CaptureModule.forRoot({ createSource, framesClient, metrics, logger }), {
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
  logger.info({ cameraPath: config.cameraPath, framesBind: config.framesBind, metricsPort: observability.port }, 'capture publishing');

  return {
    async close() {
      await app.close();
      await framesClient.close();
      await observability.close();
    },
  };
});
