import { readsMultipartCameras } from '../test-support/multipart-camera';
import { npmBinary, NPM_FFMPEG } from './ffmpeg-location';

jest.setTimeout(20_000);

// npm's static ffmpeg 4.1 (machines without one of their own) reads fewer multipart variants than ffmpeg 5.
const npmFfmpeg = npmBinary(NPM_FFMPEG);
(npmFfmpeg ? describe : describe.skip)(`CAPTURE_STREAM_FORMAT, with npm's ffmpeg${npmFfmpeg ? '' : ` (skipped: ${NPM_FFMPEG} has no build for this platform)`}`, () => {
  readsMultipartCameras(npmFfmpeg ?? 'ffmpeg');
});
