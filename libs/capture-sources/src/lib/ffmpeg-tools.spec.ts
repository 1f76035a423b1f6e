import { execFileSync } from 'node:child_process';
import { ColorMatrix } from '@iev/frame-protocol';
import { NPM_FFMPEG, npmBinary } from './ffmpeg-location';
import { colorMatrixNamed, ffmpegMajorVersion, ffmpegOutputFormatReader, framesAsDecoded, rateAndSizeFilters } from './ffmpeg-tools';

describe('ffmpegOutputFormatReader', () => {
  it('reads the size of the output stream, not of a raw input stream described before it', () => {
    const readSize = ffmpegOutputFormatReader();
    const lines = [
      "[info] Input #0, video4linux2,v4l2, from '/dev/video0':",
      '[info]   Stream #0:0: Video: rawvideo (YUY2 / 0x32595559), yuyv422, 1280x720, 147456 kb/s, 10 fps, 10 tbr, 1000k tbn',
      "[info] Output #0, rawvideo, to 'pipe:1':",
      '[info]   Metadata:',
      '[info]   Stream #0:0: Video: rawvideo (BGR[24] / 0x18524742), bgr24(pc, gbr/unknown/unknown, progressive), 640x360, q=2-31, 55296 kb/s, 10 fps, 10 tbn',
    ];

    // RGB is full range by nature: DecoderSource keeps a frame's colours for I420 alone.
    expect(lines.map(readSize)).toEqual([undefined, undefined, undefined, undefined, { width: 640, height: 360, fullRange: true }]);
  });

  // The details as ffmpeg 5.1 prints them (avcodec_string): range, then the matrix alone or matrix/primaries/transfer.
  it.each([
    ['yuv420p(tv, bt709, progressive)', { colorMatrix: ColorMatrix.BT709 }],
    ['yuv420p(bt709)', { colorMatrix: ColorMatrix.BT709 }],
    ['yuv420p(tv, bt709/unknown/unknown, progressive)', { colorMatrix: ColorMatrix.BT709 }],
    ['yuv420p(tv, smpte170m/bt470bg/bt709, top first)', { colorMatrix: ColorMatrix.BT601 }],
    ['yuv420p(tv, bt470bg, progressive)', { colorMatrix: ColorMatrix.BT601 }],
    ['yuv420p(tv, bt2020nc/bt2020/smpte2084, progressive)', { colorMatrix: ColorMatrix.BT2020 }],
    ['yuv420p(tv, unknown/bt709/bt709, progressive)', {}],
    ['yuv420p(tv, progressive)', {}],
    ['yuv420p', {}],
    // Full range, as ffmpeg 7.1 leaves a full-range camera's H.264 where 5.1 converted it.
    ['yuv420p(pc, bt470bg/unknown/unknown, progressive)', { colorMatrix: ColorMatrix.BT601, fullRange: true }],
    ['yuv420p(pc, progressive)', { fullRange: true }],
    // Interlaced video: ffmpeg sets the output's field order from the first frame.
    ['yuv420p(tv, bt709, top coded first (swapped))', { colorMatrix: ColorMatrix.BT709 }],
    ['yuv420p(bottom coded first (swapped))', {}],
  ])('reads the colour matrix and range from an output of %s', (pixelFormat, colour) => {
    const read = ffmpegOutputFormatReader();
    read("[info] Output #0, rawvideo, to 'pipe:1':");

    const format = read(`[info]   Stream #0:0(und): Video: rawvideo (I420 / 0x30323449), ${pixelFormat}, 1280x720 [SAR 1:1 DAR 16:9], q=2-31, 10 fps`);

    expect(format).toStrictEqual({ width: 1280, height: 720, ...colour });
  });
});

describe('ffmpegOutputFormatReader at level verbose', () => {
  it('reads past the reference frames it names after the codec, in the input and the output (ffmpeg 5.1)', () => {
    const read = ffmpegOutputFormatReader();
    const lines = [
      '[info]   Stream #0:0[0x100]: Video: h264 (High), 1 reference frame ([27][0][0][0] / 0x001B), yuv420p(tv, bt709, progressive, left), 640x480 [SAR 1:1 DAR 4:3], 25 fps, 25 tbr, 90k tbn',
      "[info] Output #0, rawvideo, to 'pipe:1':",
      '[info]   Stream #0:0: Video: rawvideo, 1 reference frame (I420 / 0x30323449), yuv420p(progressive, left), 640x480 (0x0) [SAR 1:1 DAR 4:3], q=2-31, 92160 kb/s, 25 fps, 25 tbn',
    ];

    expect(lines.map(read)).toStrictEqual([undefined, undefined, { width: 640, height: 480, colorMatrix: ColorMatrix.BT709 }]);
  });
});

describe('ffmpegOutputFormatReader on a stream that changes size', () => {
  const opened = ["[info] Output #0, rawvideo, to 'pipe:1':", '[info]   Stream #0:0: Video: rawvideo (I420 / 0x30323449), yuv420p(progressive), 640x480 [SAR 1:1 DAR 4:3], q=2-31, 25 fps'];

  // As ffmpeg 5.1 and 4.1 (npm's) print the scaler they add to squash the rebuilt filters' output into the first size.
  it.each([
    ['[scaler_out_0_0 @ 0x55f73687de00] [verbose] w:1280 h:720 fmt:yuv420p sar:1/1 -> w:640 h:480 fmt:yuv420p sar:4/3 flags:0x0', { width: 1280, height: 720 }],
    ['[scaler_out_0_0 @ 0x2b945b40] [verbose] w:480 h:640 fmt:yuv420p sar:1/1 -> w:640 h:480 fmt:yuv420p sar:16/9 flags:0x4', { width: 480, height: 640 }],
    // The filters' output kept its size (both sides asked for): nothing is squashed.
    ['[scaler_out_0_0 @ 0x2b945b40] [verbose] w:640 h:480 fmt:yuv420p sar:1/1 -> w:640 h:480 fmt:yuv420p sar:1/1 flags:0x4', undefined],
    ["[scaler_out_0_0 @ 0x2b945b40] [verbose] w:640 h:480 flags:'bicubic' interl:0", undefined],
  ])('reads the size the frames would have from %s', (line, size) => {
    const read = ffmpegOutputFormatReader();
    opened.forEach(read);

    expect(read(line)).toStrictEqual(size);
  });
});

describe('ffmpegOutputFormatReader where ffmpeg 4 names no matrix for its output', () => {
  const described = (input: string, output = 'yuv420p') => [
    "[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/cameras/door.mp4':",
    `[info]     Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), ${input}, 1920x1080 [SAR 1:1 DAR 16:9], 124 kb/s, 10 fps`,
    "[info] Output #0, rawvideo, to 'unix:/tmp/frames':",
    `[info]     Stream #0:0(und): Video: rawvideo (I420 / 0x30323449), ${output}, 640x360 [SAR 1:1 DAR 16:9], q=2-31, 10 fps`,
  ];
  const readAll = (lines: string[]) => lines.map(ffmpegOutputFormatReader()).pop();

  it('takes the matrix its description of the input names, which scaling YUV keeps', () => {
    expect(readAll(described('yuv420p(tv, bt709/unknown/unknown)'))).toStrictEqual({ width: 640, height: 360, colorMatrix: ColorMatrix.BT709 });
    expect(readAll(described('yuv420p(progressive)'))).toStrictEqual({ width: 640, height: 360 });
  });

  it('prefers what the output names', () => {
    expect(readAll(described('yuv420p(tv, bt709)', 'yuv420p(tv, bt470bg)'))).toStrictEqual({ width: 640, height: 360, colorMatrix: ColorMatrix.BT601 });
  });

  it('reads the first input video stream, after an audio stream too, and no later one', () => {
    const lines = described('yuv420p(tv, bt709)');
    lines.splice(1, 0, '[info]     Stream #0:0(und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 128 kb/s');
    lines.splice(3, 0, '[info]     Stream #0:2(und): Video: h264 (High), yuv420p(tv, bt2020nc), 3840x2160, 10 fps');
    expect(readAll(lines)).toStrictEqual({ width: 640, height: 360, colorMatrix: ColorMatrix.BT709 });
  });

  it('reads the input stream it is told is decoded (mapped), not the first', () => {
    const lines = described('yuvj420p(pc, bt470bg/unknown/unknown)');
    lines.splice(2, 0, '[info]     Stream #0:1(und): Video: h264 (High), yuv420p(tv, bt709), 1920x1080, 10 fps');
    expect(lines.map(ffmpegOutputFormatReader(1)).pop()).toStrictEqual({ width: 640, height: 360, colorMatrix: ColorMatrix.BT709 });
    expect(lines.map(ffmpegOutputFormatReader(10)).pop()).toStrictEqual({ width: 640, height: 360 });
  });
});

describe('ffmpegOutputFormatReader on a line it cannot read', () => {
  it("throws quoting the output stream's line, rather than let frames wait for a size that never comes", () => {
    const read = ffmpegOutputFormatReader();
    read("[info] Output #0, rawvideo, to 'pipe:1':");

    expect(() => read('[info]   Stream #0:0: Video: rawvideo, yuv420p(tv) 640 by 480')).toThrow(
      "cannot read the frames' size from ffmpeg's description of its output: [info]   Stream #0:0: Video: rawvideo, yuv420p(tv) 640 by 480",
    );
    expect(read('[info]   Stream #0:0 -> #0:0 (h264 (native) -> rawvideo (native))')).toBeUndefined();
  });
});

describe('colorMatrixNamed', () => {
  it("knows the matrices frames carry by ffmpeg's names, and no others", () => {
    expect(['bt709', 'bt470bg', 'smpte170m', 'bt2020nc', 'bt2020c', 'unknown', 'gbr', 'toString', undefined].map(colorMatrixNamed)).toEqual([
      ColorMatrix.BT709,
      ColorMatrix.BT601,
      ColorMatrix.BT601,
      ColorMatrix.BT2020,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('ffmpegMajorVersion', () => {
  it.each([
    ['ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers', 5],
    ['ffmpeg version 4.2.7-0ubuntu0.1 Copyright (c) 2000-2022 the FFmpeg developers', 4],
    ['ffmpeg version n6.1.1 Copyright (c) 2000-2023 the FFmpeg developers', 6],
    ['ffmpeg version N-113475-g07ee0d46c6-20240101 Copyright (c) 2000-2023 the FFmpeg developers', Infinity],
    ['ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/\nbuilt with gcc 6.3.0\nlibavutil      56. 24.101 / 56. 24.101\nlibavformat    58. 22.100 / 58. 22.100', 4],
    ['ffmpeg version N-113475-g07ee0d46c6\nlibavformat    61.  1.100 / 61.  1.100', 7],
  ])('reads %j as %d', (versionOutput, major) => {
    expect(ffmpegMajorVersion(versionOutput)).toBe(major);
  });
});

describe('framesAsDecoded', () => {
  it.each([
    ['ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers', '-fps_mode'],
    ['ffmpeg version 5.0.3 Copyright (c) 2000-2022 the FFmpeg developers', '-vsync'],
    ['ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright (c) 2000-2021 the FFmpeg developers', '-vsync'],
    ['ffmpeg version n7.1 Copyright (c) 2000-2024 the FFmpeg developers', '-fps_mode'],
    ['ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/\nlibavformat    58. 24.100 / 58. 24.100', '-vsync'],
    ['ffmpeg version N-107000-g0123456789\nlibavformat    59. 27.100 / 59. 27.100', '-fps_mode'],
    ['ffmpeg version N-113475-g07ee0d46c6-20240101 Copyright (c) 2000-2023 the FFmpeg developers', '-fps_mode'],
  ])('times the frames of %j as decoded with %s', (versionOutput, option) => {
    expect(framesAsDecoded(versionOutput)).toEqual([option, 'passthrough']);
  });
});

describe('rateAndSizeFilters: the rate limit, run by real ffmpeg (the system one and npm\'s 4.1)', () => {
  const ffmpegs = [['ffmpeg', 'ffmpeg'], ["npm's", npmBinary(NPM_FFMPEG)]].filter((entry): entry is [string, string] => entry[1] !== undefined);

  /** Frames the limit keeps of 10 s of a 30 fps test source retimed by `setpts`, at `fps`. */
  function kept(ffmpeg: string, setpts: string, fps: number): number {
    const filters = [`setpts='${setpts}'`, ...rateAndSizeFilters({ fps, width: 32 })].join(',');
    const out = execFileSync(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=30:duration=10', '-filter:v', filters, '-vsync', 'passthrough', '-f', 'framecrc', '-'], { encoding: 'utf8' });
    return out.split('\n').filter((line) => /^\d/.test(line)).length;
  }

  it.each(ffmpegs)('holds a source whose times step back a little now and then (%s) to the rate, as one whose times rise', (_, ffmpeg) => {
    // Every tenth frame timed 1 ms before the one ahead of it: jitter, which a restart's reset would turn into frames.
    expect(kept(ffmpeg, 'PTS-if(eq(mod(N,10),5),(1/30+0.001)/TB,0)', 1)).toBe(kept(ffmpeg, 'PTS', 1));
    expect(kept(ffmpeg, 'PTS', 1)).toBeLessThanOrEqual(11);
  });

  it.each(ffmpegs)('counts anew after a step back of seconds, a stream restarted (%s)', (_, ffmpeg) => {
    // From the 150th frame (5 s) on, times restart from 0: 5 s and 5 s again at 1 a second, each part's first frame kept.
    expect(kept(ffmpeg, 'if(gte(N,150),PTS-5/TB,PTS)', 1)).toBeGreaterThanOrEqual(10);
  });
});
