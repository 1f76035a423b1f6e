import { curveKeyPair } from 'zeromq';
import { readCaptureConfig, readCaptureCurve } from './capture.config';

describe('capture configuration', () => {
  it('leaves the choice of ffmpeg to the capture lib (PATH, then npm) unless FFMPEG_PATH names one, which wins', () => {
    expect(readCaptureConfig({}).ffmpegPath).toBeUndefined();
    expect(readCaptureConfig({ FFMPEG_PATH: '/opt/ffmpeg/bin/ffmpeg' }).ffmpegPath).toBe('/opt/ffmpeg/bin/ffmpeg');
  });

  it('names an empty FFMPEG_PATH as the problem', () => {
    expect(() => readCaptureConfig({ FFMPEG_PATH: ' ' })).toThrow(/FFMPEG_PATH must not be empty/);
  });

  it('sends I420 frames unless CAPTURE_PIXEL_FORMAT says bgr24, and names any other value', () => {
    expect(readCaptureConfig({}).pixelFormat).toBe('i420');
    expect(readCaptureConfig({ CAPTURE_PIXEL_FORMAT: 'bgr24' }).pixelFormat).toBe('bgr24');
    expect(() => readCaptureConfig({ CAPTURE_PIXEL_FORMAT: 'rgb24' })).toThrow(/CAPTURE_PIXEL_FORMAT/);
  });

  it('refuses FRAMES_BIND on METRICS_PORT\'s port, naming both', () => {
    expect(() => readCaptureConfig({ FRAMES_BIND: 'tcp://0.0.0.0:17481', METRICS_PORT: '17481' })).toThrow('FRAMES_BIND and METRICS_PORT are both port 17481: each needs a port of its own');
    expect(readCaptureConfig({ FRAMES_BIND: 'ipc:///tmp/frames', METRICS_PORT: '17481' }).metricsPort).toBe(17481);
  });

  it('turns CURVE on for the frames socket it binds with ZMQ_CURVE_SECRET_KEY, and names a bad one', () => {
    const { secretKey, publicKey } = curveKeyPair();
    expect(readCaptureCurve({})).toBeUndefined();
    expect(readCaptureCurve({ ZMQ_CURVE_SECRET_KEY: secretKey, ZMQ_CURVE_CLIENT_KEYS: publicKey })).toEqual({ secretKey, clientKeys: [publicKey], serverKeys: {} });
    expect(() => readCaptureCurve({ ZMQ_CURVE_SECRET_KEY: publicKey.slice(2) })).toThrow(/ZMQ_CURVE_SECRET_KEY must be a CURVE key/);
  });
});
