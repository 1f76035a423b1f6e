import { DECODED_FORMAT_NAMES, SOURCE_TYPE_OVERRIDES } from '@iev/capture-sources';
import { bindOnListenHost, env, optional, readConfig, type ConfigOf } from '@iev/service-runtime';
import { readCurveSettings, type CurveSettings } from '@iev/zmq-transport';

const frameSize = (name: string) => env.integer(name, { min: 0, max: 16384 }, 0);
const frameRate = (name: string) => env.number(name, { min: 0, max: 1000 }, 0);

export const captureConfigSpec = {
  /** The original sample's variable: a video file, /dev/videoN, a GStreamer pipeline, a stream URL or `testsrc`. */
  cameraPath: env.string('CAMERA_PATH', 'assets/demo/demo.mp4'),
  sourceType: env.oneOf('CAPTURE_SOURCE', SOURCE_TYPE_OVERRIDES, 'auto'),
  sourceId: env.string('SOURCE_ID', 'camera0'),
  loop: env.boolean('CAPTURE_LOOP', true),
  realtime: env.boolean('CAPTURE_REALTIME', true),
  width: frameSize('CAPTURE_WIDTH'),
  height: frameSize('CAPTURE_HEIGHT'),
  fps: frameRate('CAPTURE_FPS'),
  v4l2Format: env.oneOf('CAPTURE_V4L2_FORMAT', ['auto', 'mjpeg', 'yuyv422'] as const, 'auto'),
  /** What frames cross to the other modules as, from ffmpeg (a GStreamer pipeline's are BGR24). */
  pixelFormat: env.oneOf('CAPTURE_PIXEL_FORMAT', Object.keys(DECODED_FORMAT_NAMES) as Array<keyof typeof DECODED_FORMAT_NAMES>, 'i420'),
  rtspTransport: env.oneOf('CAPTURE_RTSP_TRANSPORT', ['tcp', 'udp'] as const, 'tcp'),
  streamTimeout: env.number('CAPTURE_STREAM_TIMEOUT', { min: 0.1, max: 600 }, 10),
  /** Unset: ffmpeg on PATH, else the one npm installed (capture-sources' defaultFfmpegPath). */
  ffmpegPath: optional(env.string('FFMPEG_PATH')),
  gstLaunchPath: env.string('GST_LAUNCH_PATH', 'gst-launch-1.0'),
  framesBind: env.endpoint('FRAMES_BIND', bindOnListenHost(5555)),
  metricsPort: env.integer('METRICS_PORT', { min: 0, max: 65535 }, 9101),
};

export type CaptureConfig = ConfigOf<typeof captureConfigSpec>;

export const readCaptureConfig = (source: NodeJS.ProcessEnv = process.env): CaptureConfig => readConfig(captureConfigSpec, source);

/** ZMQ_CURVE_SECRET_KEY(_FILE) and ZMQ_CURVE_CLIENT_KEYS(_FILE): CURVE on the frames socket capture binds; unset: plain. */
export const readCaptureCurve = (source: NodeJS.ProcessEnv = process.env): CurveSettings | undefined => readCurveSettings(source, { binds: true, connectsTo: [] });

/** Module twin desired properties capture applies live by restarting its source: what CAMERA_PATH and CAPTURE_* set. */
export const captureTwinSpec = {
  source: env.string('source'),
  fps: frameRate('fps'),
  width: frameSize('width'),
  height: frameSize('height'),
};
