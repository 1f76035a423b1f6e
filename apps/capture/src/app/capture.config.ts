import { sourceConfigSpec, sourceTwinSpec } from '@iev/capture-sources';
import { assertOwnPorts, bindOnListenHost, endpointAddress, env, listenHost, readConfig, type ConfigOf } from '@iev/service-runtime';
import { readCurveSettings, type CurveSettings } from '@iev/zmq-transport';

export const captureConfigSpec = {
  ...sourceConfigSpec,
  framesBind: env.endpoint('FRAMES_BIND', bindOnListenHost(5555)),
  metricsPort: env.integer('METRICS_PORT', { min: 0, max: 65535 }, 9101),
};

export type CaptureConfig = ConfigOf<typeof captureConfigSpec>;

export function readCaptureConfig(source: NodeJS.ProcessEnv = process.env): CaptureConfig {
  const config = readConfig(captureConfigSpec, source);
  assertOwnPorts({ FRAMES_BIND: endpointAddress(config.framesBind), METRICS_PORT: { host: listenHost(source), port: config.metricsPort } });
  return config;
}

/** ZMQ_CURVE_SECRET_KEY(_FILE) and ZMQ_CURVE_CLIENT_KEYS(_FILE): CURVE on the frames socket capture binds; unset: plain. */
export const readCaptureCurve = (source: NodeJS.ProcessEnv = process.env): CurveSettings | undefined => readCurveSettings(source, { binds: true, connectsTo: [] });

/** Module twin desired properties capture applies live by restarting its source. */
export const captureTwinSpec = sourceTwinSpec;
