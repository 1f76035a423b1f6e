import { readsNonSquareStreams } from '../test-support/non-square-pixels';
import { NPM_FFMPEG, npmBinary } from './ffmpeg-location';

jest.setTimeout(20_000);

// A process runs one ffmpeg (useFfmpegPath): npm's static 4.1, for machines without one of their own, in a spec of its own.
const npmFfmpeg = npmBinary(NPM_FFMPEG);
(npmFfmpeg ? describe : describe.skip)(`a stream of non-square pixels, read by npm's ffmpeg${npmFfmpeg ? '' : ` (skipped: ${NPM_FFMPEG} has no build for this platform)`}`, () => {
  readsNonSquareStreams(npmFfmpeg ?? 'ffmpeg');
});
