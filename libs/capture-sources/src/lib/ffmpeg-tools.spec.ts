import { ColorMatrix } from '@iev/frame-protocol';
import { colorMatrixNamed, ffmpegMajorVersion, ffmpegOutputFormatReader } from './ffmpeg-tools';

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

    expect(lines.map(readSize)).toEqual([undefined, undefined, undefined, undefined, { width: 640, height: 360 }]);
  });

  // The details as ffmpeg 5.1 prints them (avcodec_string): range, then the matrix alone or matrix/primaries/transfer.
  it.each([
    ['yuv420p(tv, bt709, progressive)', ColorMatrix.BT709],
    ['yuv420p(bt709)', ColorMatrix.BT709],
    ['yuv420p(tv, bt709/unknown/unknown, progressive)', ColorMatrix.BT709],
    ['yuv420p(tv, smpte170m/bt470bg/bt709, top first)', ColorMatrix.BT601],
    ['yuv420p(tv, bt470bg, progressive)', ColorMatrix.BT601],
    ['yuv420p(tv, bt2020nc/bt2020/smpte2084, progressive)', ColorMatrix.BT2020],
    ['yuv420p(tv, unknown/bt709/bt709, progressive)', undefined],
    ['yuv420p(tv, progressive)', undefined],
    ['yuv420p', undefined],
  ])('reads the colour matrix from an output of %s', (pixelFormat, colorMatrix) => {
    const read = ffmpegOutputFormatReader();
    read("[info] Output #0, rawvideo, to 'pipe:1':");

    const format = read(`[info]   Stream #0:0(und): Video: rawvideo (I420 / 0x30323449), ${pixelFormat}, 1280x720 [SAR 1:1 DAR 16:9], q=2-31, 10 fps`);

    expect(format).toStrictEqual({ width: 1280, height: 720, ...(colorMatrix !== undefined && { colorMatrix }) });
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
