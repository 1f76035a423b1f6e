import { ffmpegMajorVersion, ffmpegOutputSizeReader } from './ffmpeg-tools';

describe('ffmpegOutputSizeReader', () => {
  it('reads the size of the output stream, not of a raw input stream described before it', () => {
    const readSize = ffmpegOutputSizeReader();
    const lines = [
      "[info] Input #0, video4linux2,v4l2, from '/dev/video0':",
      '[info]   Stream #0:0: Video: rawvideo (YUY2 / 0x32595559), yuyv422, 1280x720, 147456 kb/s, 10 fps, 10 tbr, 1000k tbn',
      "[info] Output #0, rawvideo, to 'pipe:1':",
      '[info]   Metadata:',
      '[info]   Stream #0:0: Video: rawvideo (BGR[24] / 0x18524742), bgr24(pc, gbr/unknown/unknown, progressive), 640x360, q=2-31, 55296 kb/s, 10 fps, 10 tbn',
    ];

    expect(lines.map(readSize)).toEqual([undefined, undefined, undefined, undefined, { width: 640, height: 360 }]);
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
