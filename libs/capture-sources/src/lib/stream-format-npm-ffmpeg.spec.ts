import { readUntilFailure } from '../test-support/decoders';
import { cameraSource, readsMultipartCameras, startMultipartCamera, testPatternJpegs, type MultipartCamera } from '../test-support/multipart-camera';
import { npmBinary, NPM_FFMPEG } from './ffmpeg-location';

jest.setTimeout(20_000);

// npm's static ffmpeg 4.1 (machines without one of their own) reads fewer multipart variants than ffmpeg 5.
const npmFfmpeg = npmBinary(NPM_FFMPEG);
(npmFfmpeg ? describe : describe.skip)(`CAPTURE_STREAM_FORMAT, with npm's ffmpeg${npmFfmpeg ? '' : ` (skipped: ${NPM_FFMPEG} has no build for this platform)`}`, () => {
  const ffmpegPath = npmFfmpeg ?? 'ffmpeg';
  readsMultipartCameras(ffmpegPath);

  let camera: MultipartCamera | undefined;
  afterEach(async () => camera?.close());

  it("without it, advises it where ffmpeg 4.1 reads a camera's first part without Content-Length, then finds no boundary", async () => {
    camera = await startMultipartCamera('nolen', testPatternJpegs(2), { fps: 25 });

    const failure = await readUntilFailure(await cameraSource({ CAMERA_PATH: camera.url, FFMPEG_PATH: ffmpegPath }));

    expect(failure.message).toMatch(/Expected boundary '--' not found.*: ffmpeg could not split this MJPEG camera's multipart stream: CAPTURE_STREAM_FORMAT=mjpeg reads its pictures as bare JPEGs$/);
  });
});
