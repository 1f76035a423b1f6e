import { env, readConfig, type ConfigOf } from '@iev/service-runtime';

export const captureConfigSpec = {
  /** The original sample's variable: a video file (or, later, a camera / GStreamer pipeline / URL). */
  cameraPath: env.string('CAMERA_PATH', 'assets/demo/demo.mp4'),
  sourceType: env.oneOf('CAPTURE_SOURCE', ['auto', 'file'] as const, 'auto'),
  sourceId: env.string('SOURCE_ID', 'camera0'),
  loop: env.boolean('CAPTURE_LOOP', true),
  realtime: env.boolean('CAPTURE_REALTIME', true),
  width: env.integer('CAPTURE_WIDTH', { min: 0, max: 16384 }, 0),
  height: env.integer('CAPTURE_HEIGHT', { min: 0, max: 16384 }, 0),
  fps: env.number('CAPTURE_FPS', { min: 0, max: 1000 }, 0),
  ffmpegPath: env.string('FFMPEG_PATH', 'ffmpeg'),
  framesBind: env.endpoint('FRAMES_BIND', 'tcp://*:5555'),
  metricsPort: env.integer('METRICS_PORT', { min: 0, max: 65535 }, 9101),
};

export type CaptureConfig = ConfigOf<typeof captureConfigSpec>;

export const readCaptureConfig = (source: NodeJS.ProcessEnv = process.env): CaptureConfig => readConfig(captureConfigSpec, source);
