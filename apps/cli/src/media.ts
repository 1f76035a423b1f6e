import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
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
 * a portrait photo sideways and a transparent background as black. Anything else (a video, an animated GIF, a BMP)
 * is decoded by ffmpeg, as fast as it can, from that one file whatever its name (see decodeWithFfmpeg).
 */
export async function* decodeFile(path: string): AsyncGenerator<DecodedFrame> {
  // Before anything reads it: a name that is no file is neither an image nor a video yet.
  await assertIsFile(path, 'file');
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
  yield* decodeWithFfmpeg(path);
}

/**
 * The frames of `path` as ffmpeg decodes them. Its image2 demuxer (a BMP, a TGA, ...) reads a `%` in a path as the
 * start of a pattern (`%d`: a numbered sequence), so such a path is given to ffmpeg as a link to the file, in a folder
 * of its own and named without `%`: the file named is the one read. The CLI reads files, never sequences
 * (VideoFileSource refuses a path that names no file).
 */
async function* decodeWithFfmpeg(path: string): AsyncGenerator<DecodedFrame> {
  const linkFolder = path.includes('%') ? await mkdtemp(join(tmpdir(), 'iev-cli-')) : undefined;
  const pathForFfmpeg = linkFolder === undefined ? path : join(linkFolder, basename(path).replaceAll('%', '_'));
  try {
    if (linkFolder !== undefined) await symlink(resolve(path), pathForFfmpeg);
    // BGR24 asked for, not left to the default: the frames go to the detector as they come.
    const source = new VideoFileSource({ path: pathForFfmpeg, sourceId: path, loop: false, realtime: false, pixelFormat: PixelFormat.BGR24 });
    let index = 0;
    for await (const { header, pixels } of source.frames()) {
      yield { index: index++, image: { data: pixels, width: header.width, height: header.height, stride: header.stride } };
    }
  } catch (error) {
    // VideoFileSource's errors name the path ffmpeg was given: name the one the caller gave.
    if (error instanceof Error) error.message = error.message.replaceAll(pathForFfmpeg, path);
    throw error;
  } finally {
    if (linkFolder !== undefined) await rm(linkFolder, { recursive: true, force: true });
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
