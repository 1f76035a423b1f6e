import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loggedDecoderMessages, prepareSource, prepareStartupSource, sourceSetup, stallAfterMs, stallSetting } from '@iev/capture-sources';
import { edgeConnectionKind, EdgeModule } from '@iev/iot-edge';
import { frameCodec, FRAMES_TOPIC } from '@iev/frame-protocol';
import { counterReadAtScrape, createMetricsRegistry, gaugeReadAtScrape, listenAsConfigured, PinoNestLogger, readTogether, runModule, startObservabilityServer } from '@iev/service-runtime';
import { boundCurve, ClientZmqOnDemand } from '@iev/zmq-transport';
import { captureTwinSpec, readCaptureConfig, readCaptureCurve } from './app/capture.config';
import { CaptureMetrics } from './app/capture.metrics';
import { CaptureModule } from './app/capture.module';
import { CaptureService } from './app/capture.service';

void runModule('capture', () => readTogether(readCaptureConfig, readCaptureCurve), async (logger, [config, curve]) => {
  const framesClient = new ClientZmqOnDemand({ endpoint: config.framesBind, bind: true, codecs: { [FRAMES_TOPIC]: frameCodec }, curve: boundCurve(curve) });
  // Every capture series is about its one source.
  const registry = createMetricsRegistry('capture', { source_id: config.sourceId });
  const metrics = new CaptureMetrics(registry, framesClient);
  // Frames are cut into reused buffers once the transport no longer sends them.
  const { settings: startupSettings, options: sourceOptions } = sourceSetup(config, {
    bufferHeld: (buffer) => framesClient.holds(buffer),
    onDecoderMessage: loggedDecoderMessages(logger, () => metrics.decoderMessages.inc()),
    onWarning: (message) => logger.warn(message),
  });
  // Under IoT Edge the twin's document at start-up may name another source, which CAPTURE_CROP was meant for: the
  // test pattern's picture is not checked against it then, only its own start (a file's, which stops start-up, too).
  const prepareConfigured = edgeConnectionKind() === 'none' ? prepareStartupSource : prepareSource;
  const source = await prepareConfigured(startupSettings, sourceOptions, { setting: 'CAMERA_PATH', logger });
  await listenAsConfigured('FRAMES_BIND', framesClient.connect());
  let currentSource = source.description;
  // A file that cannot be read is a configuration error; a camera or stream that is not up yet is retried.
  const failFastBeforeFirstFrame = currentSource.type === 'file';
  let currentFps = startupSettings.fps;
  const stallTimeoutMs = () => stallAfterMs(config.streamTimeout, currentFps);
  // The rate's setting is the twin's where the twin changed it, as a crop's (below).
  const stallSettingNow = () =>
    stallSetting({ sourceSetting: 'CAMERA_PATH', streamTimeoutSeconds: config.streamTimeout, fps: currentFps, twinFpsSetting: currentFps === startupSettings.fps ? undefined : 'fps' });
  const app = await NestFactory.createApplicationContext(CaptureModule.forRoot({ source, failFastBeforeFirstFrame, stallTimeoutMs, stallSetting: stallSettingNow, framesClient, metrics, logger }), {
    logger: new PinoNestLogger(logger),
  });
  const capture = app.get(CaptureService);
  counterReadAtScrape(registry, 'iev_capture_frames_decoded_total', 'Frames the decoder delivered, taken by a consumer or not', () => capture.framesDecoded);
  gaugeReadAtScrape(
    registry,
    'iev_capture_source_switch_pending_seconds',
    "How long a make-before-break switch (a twin change) has waited for its new source's first frame, the running source delivering on; 0 with none pending",
    () => capture.switchPendingSeconds,
  );
  // Under IoT Edge, connected once the source is up (below); /health answers from the start.
  let edge: EdgeModule<typeof captureTwinSpec> | undefined = undefined;
  const observability = await startObservabilityServer({
    port: config.metricsPort,
    registry,
    health: () => ({
      healthy: capture.state === 'streaming' || capture.state === 'ended',
      source: capture.state,
      lastFrameAt: capture.lastFrameAt,
      switchPending: capture.switchPending,
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
      apply: async (changes, next, { startup }) => {
        // A patch that leaves the camera as it is (a rate, a size) does not ask for it to be plugged in.
        // Its crop's errors name CAPTURE_CROP where the twin leaves the crop as the environment set it.
        const cropSetting = next.crop === startupSettings.crop ? 'CAPTURE_CROP' : 'crop';
        const prepared = await prepareSource(next, sourceOptions, { setting: 'source', cropSetting, requireCamera: !startup && changes.source !== undefined, logger });
        // A crop the running camera's picture (or a new file's, the test pattern's) cannot hold is refused, the camera
        // left running, not switched to.
        capture.assertCropFits(prepared);
        currentFps = next.fps;
        // The document at start-up is the module's configuration: its camera replaces CAMERA_PATH's, waited for if not up.
        await capture.switchSource(prepared, { atOnce: startup });
        currentSource = prepared.description;
      },
    },
    // null, not left out: a key left out of a report stays in the twin as it was.
    reported: () => ({ sourceType: currentSource.type, fps: metrics.rate.perSecond(), switchPending: capture.switchPending ?? null }),
    status: () => ({ source: capture.state, sourceType: currentSource.type, fps: metrics.rate.perSecond(), lastFrameAt: capture.lastFrameAt, switchPending: capture.switchPending }),
  });

  return {
    fatal: edge?.fatal,
    async close() {
      // Together: the decoder gets its stop signal (and gst-launch its grace, which an Argus camera needs) while the
      // edge connection waits for a twin patch being applied; a switch that patch makes after the stop starts nothing.
      await Promise.all([edge?.close(), app.close()]);
      await framesClient.close();
      await observability.close();
    },
  };
});
