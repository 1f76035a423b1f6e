import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VideoFileSource } from '../lib/video-file-source';
import { take } from './decoders';

/** Encodes raw pixels (rgb24 or rgba, width × height) into a still picture workDir/name (JPEG, PNG: by its extension). */
function makePicture(workDir: string, name: string, pixelFormat: 'rgb24' | 'rgba', width: number, height: number, pixels: Buffer): string {
  const path = join(workDir, name);
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', pixelFormat, '-s', `${width}x${height}`, '-i', '-', '-frames:v', '1', '-q:v', '2', path], { input: pixels });
  return path;
}

/** The JPEG with an EXIF segment saying its orientation (TIFF tag 274) put in after its start marker. */
function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write('II*\0', 0, 'latin1'); // little-endian TIFF
  tiff.writeUInt32LE(8, 4); // its first IFD
  tiff.writeUInt16LE(1, 8); // one entry:
  tiff.writeUInt16LE(0x0112, 10); // Orientation,
  tiff.writeUInt16LE(3, 12); // a SHORT,
  tiff.writeUInt32LE(1, 14); // one of them:
  tiff.writeUInt16LE(orientation, 18);
  tiff.writeUInt32LE(0, 22); // no next IFD
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), app1, payload, jpeg.subarray(2)]);
}

/**
 * The specs of a still picture read as a camera (picture-input.ts), by the given ffmpeg: a spec file each, since
 * fluent-ffmpeg takes one ffmpeg per process.
 */
export function readsStillPicturesAsTheCliDoes(ffmpegPath: string): void {
  const workDir = mkdtempSync(join(tmpdir(), 'capture-sources-pictures-'));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  const [red, green, blue, white] = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 255],
  ];
  // 64x32 stored as four quadrants: red, green above blue, white.
  const stored = Buffer.alloc(64 * 32 * 3);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 64; x++) stored.set([[red, green], [blue, white]][y < 16 ? 0 : 1][x < 32 ? 0 : 1], (y * 64 + x) * 3);
  const jpeg = readFileSync(makePicture(workDir, 'quadrants.jpg', 'rgb24', 64, 32, stored));
  /** The quadrants as shown upright (top-left, top-right, bottom-left, bottom-right), by the EXIF definitions of each orientation. */
  const upright: Record<number, number[][]> = {
    1: [red, green, blue, white],
    2: [green, red, white, blue], // mirrored left to right
    3: [white, blue, green, red], // half a turn
    4: [blue, white, red, green], // mirrored top to bottom
    5: [red, blue, green, white], // mirrored, then three quarter turns clockwise
    6: [blue, red, white, green], // a quarter turn clockwise
    7: [white, green, blue, red], // mirrored, then a quarter turn clockwise
    8: [green, white, red, blue], // three quarter turns clockwise
  };

  it.each(Object.keys(upright).map(Number))('turns a JPEG of EXIF orientation %i upright', async (orientation) => {
    const path = join(workDir, `oriented-${orientation}.jpg`);
    writeFileSync(path, withExifOrientation(jpeg, orientation));

    const [{ header, pixels }] = await take(new VideoFileSource({ path, realtime: false, ffmpegPath }), 1);

    const [width, height] = orientation >= 5 ? [32, 64] : [64, 32];
    expect(header).toMatchObject({ width, height });
    const centres = [
      [width / 4, height / 4],
      [(3 * width) / 4, height / 4],
      [width / 4, (3 * height) / 4],
      [(3 * width) / 4, (3 * height) / 4],
    ];
    const seen = centres.map(([x, y]) => [...pixels.subarray(y * header.stride + x * 3, y * header.stride + x * 3 + 3)].reverse());
    seen.forEach((rgb, quadrant) => rgb.forEach((value, channel) => expect(Math.abs(value - upright[orientation][quadrant][channel])).toBeLessThan(40)));
  });

  it('shows a transparent PNG over white, as the CLI does, not over the black stored under it', async () => {
    // 32x16: the left half transparent black, the right half opaque red.
    const rgba = Buffer.alloc(32 * 16 * 4);
    for (let pixel = 0; pixel < 32 * 16; pixel++) if (pixel % 32 >= 16) rgba.set([255, 0, 0, 255], pixel * 4);
    const path = makePicture(workDir, 'half-clear.png', 'rgba', 32, 16, rgba);

    const [{ header, pixels }] = await take(new VideoFileSource({ path, realtime: false, ffmpegPath }), 1);

    const at = (x: number, y: number) => [...pixels.subarray(y * header.stride + x * 3, y * header.stride + x * 3 + 3)];
    expect(at(8, 8)).toEqual([255, 255, 255]);
    expect(at(24, 8)).toEqual([0, 0, 255]);
  });
}
