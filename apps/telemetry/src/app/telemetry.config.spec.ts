import { curveKeyPair } from 'zeromq';
import { readTelemetryConfig, readTelemetryCurve } from './telemetry.config';

describe('telemetry configuration', () => {
  it('picks the sink by environment and sends one message per frame unless told to aggregate', () => {
    expect(readTelemetryConfig({})).toMatchObject({ sink: 'auto', outputName: 'detections', aggregateFrames: 1, aggregateIntervalMs: 0, upstreamQueueCapacity: 1000 });
  });

  it('calls /health degraded after a minute without detections or edgeHub unless told otherwise', () => {
    expect(readTelemetryConfig({})).toMatchObject({ silenceLimitMs: 60_000, upstreamGraceMs: 60_000 });
    expect(readTelemetryConfig({ TELEMETRY_SILENCE_MS: '0', TELEMETRY_UPSTREAM_GRACE_MS: '5000' })).toMatchObject({ silenceLimitMs: 0, upstreamGraceMs: 5000 });
  });

  it('forgets a silent camera no announcement lists after an hour unless told otherwise', () => {
    expect(readTelemetryConfig({})).toMatchObject({ forgetSourceMs: 3_600_000 });
    expect(readTelemetryConfig({ TELEMETRY_FORGET_SOURCE_MS: '0' })).toMatchObject({ forgetSourceMs: 0 });
    expect(() => readTelemetryConfig({ TELEMETRY_FORGET_SOURCE_MS: '1 h' })).toThrow(/TELEMETRY_FORGET_SOURCE_MS must be an integer from 0 to 86400000/);
  });

  it('names every bad variable', () => {
    expect(() => readTelemetryConfig({ TELEMETRY_SINK: 'kafka', TELEMETRY_AGGREGATE_FRAMES: '0', TELEMETRY_UPSTREAM_QUEUE: 'lots' })).toThrow(
      /TELEMETRY_SINK must be one of auto, console, iotedge[\s\S]*TELEMETRY_AGGREGATE_FRAMES must be an integer from 1 to 100000[\s\S]*TELEMETRY_UPSTREAM_QUEUE must be an integer/,
    );
    expect(() => readTelemetryConfig({ TELEMETRY_SILENCE_MS: '-1', TELEMETRY_UPSTREAM_GRACE_MS: '1 min' })).toThrow(
      /TELEMETRY_SILENCE_MS must be an integer from 0 to 86400000[\s\S]*TELEMETRY_UPSTREAM_GRACE_MS must be an integer from 0 to 86400000/,
    );
  });

  it('needs inference\'s public key in DETECTIONS_CURVE_SERVER_KEY once CURVE is on', () => {
    const own = curveKeyPair();
    const inference = curveKeyPair();
    expect(readTelemetryCurve({ ZMQ_CURVE_SECRET_KEY: own.secretKey, DETECTIONS_CURVE_SERVER_KEY: inference.publicKey })).toMatchObject({ serverKeys: { DETECTIONS: inference.publicKey } });
    expect(() => readTelemetryCurve({ ZMQ_CURVE_SECRET_KEY: own.secretKey })).toThrow(/DETECTIONS_CURVE_SERVER_KEY is required with ZMQ_CURVE_SECRET_KEY/);
    expect(() => readTelemetryCurve({ ZMQ_CURVE_SECRET_KEY: own.secretKey, DETECTIONS_CURVE_SERVER_KEY: 'inference' })).toThrow(/DETECTIONS_CURVE_SERVER_KEY must be a CURVE key/);
  });
});
