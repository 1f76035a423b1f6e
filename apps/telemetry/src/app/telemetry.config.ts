import { env, readConfig, type ConfigOf } from '@iev/service-runtime';
import { readCurveSettings, type CurveSettings } from '@iev/zmq-transport';

const aggregateFrames = (name: string) => env.integer(name, { min: 1, max: 100_000 }, 1);
const aggregateIntervalMs = (name: string) => env.integer(name, { min: 0, max: 86_400_000 }, 0);

export const telemetryConfigSpec = {
  detectionsConnect: env.endpoint('DETECTIONS_CONNECT', 'tcp://127.0.0.1:5556'),
  /** auto: IoT Edge when the module runs under IoT Edge (or has a connection string), else the console. */
  sink: env.oneOf('TELEMETRY_SINK', ['auto', 'console', 'iotedge'] as const, 'auto'),
  consoleFormat: env.oneOf('CONSOLE_FORMAT', ['text', 'json'] as const, 'text'),
  queueCapacity: env.integer('TELEMETRY_QUEUE_CAPACITY', { min: 1, max: 1_000_000 }, 1000),
  outputName: env.string('TELEMETRY_OUTPUT', 'detections'),
  aggregateFrames: aggregateFrames('TELEMETRY_AGGREGATE_FRAMES'),
  aggregateIntervalMs: aggregateIntervalMs('TELEMETRY_AGGREGATE_INTERVAL_MS'),
  upstreamQueueCapacity: env.integer('TELEMETRY_UPSTREAM_QUEUE', { min: 1, max: 1_000_000 }, 1000),
  /** No detections from any source for this long (or three of a source's own intervals, if slower) is degraded; 0: never. */
  silenceLimitMs: env.integer('TELEMETRY_SILENCE_MS', { min: 0, max: 86_400_000 }, 60_000),
  /**
   * A source inference does not announce (a capture module's camera) with no detections for this long leaves the
   * per-source series and summaries, as a camera removed from the deployment or renamed; 0: never.
   */
  forgetSourceMs: env.integer('TELEMETRY_FORGET_SOURCE_MS', { min: 0, max: 86_400_000 }, 3_600_000),
  /** edgeHub away this long is degraded: IoT Edge's boot order (edgeHub after the modules) and an edgeHub restart fit in it. */
  upstreamGraceMs: env.integer('TELEMETRY_UPSTREAM_GRACE_MS', { min: 0, max: 86_400_000 }, 60_000),
  metricsPort: env.integer('METRICS_PORT', { min: 0, max: 65535 }, 9103),
};

export type TelemetryConfig = ConfigOf<typeof telemetryConfigSpec>;

export const readTelemetryConfig = (source: NodeJS.ProcessEnv = process.env): TelemetryConfig => readConfig(telemetryConfigSpec, source);

/** ZMQ_CURVE_SECRET_KEY(_FILE) and DETECTIONS_CURVE_SERVER_KEY (inference's public key): CURVE on the detections it connects to; unset: plain. */
export const readTelemetryCurve = (source: NodeJS.ProcessEnv = process.env): CurveSettings | undefined => readCurveSettings(source, { binds: false, connectsTo: ['DETECTIONS'] });

/** Module twin desired properties telemetry applies live: the upstream message rate and aggregation. */
export const telemetryTwinSpec = {
  aggregateFrames: aggregateFrames('aggregateFrames'),
  aggregateIntervalMs: aggregateIntervalMs('aggregateIntervalMs'),
};
