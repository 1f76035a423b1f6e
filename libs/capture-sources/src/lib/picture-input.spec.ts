import { readsStillPicturesAsTheCliDoes } from '../test-support/still-pictures';

jest.setTimeout(20_000);

// Debian's ffmpeg 5.1 turns a JPEG by its EXIF orientation while decoding (picture-input-npm-ffmpeg.spec.ts: npm's 4.1 does not).
describe('a still picture read as the CLI reads it, by the ffmpeg on PATH', () => readsStillPicturesAsTheCliDoes('ffmpeg'));
