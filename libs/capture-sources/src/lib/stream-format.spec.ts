import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readConfig } from '@iev/service-runtime';
import { readUntilFailure } from '../test-support/decoders';
import { cameraSource, readsMultipartCameras } from '../test-support/multipart-camera';
import { mjpegSplitAdvice } from './stream-failure-advice';
import { sourceConfigSpec } from './source-config';

jest.setTimeout(20_000);

describe('CAPTURE_STREAM_FORMAT, with the ffmpeg on PATH (real ffmpeg, a multipart camera served as each variant)', () => readsMultipartCameras('ffmpeg'));

describe('CAPTURE_STREAM_FORMAT', () => {
  it('refuses a value it does not know, naming the variable', () => {
    expect(() => readConfig(sourceConfigSpec, { CAPTURE_STREAM_FORMAT: 'jpeg' })).toThrow(/CAPTURE_STREAM_FORMAT must be one of auto, mjpeg/);
  });

  it('refuses mjpeg for a source that is no HTTP(S) stream, naming what the setting chose', async () => {
    await expect(cameraSource({ CAMERA_PATH: 'rtsp://viewer:s3cret@192.168.1.64/stream1', CAPTURE_STREAM_FORMAT: 'mjpeg' })).rejects.toThrow(
      /^CAPTURE_STREAM_FORMAT=mjpeg reads an HTTP\(S\) stream as bare JPEGs, and CAMERA_PATH names a stream over rtsp: set it to auto for this source$/,
    );
    await expect(cameraSource({ CAMERA_PATH: 'testsrc', CAPTURE_STREAM_FORMAT: 'mjpeg' }, 'source')).rejects.toThrow(/, and source names the test pattern: set it to auto/);
  });
});

describe('CAPTURE_STREAM_FORMAT=mjpeg on a URL that gives no video', () => {
  it('does not advise itself, which ffmpeg reading a page as bare JPEGs fails alike', async () => {
    const server = createServer((_request, response) => response.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>Log in</body></html>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/login.html`;

      const failure = await readUntilFailure(await cameraSource({ CAMERA_PATH: url, CAPTURE_STREAM_FORMAT: 'mjpeg' }));

      expect(failure.message).toMatch(/: Invalid data found when processing input\b/);
      expect(failure.message).not.toContain('CAPTURE_STREAM_FORMAT');
    } finally {
      server.close();
    }
  });
});

describe('mjpegSplitAdvice', () => {
  it("tells ffmpeg's words for an MJPEG camera it could not split over HTTP(S), and nothing for other words or URLs", () => {
    const advice = mjpegSplitAdvice('https://192.168.1.64/video.mjpg', 'CAMERA_PATH');

    // A camera whose parts have no Content-Length and end their lines in LF alone: ffmpeg 5.1 probes 5 MB, then gives up.
    expect(advice('[mpjpeg @ 0x5629fe30a980] Could not find codec parameters for stream 0 (Video: mjpeg, none(bt470bg/unknown/unknown)): unspecified size', 0)?.text).toMatch(
      /^ffmpeg could not split this MJPEG camera's multipart stream: CAPTURE_STREAM_FORMAT=mjpeg reads its pictures/,
    );
    expect(advice('Could not find codec parameters for stream 0 (Video: h264, none): unspecified size', 0)).toBeUndefined();
    expect(advice('Connection timed out', 0)).toBeUndefined();
    expect(mjpegSplitAdvice('rtsp://192.168.1.64/stream1', 'CAMERA_PATH')('Invalid data found when processing input', 0)).toBeUndefined();
    // Past its first frames the stream was split: bare invalid data tells of one that broke off. npm's ffmpeg 4.1 splits
    // a first part without Content-Length, then fails on the next: advised all the same.
    expect(advice('https://192.168.1.64/video.mjpg: Invalid data found when processing input', 300)).toBeUndefined();
    expect(advice("[mpjpeg @ 0x201d7bc0] Expected boundary '--' not found, instead found a line of 41 bytes", 1)?.text).toMatch(/^ffmpeg could not split/);
    // A part whose Content-Length was wrong, 21 frames in: the stream was split, and broke off.
    expect(advice("Expected boundary '--' not found, instead found a line of 3 bytes | https://192.168.1.64/video.mjpg: Invalid data found when processing input", 21)).toBeUndefined();
    expect(mjpegSplitAdvice('https://cdn.example/live/index.m3u8', 'CAMERA_PATH')('https://cdn.example/live/index.m3u8: Invalid data found when processing input', 0)).toBeUndefined();
    expect(mjpegSplitAdvice('http://127.0.0.1:8090/v.mjpg', 'CAPTURE_SOURCES[2] CAMERA_PATH')("Expected boundary '--' not found", 0)?.text).toContain('CAPTURE_SOURCES[2] CAPTURE_STREAM_FORMAT=mjpeg');
  });
});
