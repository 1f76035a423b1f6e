import sharp, { type Matrix3x3, type Sharp } from 'sharp';
import { VideoFileSource } from '@iev/capture-sources';
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
 * a portrait photo sideways and a transparent background as black, and takes a `%d` in its name for a numbered
 * sequence. Anything else (a video, an animated GIF, a BMP) is decoded by ffmpeg, as fast as it can.
 */
export async function* decodeFile(path: string): AsyncGenerator<DecodedFrame> {
  // What the file is, from its contents: sharp cannot read a video, and reads each frame of an animation as a page.
  const image = sharp(path);
  const picture = await image.metadata().then(
    ({ pages }) => (pages ?? 1) === 1,
    () => false,
  );
  if (picture) {
    yield { index: 0, image: await decodePicture(image, path) };
    return;
  }
  const source = new VideoFileSource({ path, sourceId: path, loop: false, realtime: false });
  let index = 0;
  for await (const { header, pixels } of source.frames()) {
    yield { index: index++, image: { data: pixels, width: header.width, height: header.height, stride: header.stride } };
  }
}

/** The picture `image` (sharp, its header already read) reads from `path`, upright, over white, as BGR. */
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
