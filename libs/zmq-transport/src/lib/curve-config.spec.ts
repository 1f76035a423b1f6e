import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { curveKeyPair } from 'zeromq';
import { boundCurve, connectingCurve, readCurveSettings } from './curve-config';

const own = curveKeyPair();
const capture = curveKeyPair();
const telemetry = curveKeyPair();
const INFERENCE = { binds: true, connectsTo: ['FRAMES'] } as const;

const directory = mkdtempSync('/tmp/iev-curve-');
afterAll(() => rmSync(directory, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

describe('readCurveSettings', () => {
  it('leaves CURVE off when no variable is set', () => {
    expect(readCurveSettings({}, INFERENCE)).toBeUndefined();
    expect(boundCurve(undefined)).toBeUndefined();
    expect(connectingCurve(undefined, 'FRAMES')).toBeUndefined();
  });

  it('reads the secret key, allowed clients and server key of each link, inline or from files', () => {
    const inline = readCurveSettings(
      { ZMQ_CURVE_SECRET_KEY: own.secretKey, ZMQ_CURVE_CLIENT_KEYS: `${telemetry.publicKey}, ${capture.publicKey}`, FRAMES_CURVE_SERVER_KEY: capture.publicKey },
      INFERENCE,
    );
    const fromFiles = readCurveSettings(
      {
        ZMQ_CURVE_SECRET_KEY_FILE: file('secret', `${own.secretKey}\n`),
        ZMQ_CURVE_CLIENT_KEYS_FILE: file('clients', `${telemetry.publicKey}\n\n${capture.publicKey}\n`),
        FRAMES_CURVE_SERVER_KEY: capture.publicKey,
      },
      INFERENCE,
    );

    expect(inline).toEqual({ secretKey: own.secretKey, clientKeys: [telemetry.publicKey, capture.publicKey], serverKeys: { FRAMES: capture.publicKey } });
    expect(fromFiles).toEqual(inline);
    expect(boundCurve(inline)).toEqual({ secretKey: own.secretKey, clientKeys: [telemetry.publicKey, capture.publicKey] });
    expect(connectingCurve(inline, 'FRAMES')).toEqual({ secretKey: own.secretKey, serverKey: capture.publicKey });
  });

  it('names a bad key, an unreadable file, a missing server key and conflicting variables', () => {
    expect(() => readCurveSettings({ ZMQ_CURVE_SECRET_KEY: 'secret', FRAMES_CURVE_SERVER_KEY: capture.publicKey }, INFERENCE)).toThrow(
      /ZMQ_CURVE_SECRET_KEY must be a CURVE key: 40 characters of Z85/,
    );
    // A secret key a character short is nearly the key: its refusal must not print it.
    expect(() => readCurveSettings({ ZMQ_CURVE_SECRET_KEY: own.secretKey.slice(1), FRAMES_CURVE_SERVER_KEY: capture.publicKey }, INFERENCE)).toThrow(
      /^(?![\s\S]*\(got ")[\s\S]*ZMQ_CURVE_SECRET_KEY must be a CURVE key[\s\S]*\(got a value not shown: it is a secret\)/,
    );
    expect(() => readCurveSettings({ ZMQ_CURVE_SECRET_KEY: own.secretKey, ZMQ_CURVE_CLIENT_KEYS: `${telemetry.publicKey},nope` }, { binds: true, connectsTo: [] })).toThrow(
      /ZMQ_CURVE_CLIENT_KEYS must be a CURVE key.*"nope" is not/,
    );
    expect(() => readCurveSettings({ ZMQ_CURVE_SECRET_KEY_FILE: join(directory, 'missing') }, { binds: true, connectsTo: [] })).toThrow(
      /ZMQ_CURVE_SECRET_KEY_FILE must name a readable file \(ENOENT/,
    );
    expect(() => readCurveSettings({ ZMQ_CURVE_SECRET_KEY: own.secretKey }, INFERENCE)).toThrow(/FRAMES_CURVE_SERVER_KEY is required with ZMQ_CURVE_SECRET_KEY/);
    expect(() => readCurveSettings({ FRAMES_CURVE_SERVER_KEY: capture.publicKey }, INFERENCE)).toThrow(/FRAMES_CURVE_SERVER_KEY set without ZMQ_CURVE_SECRET_KEY/);
    expect(() => readCurveSettings({ ZMQ_CURVE_SECRET_KEY: own.secretKey, ZMQ_CURVE_SECRET_KEY_FILE: file('both', own.secretKey), FRAMES_CURVE_SERVER_KEY: capture.publicKey }, INFERENCE)).toThrow(
      /ZMQ_CURVE_SECRET_KEY and ZMQ_CURVE_SECRET_KEY_FILE are both set/,
    );
  });

  it('reads only the variables of the role: a module that only connects ignores allowed client keys', () => {
    expect(readCurveSettings({ ZMQ_CURVE_SECRET_KEY: own.secretKey, DETECTIONS_CURVE_SERVER_KEY: capture.publicKey, ZMQ_CURVE_CLIENT_KEYS: 'ignored' }, { binds: false, connectsTo: ['DETECTIONS'] })).toEqual({
      secretKey: own.secretKey,
      clientKeys: undefined,
      serverKeys: { DETECTIONS: capture.publicKey },
    });
  });
});
