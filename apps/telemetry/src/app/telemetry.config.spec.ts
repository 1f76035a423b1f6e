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

  it('sends events only when told to, says a line has gone after 2 s unseen, and filters no text unless given an expression', () => {
    expect(readTelemetryConfig({})).toMatchObject({ events: 'off', textGoneMs: 2000, textConfirmReads: 1, textMatch: undefined });
    const config = readTelemetryConfig({ TELEMETRY_EVENTS: 'on', TELEMETRY_TEXT_GONE_MS: '5000', TELEMETRY_TEXT_CONFIRM_READS: '2', TELEMETRY_TEXT_MATCH: '^[A-Z]{3} \\d{3}$' });
    expect(config).toMatchObject({ events: 'on', textGoneMs: 5000, textConfirmReads: 2 });
    expect(config.textMatch?.test('ABC 123')).toBe(true);
    expect(config.textMatch?.test('open 24h')).toBe(false);
  });

  it('refuses a number of reads to confirm a new text that is not an integer from 1 to 100, naming the variable', () => {
    for (const raw of ['0', '101', '1.5', 'two']) {
      expect(() => readTelemetryConfig({ TELEMETRY_TEXT_CONFIRM_READS: raw })).toThrow(/TELEMETRY_TEXT_CONFIRM_READS must be an integer from 1 to 100/);
    }
  });

  it('refuses a text filter that is not a regular expression, naming the variable', () => {
    expect(() => readTelemetryConfig({ TELEMETRY_TEXT_MATCH: '[A-Z' })).toThrow(/TELEMETRY_TEXT_MATCH must be a regular expression: .*Unterminated character class.* \(got "\[A-Z"\)/);
    expect(() => readTelemetryConfig({ TELEMETRY_TEXT_MATCH: ' ' })).toThrow(/TELEMETRY_TEXT_MATCH must not be empty/);
    // Written as a JavaScript literal it would look for the slashes and the flag in the text: nothing would match, silently.
    expect(() => readTelemetryConfig({ TELEMETRY_TEXT_MATCH: '/^exit$/i' })).toThrow(/TELEMETRY_TEXT_MATCH must be the expression alone, without slashes or flags.*\(got "\/\^exit\$\/i"\)/);
  });

  it('takes a text filter that backtracks exponentially on a text it fails at the end within milliseconds, not the seconds that hold every camera', () => {
    // Any text seen (a sign held up to a camera) is tested: 30 characters took ~6 s here, each one more twice that.
    const { textMatch } = readTelemetryConfig({ TELEMETRY_TEXT_MATCH: '^([A-Z0-9]+ ?)*$' });
    const started = performance.now();
    expect(textMatch?.test(`${'KA05MX2931'.repeat(3)}!`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
    expect(textMatch?.test('KA05MX 2931')).toBe(true);
  });

  it('refuses events with aggregation, naming both variables', () => {
    expect(() => readTelemetryConfig({ TELEMETRY_EVENTS: 'on', TELEMETRY_AGGREGATE_INTERVAL_MS: '10000' })).toThrow(
      /TELEMETRY_EVENTS=on sends events about the lines instead of frames or their summaries: unset TELEMETRY_AGGREGATE_INTERVAL_MS=10000/,
    );
    expect(() => readTelemetryConfig({ TELEMETRY_EVENTS: 'on', TELEMETRY_AGGREGATE_FRAMES: '25', TELEMETRY_AGGREGATE_INTERVAL_MS: '10000' })).toThrow(
      /unset TELEMETRY_AGGREGATE_FRAMES=25 and TELEMETRY_AGGREGATE_INTERVAL_MS=10000/,
    );
    expect(readTelemetryConfig({ TELEMETRY_EVENTS: 'off', TELEMETRY_AGGREGATE_INTERVAL_MS: '10000' })).toMatchObject({ events: 'off', aggregateIntervalMs: 10000 });
  });

  it('needs inference\'s public key in DETECTIONS_CURVE_SERVER_KEY once CURVE is on', () => {
    const own = curveKeyPair();
    const inference = curveKeyPair();
    expect(readTelemetryCurve({ ZMQ_CURVE_SECRET_KEY: own.secretKey, DETECTIONS_CURVE_SERVER_KEY: inference.publicKey })).toMatchObject({ serverKeys: { DETECTIONS: inference.publicKey } });
    expect(() => readTelemetryCurve({ ZMQ_CURVE_SECRET_KEY: own.secretKey })).toThrow(/DETECTIONS_CURVE_SERVER_KEY is required with ZMQ_CURVE_SECRET_KEY/);
    expect(() => readTelemetryCurve({ ZMQ_CURVE_SECRET_KEY: own.secretKey, DETECTIONS_CURVE_SERVER_KEY: 'inference' })).toThrow(/DETECTIONS_CURVE_SERVER_KEY must be a CURVE key/);
  });
});
