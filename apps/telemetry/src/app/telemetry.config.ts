import { ConfigError, env, optional, readConfig, type ConfigOf, type EnvVar } from '@iev/service-runtime';
import { readCurveSettings, type CurveSettings } from '@iev/zmq-transport';
import { setFlagsFromString } from 'node:v8';

const aggregateFrames = (name: string) => env.integer(name, { min: 1, max: 100_000 }, 1);
const aggregateIntervalMs = (name: string) => env.integer(name, { min: 0, max: 86_400_000 }, 0);

/** A JavaScript regular expression, without flags (`[Aa]` for either case); a text matches where it is found in it (`^...$` for whole texts). */
const regularExpression = (name: string): EnvVar<RegExp> => ({
  names: [name],
  parse: (raw) => {
    if (raw.trim() === '') throw new Error('must not be empty');
    // A literal as JavaScript writes it would look for its slashes and flags in the text: silently, nothing would match.
    if (/^\/.*\/[dgimsuvy]*$/.test(raw.trim())) throw new Error('must be the expression alone, without slashes or flags (`^[Ee][Xx][Ii][Tt]$` for either case)');
    // Every text read is tested, a sign anyone holds up included: an expression such as `^([A-Z0-9]+ ?)*$` backtracks
    // for minutes on 30 characters it fails at the end, holding every camera. V8 finishes such a run in its linear
    // engine, which takes every expression but those with backreferences or lookarounds.
    setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
    try {
      return new RegExp(raw.trim());
    } catch (error) {
      throw new Error(`must be a regular expression: ${(error as Error).message}`);
    }
  },
  fallback: undefined,
  required: true,
  description: 'a regular expression',
});

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
  /** on: events about the lines read (text-appeared, -changed, -gone) instead of the frames or their summaries. */
  events: env.oneOf('TELEMETRY_EVENTS', ['on', 'off'] as const, 'off'),
  /** A line not seen for this long has gone (TextEvents): long enough that a sign hidden for a moment does not go. */
  textGoneMs: env.integer('TELEMETRY_TEXT_GONE_MS', { min: 100, max: 86_400_000 }, 2000),
  /** A line's new text is sent once read that way this many times in a row (1: at once): a misread taken back sends nothing. */
  textConfirmReads: env.integer('TELEMETRY_TEXT_CONFIRM_READS', { min: 1, max: 100 }, 1),
  /** Only lines whose text matches are sent (per frame, in summaries' texts) or make events. */
  textMatch: optional(regularExpression('TELEMETRY_TEXT_MATCH')),
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

/** The configuration; events replace the frames and their summaries, so aggregation set beside them is refused, naming both. */
export function readTelemetryConfig(source: NodeJS.ProcessEnv = process.env): TelemetryConfig {
  const config = readConfig(telemetryConfigSpec, source);
  if (config.events === 'on') {
    try {
      refuseAggregationBesideEvents(config, { frames: 'TELEMETRY_AGGREGATE_FRAMES', intervalMs: 'TELEMETRY_AGGREGATE_INTERVAL_MS' });
    } catch (error) {
      throw new ConfigError([(error as Error).message]);
    }
  }
  return config;
}

/**
 * Throws, naming each setting (`names`) that aggregates: events replace the frames and their summaries, so only the
 * values that mean no aggregation (1 frame, 0 ms) go beside them.
 */
export function refuseAggregationBesideEvents(aggregation: { aggregateFrames: number; aggregateIntervalMs: number }, names: { frames: string; intervalMs: string }): void {
  const aggregating = [
    ...(aggregation.aggregateFrames !== 1 ? [`${names.frames}=${aggregation.aggregateFrames}`] : []),
    ...(aggregation.aggregateIntervalMs !== 0 ? [`${names.intervalMs}=${aggregation.aggregateIntervalMs}`] : []),
  ];
  if (aggregating.length > 0) {
    throw new Error(`TELEMETRY_EVENTS=on sends events about the lines instead of frames or their summaries: unset ${aggregating.join(' and ')} (or set TELEMETRY_EVENTS=off)`);
  }
}

/** ZMQ_CURVE_SECRET_KEY(_FILE) and DETECTIONS_CURVE_SERVER_KEY (inference's public key): CURVE on the detections it connects to; unset: plain. */
export const readTelemetryCurve = (source: NodeJS.ProcessEnv = process.env): CurveSettings | undefined => readCurveSettings(source, { binds: false, connectsTo: ['DETECTIONS'] });

/** Module twin desired properties telemetry applies live: the upstream message rate and aggregation. */
export const telemetryTwinSpec = {
  aggregateFrames: aggregateFrames('aggregateFrames'),
  aggregateIntervalMs: aggregateIntervalMs('aggregateIntervalMs'),
};
