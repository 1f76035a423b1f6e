import { readsNonSquareStreams } from '../test-support/non-square-pixels';

jest.setTimeout(20_000);

describe('a stream of non-square pixels, read by the system ffmpeg (real ffmpeg server)', () => {
  readsNonSquareStreams('ffmpeg');
});
