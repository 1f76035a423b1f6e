import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ColorMatrix, PixelFormat } from '@iev/frame-protocol';
import { take } from '../test-support/decoders';
import { defaultFfmpegPath, ffprobePathFor, isOnPath, NPM_FFMPEG, NPM_FFPROBE, npmBinary } from './ffmpeg-location';
import { createFrameSource, resolveSource } from './resolve-source';

const DEMO_VIDEO = join(__dirname, '../../../../assets/demo/demo.mp4');

describe('which ffmpeg capture runs', () => {
  let withFfmpeg: string;
  let withoutFfmpeg: string;
  beforeAll(() => {
    withFfmpeg = mkdtempSync(join(tmpdir(), 'path-ffmpeg-'));
    withoutFfmpeg = mkdtempSync(join(tmpdir(), 'path-empty-'));
    writeFileSync(join(withFfmpeg, 'ffmpeg'), '#!/bin/sh\n');
    chmodSync(join(withFfmpeg, 'ffmpeg'), 0o755);
    writeFileSync(join(withoutFfmpeg, 'ffmpeg'), 'not executable');
  });
  afterAll(() => [withFfmpeg, withoutFfmpeg].forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  const npmFfmpeg = () => '/workspace/node_modules/@ffmpeg-installer/linux-x64/ffmpeg';

  it('finds an executable on PATH, not a file that cannot run', () => {
    expect(isOnPath('ffmpeg', [withoutFfmpeg, withFfmpeg].join(delimiter))).toBe(true);
    expect(isOnPath('ffmpeg', withoutFfmpeg)).toBe(false);
    expect(isOnPath('ffmpeg', '')).toBe(false);
  });

  it("prefers the system's ffmpeg on PATH to npm's", () => {
    expect(defaultFfmpegPath({ pathVariable: withFfmpeg, npmFfmpeg })).toBe('ffmpeg');
  });

  it("takes npm's ffmpeg when none is on PATH", () => {
    expect(defaultFfmpegPath({ pathVariable: withoutFfmpeg, npmFfmpeg })).toBe(npmFfmpeg());
  });

  it('falls back to plain ffmpeg, which then fails saying what to install, when there is neither', () => {
    expect(defaultFfmpegPath({ pathVariable: withoutFfmpeg, npmFfmpeg: () => undefined })).toBe('ffmpeg');
  });

  it("takes ffprobe from where ffmpeg is: PATH, beside it, or npm's with npm's ffmpeg", () => {
    const npm = { ffmpeg: npmFfmpeg, ffprobe: () => '/workspace/node_modules/@ffprobe-installer/linux-x64/ffprobe' };
    expect(ffprobePathFor('ffmpeg', npm)).toBe('ffprobe');
    expect(ffprobePathFor('/opt/ffmpeg/bin/ffmpeg', npm)).toBe('/opt/ffmpeg/bin/ffprobe');
    expect(ffprobePathFor(npmFfmpeg(), npm)).toBe(npm.ffprobe());
  });

  it('reports a package that is not installed as absent', () => {
    expect(npmBinary('@ffmpeg-installer/no-such-package')).toBeUndefined();
  });
});

// The static builds npm installed for this platform (dev dependencies), decoding the demo video through the capture
// lib as on a machine without a system ffmpeg. npm has them for linux x64/arm64/arm/ia32, macOS and Windows.
const npmFfmpeg = npmBinary(NPM_FFMPEG);
const npmFfprobe = npmBinary(NPM_FFPROBE);
const withNpmBuilds = npmFfmpeg && npmFfprobe ? describe : describe.skip;

withNpmBuilds(`npm's ffmpeg and ffprobe (skipped where npm has no build for ${process.platform}-${process.arch})`, () => {
  it('run, and are an ffmpeg 4 the capture lib speaks', () => {
    const version = execFileSync(npmFfmpeg ?? '', ['-version'], { encoding: 'utf8' });
    expect(version).toMatch(/^ffmpeg version /);
    expect(version).toMatch(/^libavformat\s+58\./m);
    expect(execFileSync(npmFfprobe ?? '', ['-version'], { encoding: 'utf8' })).toMatch(/^ffprobe version /);
  });

  it('decode the demo video into BGR frames of its size', async () => {
    const frames = await take(createFrameSource(resolveSource(DEMO_VIDEO), { ffmpegPath: npmFfmpeg, realtime: false, loop: false }), 3);
    expect(frames.map(({ header }) => [header.sequence, header.width, header.height])).toEqual([
      [0, 640, 480],
      [1, 640, 480],
      [2, 640, 480],
    ]);
    expect(frames[0].pixels.length).toBe(640 * 480 * 3);
  });

  it("keep a BT.709 file's or stream's matrix, which ffmpeg 4 does not name in its description of the output: its input's", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'npm-ffmpeg-'));
    try {
      const hd = join(folder, 'hd.mp4');
      execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=128x72:rate=10', '-frames:v', '2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-colorspace', 'bt709', hd]);

      const [frame] = await take(createFrameSource(resolveSource(hd), { ffmpegPath: npmFfmpeg, realtime: false, loop: false, pixelFormat: PixelFormat.I420 }), 1);
      // The same recording as a stream, which is not probed.
      const [streamed] = await take(createFrameSource({ type: 'stream', url: `file:${hd}` }, { ffmpegPath: npmFfmpeg, pixelFormat: PixelFormat.I420 }), 1);

      expect(frame.header).toMatchObject({ pixelFormat: PixelFormat.I420, colorMatrix: ColorMatrix.BT709 });
      expect(streamed.header).toMatchObject({ pixelFormat: PixelFormat.I420, colorMatrix: ColorMatrix.BT709 });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
