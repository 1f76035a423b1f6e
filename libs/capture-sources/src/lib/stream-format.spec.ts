import { readConfig } from '@iev/service-runtime';
import { cameraSource, readsMultipartCameras } from '../test-support/multipart-camera';
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
