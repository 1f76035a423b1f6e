import { PassThrough } from 'node:stream';
import type { FfmpegCommand } from 'fluent-ffmpeg';
import { PixelFormat } from '@iev/frame-protocol';
import { bt601Output, type FfmpegInput, rawVideoArgs, rawVideoCommand, useFfmpegPath } from './ffmpeg-command';
import { streamInput, testPatternInput, v4l2Input } from './ffmpeg-sources';

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
    ['a stream decoded to I420', { ...streamInput('rtsp://camera.local/stream', {}), pixelFormat: PixelFormat.I420 } satisfies FfmpegInput],
  ])('is the command line fluent-ffmpeg builds for %s', (_description, input) => {
    expect(rawVideoArgs(input)).toEqual(fluentArgs(input));
  });

  const filtersOf = (input: FfmpegInput) => {
    const args = rawVideoArgs(input);
    return args.includes('-filter:v') ? args[args.indexOf('-filter:v') + 1] : undefined;
  };
  const camera = v4l2Input('/dev/video0', { width: 640, height: 480 });

  it('converts I420 frames to BT.601 at limited range on the scale that sets their size', () => {
    expect(filtersOf({ ...camera, pixelFormat: PixelFormat.I420 })).toBe('scale=640:480:out_color_matrix=bt601:out_range=tv');
  });

  it('leaves BGR24 frames (swscale reads the source matrix for RGB) and sources known to be BT.601 as they are', () => {
    expect(filtersOf(camera)).toBe('scale=640:480');
    expect(filtersOf({ ...camera, pixelFormat: PixelFormat.I420, knownBt601: true })).toBe('scale=640:480');
  });
});

describe('bt601Output', () => {
  it('adds its options to a last scale filter, and a scale of its own after any other', () => {
    expect(bt601Output(['fps=15', 'scale=320:-1'])).toEqual(['fps=15', 'scale=320:-1:out_color_matrix=bt601:out_range=tv']);
    expect(bt601Output(['fps=15'])).toEqual(['fps=15', 'scale=out_color_matrix=bt601:out_range=tv']);
    expect(bt601Output([])).toEqual(['scale=out_color_matrix=bt601:out_range=tv']);
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
