import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { readBgrImage } from '@iev/testing';
import { evaluateDetections, readTextFrameSet, type ImageView, type TextFrame } from '@iev/text-detection';
import { decodeFile, type DecodedFrame } from './media';
import { seedDetectorFixture, WORKSPACE_ROOT } from './seed-detector.fixture';

jest.setTimeout(120_000);

const root = WORKSPACE_ROOT;
const { workDir, detector } = seedDetectorFixture('cli-media-');
// 1280x720, dark text lines on a light background, every line found by the seed preset.
const [frame] = readTextFrameSet(join(root, 'testdata/text-frames/dev-b'));

async function decodeAll(path: string): Promise<DecodedFrame[]> {
  const frames: DecodedFrame[] = [];
  for await (const decoded of decodeFile(path)) frames.push({ ...decoded, image: { ...decoded.image, data: Buffer.from(decoded.image.data) } });
  return frames;
}

/** The share of the frame's true lines that detection finds in the image (ICDAR 2015 matching, IoU >= 0.5). */
async function recall(image: ImageView, truth: TextFrame): Promise<number> {
  const { boxes } = await detector().detect(image);
  return evaluateDetections([{ gt: truth.truth, detections: boxes.map((box) => box.points) }], 0.5).recall;
}

describe('decodeFile', () => {
  it('decodes a still image as BGR, pixel for pixel as ffmpeg does', async () => {
    const [decoded, ...more] = await decodeAll(frame.path);
    expect(more).toHaveLength(0);
    expect(decoded.image).toMatchObject({ width: 1280, height: 720, stride: 1280 * 3 });
    expect(Buffer.compare(Buffer.from(decoded.image.data), Buffer.from(readBgrImage(frame.path, 1280, 720).data))).toBe(0);
  });

  it('turns a photo upright as its EXIF orientation says', async () => {
    // Stored sideways, as a phone held upright stores it, with Orientation 6: turn it 90° clockwise to show it.
    const portrait = join(workDir, 'portrait.jpg');
    await sharp(frame.path).rotate(270).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(portrait);

    const [decoded] = await decodeAll(portrait);

    expect([decoded.image.width, decoded.image.height]).toEqual([1280, 720]);
    expect(await recall(decoded.image, frame)).toBe(1);
  });

  it('lays a transparent background over white', async () => {
    // The frame in black ink, as opaque as the frame is dark: over white it is the frame in grey, over black all black.
    const { data: grey, info } = await sharp(frame.path).greyscale().raw().toBuffer({ resolveWithObject: true });
    const ink = Buffer.alloc(info.width * info.height * 4);
    for (let i = 0; i < grey.length; i++) ink[i * 4 + 3] = 255 - grey[i];
    const transparent = join(workDir, 'transparent.png');
    await sharp(ink, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toFile(transparent);

    const [decoded] = await decodeAll(transparent);

    expect(await recall(decoded.image, frame)).toBe(1);
  });

  // A PNG is decoded by sharp, a BMP (which sharp cannot read) by ffmpeg, whose image2 demuxer takes a %d as a pattern.
  it.each(['png', 'bmp'])('reads a %s whose name holds a %%d as that one file, not as a numbered sequence', async (format) => {
    const folder = mkdtempSync(join(workDir, `${format}-`));
    const named = join(folder, `frame%d.${format}`);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', frame.path, join(folder, `picture.${format}`)]);
    renameSync(join(folder, `picture.${format}`), named);
    // What the pattern names instead: a read of this one would be the wrong picture.
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240', '-frames:v', '1', join(folder, `frame1.${format}`)]);

    const decoded = await decodeAll(named);

    expect(decoded.map(({ index, image }) => [index, image.width, image.height])).toEqual([[0, 1280, 720]]);
    expect(Buffer.compare(Buffer.from(decoded[0].image.data), Buffer.from(readBgrImage(frame.path, 1280, 720).data))).toBe(0);
  });

  it('decodes a video, and an animated GIF, frame by frame with ffmpeg', async () => {
    const clip = join(workDir, 'clip.mp4');
    const animation = join(workDir, 'animation.gif');
    for (const output of [clip, animation]) {
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-frames:v', '3', output]);
    }
    for (const file of [clip, animation]) {
      expect((await decodeAll(file)).map(({ index, image }) => [index, image.width, image.height])).toEqual([
        [0, 320, 240],
        [1, 320, 240],
        [2, 320, 240],
      ]);
    }
  });

  // ffmpeg reads only a TIFF's first page, and cannot tell an animated WebP's size.
  it.each(['tiff', 'webp'])('decodes each page of a multi-page %s', async (format) => {
    const blank = await sharp({ create: { width: 1280, height: 720, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const pages = join(workDir, `pages.${format}`);
    await sharp([blank, await sharp(frame.path).png().toBuffer()], { join: { animated: true } })
      .toFormat(format as 'tiff' | 'webp', { lossless: true })
      .toFile(pages);

    const decoded = await decodeAll(pages);

    expect(decoded.map(({ index, image }) => [index, image.width, image.height])).toEqual([
      [0, 1280, 720],
      [1, 1280, 720],
    ]);
    expect(await recall(decoded[1].image, frame)).toBe(1);
  });

  it('says a file that is neither a picture nor a video is neither, whatever its name', async () => {
    const notes = join(workDir, 'notes.jpg');
    writeFileSync(notes, 'not a picture\n');

    await expect(decodeAll(notes)).rejects.toThrow(new RegExp(`^${notes} is neither a picture nor a video that can be read \\(`));
  });

  it('says a file that is not there is not found, not which kind it would have been', async () => {
    const missing = join(workDir, 'nothere.png');

    await expect(decodeAll(missing)).rejects.toThrow(new RegExp(`^file not found: ${missing}$`));
  });
});
