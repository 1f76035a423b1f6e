import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { epochMs } from '@iev/frame-protocol';
import { readConfig } from '@iev/service-runtime';
import type { FrameSource } from '../lib/frame-source';
import { prepareSource } from '../lib/prepare-source';
import { sourceConfigSpec, sourceSetup } from '../lib/source-config';
import { readUntilFailure, take } from './decoders';

/**
 * How a camera lays out its multipart/x-mixed-replace stream, by the lead's names for the variants ffmpeg's `mpjpeg`
 * reads or not (docs/capture/stream.md, MJPEG cameras): `nodash` leaves out the boundary line's leading `--`, `nolen`
 * each part's Content-Length, `lf` ends its lines in LF alone; `ok` is RFC 2046's.
 */
export const MULTIPART_VARIANTS = ['ok', 'nodash', 'lf-nolen', 'nolen', 'nodash-lf-nolen'] as const;
export type MultipartVariant = (typeof MULTIPART_VARIANTS)[number];

/** `count` different JPEGs of ffmpeg's moving test pattern, as a camera sends them. */
export function testPatternJpegs(count: number, { width = 320, height = 240 } = {}): Buffer[] {
  return jpegsOf(`testsrc2=size=${width}x${height}:rate=10`, count);
}

/** Gray levels of GRAY_LEVEL_JPEGS pictures a step apart, from 16: JPEG's full range keeps them exact. */
const GRAY_LEVEL_STEP = 7;
/** Pictures that grayLevelJpegs makes at most, their levels all below 255. */
export const GRAY_LEVEL_JPEGS = 34;

/**
 * `count` (up to GRAY_LEVEL_JPEGS) uniformly gray JPEGs, each of its own level, so a frame decoded from one says which
 * it was (grayLevelPicture): a camera's frames in turn, whose repeats and gaps show. 192x144 by default: a BGR frame
 * above a pipe's 64 KB read, so no read completes two frames at once.
 */
export function grayLevelJpegs(count: number, { width = 192, height = 144 } = {}): Buffer[] {
  if (count > GRAY_LEVEL_JPEGS) throw new RangeError(`at most ${GRAY_LEVEL_JPEGS} gray levels, asked for ${count}`);
  return jpegsOf(`color=c=black:size=${width}x${height}:rate=10,format=gray,geq=lum='16+N*${GRAY_LEVEL_STEP}'`, count);
}

/** Which of grayLevelJpegs' pictures decoded pixels (BGR or gray) are, by their mean level. */
export function grayLevelPicture(pixels: Uint8Array): number {
  const mean = pixels.reduce((sum, level) => sum + level, 0) / pixels.length;
  return Math.round((mean - 16) / GRAY_LEVEL_STEP);
}

/** The first `count` frames of an ffmpeg lavfi source as JPEGs. */
function jpegsOf(lavfiSource: string, count: number): Buffer[] {
  const directory = mkdtempSync(join(tmpdir(), 'iev-jpegs-'));
  try {
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', lavfiSource, '-frames:v', String(count), join(directory, 'picture%03d.jpg')]);
    return readdirSync(directory)
      .sort()
      .map((name) => readFileSync(join(directory, name)));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

export interface MultipartCamera {
  url: string;
  close(): Promise<void>;
}

/**
 * An HTTP server sending the pictures in turn, over and over, at `fps`, as a `variant` multipart stream: a camera's
 * video.mjpg. Each client gets its own stream. `framesAtOnce` sends that many together, then none for as long, at the
 * same rate on average: a link that bunches frames (Wi-Fi, loaded cores), or stalls and delivers its backlog at once.
 */
export async function startMultipartCamera(variant: MultipartVariant, pictures: Buffer[], { fps = 10, framesAtOnce = 1 } = {}): Promise<MultipartCamera> {
  const lineEnd = variant.includes('lf') ? '\n' : '\r\n';
  const boundary = variant.includes('nodash') ? 'myboundary' : '--myboundary';
  const clients = new Set<Socket>();
  const part = (picture: Buffer) => {
    const length = variant.includes('nolen') ? '' : `Content-Length: ${picture.length}${lineEnd}`;
    return Buffer.concat([Buffer.from(`${boundary}${lineEnd}Content-Type: image/jpeg${lineEnd}${length}${lineEnd}`), picture, Buffer.from(lineEnd)]);
  };
  const server = createServer((socket) => {
    clients.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => clients.delete(socket));
    socket.once('data', () => {
      socket.write(`HTTP/1.0 200 OK${lineEnd}Content-Type: multipart/x-mixed-replace; boundary=myboundary${lineEnd}${lineEnd}`);
      const startMs = epochMs();
      let sent = 0;
      // Each picture at its own time from the start, so a late timer does not slow the camera down.
      const sendNext = () => {
        if (socket.destroyed) return;
        const bunch = Array.from({ length: framesAtOnce }, () => part(pictures[sent++ % pictures.length]));
        socket.write(Buffer.concat(bunch));
        // Late (a loaded machine): at once, not with the negative delay Node warns of.
        setTimeout(sendNext, Math.max(0, startMs + (sent * 1000) / fps - epochMs()));
      };
      sendNext();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/video.mjpg`,
    close: async () => {
      for (const client of clients) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A camera's source as the capture module makes it from its variables (a CAPTURE_SOURCES entry's are read alike);
 * onDecoderMessage hears what capture logs as the decoder's warnings and errors.
 */
export async function cameraSource(variables: Record<string, string>, setting = 'CAMERA_PATH', onDecoderMessage?: (message: string) => void): Promise<FrameSource> {
  const { settings, options } = sourceSetup(readConfig(sourceConfigSpec, variables), { onDecoderMessage });
  return (await prepareSource(settings, options, { setting })).create();
}

/**
 * The sequence and time of each frame taken until the decoder has handed on `count` (sequence counts them all: a live
 * source drops a frame the reader has not taken when the next comes, as two decoded at once).
 */
async function framesHandedOn(source: FrameSource, count: number): Promise<{ sequence: number; timeMs: number }[]> {
  const taken: { sequence: number; timeMs: number }[] = [];
  for await (const { header } of source.frames()) {
    taken.push({ sequence: header.sequence, timeMs: header.captureTimeMs });
    if (header.sequence >= count - 1) break;
  }
  return taken;
}

/**
 * Specs of CAPTURE_STREAM_FORMAT that hold for every ffmpeg capture runs (each spec file one: fluent-ffmpeg takes one
 * ffmpeg path per process), against a camera served as each variant.
 */
export function readsMultipartCameras(ffmpegPath: string): void {
  const pictures = testPatternJpegs(4);
  let camera: MultipartCamera | undefined;
  afterEach(async () => {
    await camera?.close();
    camera = undefined;
  });
  const serve = async (variant: MultipartVariant, fps = 25) => (camera = await startMultipartCamera(variant, pictures, { fps }));
  const serveBunched = async (fps: number, framesAtOnce: number) => (camera = await startMultipartCamera('ok', pictures, { fps, framesAtOnce }));

  it.each(MULTIPART_VARIANTS)('mjpeg reads the %s variant, each picture a frame', async (variant) => {
    const { url } = await serve(variant);

    const frames = await take(await cameraSource({ CAMERA_PATH: url, CAPTURE_STREAM_FORMAT: 'mjpeg', FFMPEG_PATH: ffmpegPath }), 5);

    expect(frames.map(({ header }) => [header.width, header.height])).toEqual(Array(5).fill([320, 240]));
    // The pattern moves: a frame that repeated its predecessor would be one picture split in two, or a part header read as one.
    expect(frames.slice(1).every((frame, index) => !frame.pixels.equals(frames[index].pixels))).toBe(true);
  });

  it.each([
    ['nodash', 'mjpeg'],
    ['ok', 'auto'],
  ])('keeps CAPTURE_FPS of a camera faster than it, counting pictures that carry no time as they are decoded (%s, %s)', async (variant, format) => {
    const { url } = await serve(variant as MultipartVariant, 10);

    const frames = await take(await cameraSource({ CAMERA_PATH: url, CAPTURE_STREAM_FORMAT: format, CAPTURE_FPS: '5', FFMPEG_PATH: ffmpegPath }), 6);

    // Five frames after the first, a fifth of a second apart at 5 fps; 2.5 s at the 2 fps ffmpeg's own count of 25 kept.
    const seconds = (frames[5].header.captureTimeMs - frames[0].header.captureTimeMs) / 1000;
    expect(seconds).toBeGreaterThan(0.7);
    expect(seconds).toBeLessThan(1.8);
  });

  it('keeps every frame of a camera at CAPTURE_FPS whose frames come unevenly (two at once, then none for two frame times)', async () => {
    const { url } = await serveBunched(20, 2);

    const handedOn = await framesHandedOn(await cameraSource({ CAMERA_PATH: url, CAPTURE_FPS: '20', FFMPEG_PATH: ffmpegPath }), 40);

    // 40 frames sent in 2 s; the rate limit's slots of 1/20 s kept one of each two (3.6-3.9 s for 40).
    expect((handedOn[handedOn.length - 1].timeMs - handedOn[0].timeMs) / 1000).toBeLessThan(2.8);
  });

  it('hands on a quarter second of frames at most (and the one the rate limit holds) of a backlog a camera delivers at once after a stall', async () => {
    // A second's 20 frames at once, each second.
    const { url } = await serveBunched(20, 20);

    const handedOn = await framesHandedOn(await cameraSource({ CAMERA_PATH: url, CAPTURE_FPS: '20', FFMPEG_PATH: ffmpegPath }), 14);

    // A backlog's frames leave ffmpeg within milliseconds of each other, a second from the next backlog's.
    const backlogStarts = handedOn.filter(({ timeMs }, index) => index === 0 || timeMs - handedOn[index - 1].timeMs > 300).map(({ sequence }) => sequence);
    const backlogSizes = backlogStarts.slice(1).map((start, index) => start - backlogStarts[index]);
    expect(backlogSizes.length).toBeGreaterThan(0);
    // 5 and 1, and what refills while ffmpeg decodes the backlog, a frame each 50 ms it takes (9 seen on loaded cores);
    // 20 without a limit, 11 with the allowance doubled.
    expect(Math.max(...backlogSizes)).toBeLessThanOrEqual(10);
  });

  it('keeps frames the rate limit lets through under 1/25 s apart without a decoder message (a 50 fps camera under CAPTURE_FPS=50)', async () => {
    const { url } = await serve('ok', 50);
    const messages: string[] = [];

    const frames = await take(await cameraSource({ CAMERA_PATH: url, CAPTURE_FPS: '50', FFMPEG_PATH: ffmpegPath }, 'CAMERA_PATH', (message) => messages.push(message)), 50);

    // Timed by ffmpeg's 1/25 s guess for MJPEG, every other frame had its predecessor's time: "non monotonically increasing dts".
    expect(messages).toEqual([]);
    expect(frames).toHaveLength(50);
  });

  it('without it, advises it where ffmpeg cannot split a camera, naming the setting that chose the URL and not its password', async () => {
    const { url } = await serve('nodash');
    const withPassword = url.replace('//', '//viewer:s3cret@');

    const failure = await readUntilFailure(await cameraSource({ CAMERA_PATH: withPassword, FFMPEG_PATH: ffmpegPath }, 'CAPTURE_SOURCES[1] CAMERA_PATH'));

    expect(failure.message).toMatch(
      /: Invalid data found when processing input: an MJPEG camera ffmpeg could not split \(CAPTURE_SOURCES\[1\] CAPTURE_STREAM_FORMAT=mjpeg reads its pictures as bare JPEGs\), or no video at that URL \(a login or status page\)$/,
    );
    expect(failure.message).not.toContain('s3cret');
  });
}
