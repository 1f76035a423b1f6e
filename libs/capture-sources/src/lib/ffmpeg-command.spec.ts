import { PassThrough } from 'node:stream';
import type { FfmpegCommand } from 'fluent-ffmpeg';
import { type FfmpegInput, rawVideoArgs, rawVideoCommand, useFfmpegPath } from './ffmpeg-command';
import { streamInput } from './stream-input';
import { testPatternInput } from './test-pattern-input';
import { v4l2Input } from './v4l2-input';

/** The arguments fluent-ffmpeg would run the command with, from its (untyped) internal builder. */
function fluentArgs(input: FfmpegInput): string[] {
  const command = rawVideoCommand(input).output(new PassThrough()) as FfmpegCommand & { _getArguments(): string[] };
  return command._getArguments();
}

describe('rawVideoArgs', () => {
  it.each([
    ['a V4L2 camera, with filters', v4l2Input('/dev/video0', { inputFormat: 'mjpeg', width: 640, height: 480, fps: 15 })],
    ['a stream', streamInput('rtsp://camera.local/stream 1', { rtspTransport: 'udp' })],
    ['the test pattern, without filters', testPatternInput({})],
    ['a file, one of its streams mapped and its frames as decoded', { inputOptions: ['-re'], input: 'two streams.mkv', videoFilters: ['scale=640:480'], outputOptions: ['-map', '0:1', '-fps_mode', 'passthrough'] }],
  ])('is the command line fluent-ffmpeg builds for %s', (_description, input) => {
    expect(rawVideoArgs(input)).toEqual(fluentArgs(input));
  });
});

describe('useFfmpegPath', () => {
  it('refuses a second ffmpeg in the same process, naming both', () => {
    useFfmpegPath('ffmpeg');
    useFfmpegPath('ffmpeg');

    expect(() => useFfmpegPath('/opt/ffmpeg/bin/ffmpeg')).toThrow(
      'cannot use ffmpeg /opt/ffmpeg/bin/ffmpeg: this process already runs ffmpeg, and fluent-ffmpeg takes one ffmpeg path per process',
    );
  });
});
