import sharp, { type Matrix3x3, type Sharp } from 'sharp';
import { assertIsFile, VideoFileSource } from '@iev/capture-sources';
import { PixelFormat } from '@iev/frame-protocol';
import type { ImageView } from '@iev/text-detection';

export interface DecodedFrame {
  index: number;
  image: ImageView;
}

/** sharp's recomb matrix that swaps the red and blue channels: RGB in, BGR out. */
const RGB_TO_BGR: Matrix3x3 = [
  [0, 0, 1],
  [0, 1, 0],
  [1, 0, 0],
];

/**
 * Every frame of an image (PNG, JPEG, ...) or video file as BGR. A file sharp reads as one picture is decoded by
 * sharp: turned upright as its EXIF orientation says and its transparency laid over white, where ffmpeg (5.1) reads
 * a portrait photo sideways and a transparent background as black; so is each page of a multi-page TIFF and each
 * frame of an animated WebP, of which ffmpeg reads only the first page and no frame at all. Anything else (a video,
 * an animated GIF, a BMP) is decoded by ffmpeg, as fast as it can, from that one file whatever its name (a `%` in it
 * too).
 */
export async function* decodeFile(path: string): AsyncGenerator<DecodedFrame> {
  // Before anything reads it: a name that is no file is neither an image nor a video yet.
  await assertIsFile(path, 'file');
  // What the file is, from its contents: sharp cannot read a video, and reads each frame of an animation as a page.
  const metadata = await sharp(path)
    .metadata()
    .catch(() => undefined);
  if (!metadata) {
    yield* decodeOtherwise(path);
    return;
  }
  const pages = metadata.pages ?? 1;
  // ffmpeg decodes a GIF's frames in one pass; sharp would decode every frame before the page it is asked for.
  if (metadata.format === 'gif' && pages > 1) {
    yield* decodeWithFfmpeg(path);
    return;
  }
  for (let page = 0; page < pages; page++) yield { index: page, image: await decodePicture(sharp(path, { page }), path) };
}

/**
 * A file sharp cannot read, as ffmpeg decodes it. Where ffmpeg finds no frame either, it is no picture or video at
 * all (a text file named .jpg), which ffprobe's own words ("cannot tell the frame size") would not say.
 */
async function* decodeOtherwise(path: string): AsyncGenerator<DecodedFrame> {
  let frames = 0;
  try {
    for await (const frame of decodeWithFfmpeg(path)) {
      frames++;
      yield frame;
    }
  } catch (error) {
    if (frames > 0) throw error;
    throw new Error(`${path} is neither a picture nor a video that can be read (${(error as Error).message})`);
  }
}

/** The frames of `path` as ffmpeg decodes them (VideoFileSource), as fast as it can. */
async function* decodeWithFfmpeg(path: string): AsyncGenerator<DecodedFrame> {
  // BGR24 asked for, not left to the default: the frames go to the detector as they come.
  // A size that changes mid-file is said on stderr, beside the results: the frames after it are stretched to the first.
  const source = new VideoFileSource({ path, loop: false, realtime: false, pixelFormat: PixelFormat.BGR24, onWarning: (message) => process.stderr.write(`warning: ${message}\n`) });
  let index = 0;
  for await (const { header, pixels } of source.frames()) {
    yield { index: index++, image: { data: pixels, width: header.width, height: header.height, stride: header.stride } };
  }
}

/** The picture (or page) `image` (sharp) reads from `path`, upright, over white, as BGR. */
async function decodePicture(image: Sharp, path: string): Promise<ImageView> {
  try {
    const { data, info } = await image
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .recomb(RGB_TO_BGR)
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, stride: info.width * 3 };
  } catch (error) {
    throw new Error(`cannot decode image ${path}: ${(error as Error).message}`);
  }
}
