import { env, readConfig, type ConfigOf } from '@iev/service-runtime';

export const telemetryConfigSpec = {
  detectionsConnect: env.endpoint('DETECTIONS_CONNECT', 'tcp://127.0.0.1:5556'),
  sink: env.oneOf('TELEMETRY_SINK', ['console'] as const, 'console'),
  consoleFormat: env.oneOf('CONSOLE_FORMAT', ['text', 'json'] as const, 'text'),
  queueCapacity: env.integer('TELEMETRY_QUEUE_CAPACITY', { min: 1, max: 1_000_000 }, 1000),
  metricsPort: env.integer('METRICS_PORT', { min: 0, max: 65535 }, 9103),
};

export type TelemetryConfig = ConfigOf<typeof telemetryConfigSpec>;

export const readTelemetryConfig = (source: NodeJS.ProcessEnv = process.env): TelemetryConfig => readConfig(telemetryConfigSpec, source);
