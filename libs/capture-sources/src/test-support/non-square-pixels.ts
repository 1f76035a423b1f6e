import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PixelFormat } from '@iev/frame-protocol';
import { freePort } from '@iev/testing';
import type { CapturedFrame, FrameSize } from '../lib/frame-source';
import { createFrameSource } from '../lib/resolve-source';
import { take, waitUntilListening } from './decoders';

/** Frames stored in pixels that are not square, as a player shows them: `stored` wide at the pixel shape `sar`, `displayed`. */
export interface AnamorphicPicture {
  name: string;
  stored: FrameSize;
  /** The pixel's shape, width:height, as ffmpeg's setsar takes it. */
  sar: string;
  displayed: FrameSize;
}

export const ANAMORPHIC_PICTURES: AnamorphicPicture[] = [
  { name: "an analog encoder's NTSC, narrowed (10:11)", stored: { width: 176, height: 120 }, sar: '10/11', displayed: { width: 160, height: 120 } },
  { name: "HDV's, widened (4:3)", stored: { width: 120, height: 90 }, sar: '4/3', displayed: { width: 160, height: 90 } },
];

/**
 * Writes 2 s of a black square, half the picture's height a side, centred on white as displayed, stored squeezed into
 * the picture's pixels (a key frame every 5, so a reader joining late soon has one): H.264 in MPEG-TS, or MJPEG in
 * Matroska for GStreamer's good plugins (whose display size gives the pixel shape).
 */
export function writeAnamorphicSquare(path: string, { stored, sar, displayed }: AnamorphicPicture, container: 'mpegts' | 'matroska'): void {
  const side = displayed.height / 2;
  const square = `drawbox=x=${(displayed.width - side) / 2}:y=${side / 2}:w=${side}:h=${side}:c=black:t=fill`;
  const codec = container === 'mpegts' ? ['-c:v', 'libx264', '-g', '5', '-pix_fmt', 'yuv420p'] : ['-c:v', 'mjpeg'];
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `color=white:size=${displayed.width}x${displayed.height}:rate=10:duration=2`],
    ...['-vf', `${square},scale=${stored.width}:${stored.height},setsar=${sar}`, ...codec, '-f', container, path],
  ]);
}

/** The size of the box round a BGR frame's dark pixels. */
export function darkBox({ header, pixels }: CapturedFrame): FrameSize {
  if (header.pixelFormat !== PixelFormat.BGR24) throw new Error(`darkBox reads BGR24 frames, not pixel format ${header.pixelFormat}`);
  let [left, right, top, bottom] = [Infinity, -1, Infinity, -1];
  for (let y = 0; y < header.height; y++) {
    for (let x = 0; x < header.width; x++) {
      const at = y * header.stride + x * 3;
      if (pixels[at] + pixels[at + 1] + pixels[at + 2] >= 3 * 128) continue;
      [left, right, top, bottom] = [Math.min(left, x), Math.max(right, x), Math.min(top, y), Math.max(bottom, y)];
    }
  }
  return { width: right - left + 1, height: bottom - top + 1 };
}

/**
 * Specs that a network stream of non-square pixels (MPEG-TS over TCP, served by the system's ffmpeg) is read by
 * `ffmpegPath` in square ones: at the displayed size, its square square, unless CAPTURE_WIDTH and CAPTURE_HEIGHT
 * both ask for a size.
 */
export function readsNonSquareStreams(ffmpegPath: string): void {
  const workDir = mkdtempSync(join(tmpdir(), 'iev-anamorphic-'));
  const servers: ChildProcess[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.kill('SIGKILL');
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  /** A TCP URL serving the picture live, as an encoder does, to one client. */
  async function servedStream(picture: AnamorphicPicture): Promise<string> {
    const path = join(workDir, `${picture.stored.width}x${picture.stored.height}.ts`);
    writeAnamorphicSquare(path, picture, 'mpegts');
    const port = await freePort();
    const url = `tcp://127.0.0.1:${port}`;
    servers.push(spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', path, '-c', 'copy', '-f', 'mpegts', `${url}?listen=1`], { stdio: 'ignore' }));
    await waitUntilListening(port);
    return url;
  }

  const firstFrame = async (picture: AnamorphicPicture, size: { width?: number; height?: number } = {}) => {
    const [frame] = await take(createFrameSource({ type: 'stream', url: await servedStream(picture) }, { ffmpegPath, ...size }), 1);
    return frame;
  };

  it.each(ANAMORPHIC_PICTURES)('hands on $name at its displayed size, a square staying square', async (picture) => {
    const frame = await firstFrame(picture);

    expect(frame.header).toMatchObject(picture.displayed);
    const box = darkBox(frame);
    expect(Math.abs(box.width - box.height)).toBeLessThanOrEqual(2);
    expect(Math.abs(box.height - picture.displayed.height / 2)).toBeLessThanOrEqual(2);
  });

  it.each([
    { picture: ANAMORPHIC_PICTURES[0], asked: { width: 80 }, size: { width: 80, height: 60 } },
    { picture: ANAMORPHIC_PICTURES[1], asked: { height: 45 }, size: { width: 80, height: 45 } },
  ])('completes a lone side ($asked) of $picture.name by the displayed aspect ratio', async ({ picture, asked, size }) => {
    const frame = await firstFrame(picture, asked);

    expect(frame.header).toMatchObject(size);
    const box = darkBox(frame);
    expect(Math.abs(box.width - box.height)).toBeLessThanOrEqual(2);
  });

  it('keeps the size CAPTURE_WIDTH and CAPTURE_HEIGHT both ask for, whatever the picture\'s shape', async () => {
    const frame = await firstFrame(ANAMORPHIC_PICTURES[0], { width: 100, height: 50 });

    expect(frame.header).toMatchObject({ width: 100, height: 50 });
  });
}
