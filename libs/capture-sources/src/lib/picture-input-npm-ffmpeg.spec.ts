import { npmBinary, NPM_FFMPEG } from './ffmpeg-location';
import { readsStillPicturesAsTheCliDoes } from '../test-support/still-pictures';

jest.setTimeout(20_000);

// npm's static ffmpeg 4.1 (machines without one of their own) does not turn a JPEG by its EXIF orientation itself.
const npmFfmpeg = npmBinary(NPM_FFMPEG);
(npmFfmpeg ? describe : describe.skip)(`a still picture read as the CLI reads it, by npm's ffmpeg${npmFfmpeg ? '' : ` (skipped: ${NPM_FFMPEG} has no build for this platform)`}`, () =>
  readsStillPicturesAsTheCliDoes(npmFfmpeg ?? 'ffmpeg'),
);
