import { ConfigError } from '@iev/service-runtime';
import { curveKeyPair } from 'zeromq';
import { readPreviewConfig, readPreviewCurve } from './preview.config';

describe('preview configuration', () => {
  it('listens on 127.0.0.1:8080 at 5 fps unless told otherwise, and shows the three modules', () => {
    expect(readPreviewConfig({})).toMatchObject({ host: '127.0.0.1', port: 8080, fps: 5, sources: ['camera0'], silenceLimitMs: 60_000, metricsPort: 9104 });
    expect(Object.keys(readPreviewConfig({}).healthUrls)).toEqual(['capture', 'inference', 'telemetry']);
    expect(readPreviewConfig({ LISTEN_HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(readPreviewConfig({ LISTEN_HOST: '0.0.0.0', PREVIEW_HOST: '10.0.0.2' }).host).toBe('10.0.0.2');
    expect(readPreviewConfig({ HEALTH_URLS: 'capture=http://capture:9101/health' }).healthUrls).toEqual({ capture: 'http://capture:9101/health' });
  });

  it('names every bad variable', () => {
    expect(() => readPreviewConfig({ PREVIEW_PORT: '80000', PREVIEW_FPS: '0', HEALTH_URLS: 'capture:9101', FRAMES_CONNECT: 'localhost' })).toThrow(
      /FRAMES_CONNECT must be ZeroMQ endpoints[\s\S]*PREVIEW_PORT must be an integer[\s\S]*PREVIEW_FPS must be a number from 0.1 to 30[\s\S]*HEALTH_URLS must be name=http/,
    );
    expect(() => readPreviewConfig({ PREVIEW_SILENCE_MS: '1m' })).toThrow(/PREVIEW_SILENCE_MS must be an integer from 0 to 86400000/);
  });

  it('stops on a health URL fetch could never take, or a module named twice', () => {
    for (const bad of ['capture=http://capture:99999/health', 'capture=http://[::1/health']) {
      expect(() => readPreviewConfig({ HEALTH_URLS: bad })).toThrow(ConfigError);
      expect(() => readPreviewConfig({ HEALTH_URLS: bad })).toThrow(/HEALTH_URLS must be name=http:\/\/host:port\/health pairs/);
    }
    expect(() => readPreviewConfig({ HEALTH_URLS: 'capture=http://a:9101/health,inference=http://b:9102/health,capture=http://c:9101/health' })).toThrow(
      /HEALTH_URLS must name each module once; repeated: capture/,
    );
    expect(readPreviewConfig({ HEALTH_URLS: 'capture=http://[::1]:9101/health' }).healthUrls).toEqual({ capture: 'http://[::1]:9101/health' });
  });

  it('refuses an empty entry in its comma-separated lists, naming its place, as FRAMES_CONNECT does', () => {
    expect(() => readPreviewConfig({ PREVIEW_SOURCES: 'camera0,,camera2' })).toThrow('PREVIEW_SOURCES must not have empty entries: entry 2 of 3 is empty (got "camera0,,camera2")');
    expect(() => readPreviewConfig({ PREVIEW_SOURCES: 'camera0,' })).toThrow('PREVIEW_SOURCES must not have empty entries: entry 2 of 2 is empty');
    expect(() => readPreviewConfig({ HEALTH_URLS: ',capture=http://capture:9101/health,,' })).toThrow('HEALTH_URLS must not have empty entries: entries 1, 3, 4 of 4 are empty');
    expect(() => readPreviewConfig({ PREVIEW_SOURCES: ' ' })).toThrow('PREVIEW_SOURCES must name at least one source id');
    expect(() => readPreviewConfig({ FRAMES_CONNECT: 'tcp://a:5555,,tcp://b:5555' })).toThrow(ConfigError);
    expect(readPreviewConfig({ PREVIEW_SOURCES: ' camera0 , door ' }).sources).toEqual(['camera0', 'door']);
  });

  it('refuses PREVIEW_PORT and METRICS_PORT on one port, naming both, rather than failing later as if another instance held it', () => {
    expect(() => readPreviewConfig({ PREVIEW_PORT: '17480', METRICS_PORT: '17480' })).toThrow('PREVIEW_PORT and METRICS_PORT are both port 17480: each needs a port of its own');
    expect(() => readPreviewConfig({ PREVIEW_PORT: '9104' })).toThrow('PREVIEW_PORT and METRICS_PORT are both port 9104');
    expect(readPreviewConfig({ PREVIEW_PORT: '0', METRICS_PORT: '0' })).toMatchObject({ port: 0, metricsPort: 0 });
    // On two addresses one port is two listens; on every address it is the same as on any one.
    expect(readPreviewConfig({ PREVIEW_HOST: '127.0.0.2', PREVIEW_PORT: '17480', METRICS_PORT: '17480' })).toMatchObject({ port: 17480, metricsPort: 17480 });
    expect(() => readPreviewConfig({ LISTEN_HOST: '0.0.0.0', PREVIEW_HOST: '127.0.0.2', PREVIEW_PORT: '17480', METRICS_PORT: '17480' })).toThrow('PREVIEW_PORT and METRICS_PORT are both port 17480');
  });

  it('turns CURVE on for both links it connects, needing each server key', () => {
    const [own, capture, inference] = [curveKeyPair(), curveKeyPair(), curveKeyPair()];
    expect(readPreviewCurve({})).toBeUndefined();
    expect(readPreviewCurve({ ZMQ_CURVE_SECRET_KEY: own.secretKey, FRAMES_CURVE_SERVER_KEY: capture.publicKey, DETECTIONS_CURVE_SERVER_KEY: inference.publicKey })).toMatchObject({
      serverKeys: { FRAMES: capture.publicKey, DETECTIONS: inference.publicKey },
    });
    expect(() => readPreviewCurve({ ZMQ_CURVE_SECRET_KEY: own.secretKey, FRAMES_CURVE_SERVER_KEY: capture.publicKey })).toThrow(/DETECTIONS_CURVE_SERVER_KEY is required with ZMQ_CURVE_SECRET_KEY/);
  });
});
