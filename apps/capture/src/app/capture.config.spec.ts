import { readCaptureConfig } from './capture.config';

describe('capture configuration', () => {
  it('leaves the choice of ffmpeg to the capture lib (PATH, then npm) unless FFMPEG_PATH names one, which wins', () => {
    expect(readCaptureConfig({}).ffmpegPath).toBeUndefined();
    expect(readCaptureConfig({ FFMPEG_PATH: '/opt/ffmpeg/bin/ffmpeg' }).ffmpegPath).toBe('/opt/ffmpeg/bin/ffmpeg');
  });

  it('names an empty FFMPEG_PATH as the problem', () => {
    expect(() => readCaptureConfig({ FFMPEG_PATH: ' ' })).toThrow(/FFMPEG_PATH must not be empty/);
  });
});
