import { execFile } from 'node:child_process';
import { ffprobeFor } from './ffmpeg-command';
import { ffmpegFileArgument, type VideoInfo } from './ffmpeg-tools';
import type { FrameSize } from './frame-source';
import { VideoSourceError } from './video-source-error';

/**
 * EXIF orientations (TIFF tag 274) past 1, as the ffmpeg filters that turn the stored picture upright, as sharp's
 * rotate() does for the CLI; 5 to 8 swap its sides.
 */
const UPRIGHT_FILTERS: Readonly<Record<number, readonly string[]>> = {
  2: ['hflip'],
  3: ['hflip', 'vflip'],
  4: ['vflip'],
  5: ['transpose=0'],
  6: ['transpose=1'],
  7: ['transpose=3'],
  8: ['transpose=2'],
};

/** ffmpeg's pixel formats with an alpha channel (a PNG's `pal8` may have one in its palette). */
const WITH_ALPHA = /^(rgba|bgra|argb|abgr|ya\d|yuva|gbrap|pal8)/;

/**
 * Transparency over white, as the CLI flattens it (sharp): the picture laid over a white copy of itself. Without it a
 * transparent pixel reads as the colour stored under it, often black. (ffmpeg 4's premultiply takes RGBA for limited
 * range, so white less the colour, premultiplied, comes out 16 levels short; ffmpeg 5.1's drawbox with replace=1 on
 * RGBA crashes.)
 */
const OVER_WHITE = 'format=rgba,split[picture][under];[under]lutrgb=r=255:g=255:b=255:a=255[white];[white][picture]overlay=format=rgb';

/** How to read a still picture as the CLI does: the input options and filters, and the size its frames come out at. */
export interface UprightPicture {
  inputOptions: string[];
  filters: string[];
  size: FrameSize;
}

/**
 * A still picture upright as its EXIF orientation says and its transparency over white, whatever the ffmpeg: ffmpeg
 * 5 turns a JPEG by its EXIF orientation while decoding (and the probed size does not say so), ffmpeg 4 does not,
 * so its own turning is switched off (-noautorotate) and the picture turned here.
 */
export async function uprightPicture(path: string, ffmpegPath: string, video: VideoInfo): Promise<UprightPicture> {
  const orientation = await exifOrientation(path, ffmpegPath, video.streamIndex);
  const turn = UPRIGHT_FILTERS[orientation] ?? [];
  const quarterTurn = orientation >= 5 && orientation <= 8;
  return {
    inputOptions: ['-noautorotate'],
    filters: [...(WITH_ALPHA.test(video.pixelFormat) ? [OVER_WHITE] : []), ...turn],
    size: quarterTurn ? { width: video.height, height: video.width } : { width: video.width, height: video.height },
  };
}

/** The EXIF orientation of the picture's first frame, 1 (as stored) where it has none. */
function exifOrientation(path: string, ffmpegPath: string, streamIndex: number): Promise<number> {
  const args = ['-v', 'error', '-pattern_type', 'none', '-select_streams', String(streamIndex), '-read_intervals', '%+#1', '-show_entries', 'frame_tags=Orientation', '-of', 'json', ffmpegFileArgument(path)];
  return new Promise((resolve, reject) => {
    execFile(ffprobeFor(ffmpegPath).path, args, (error, stdout, stderr) => {
      if (error) return reject(new VideoSourceError(`cannot read picture ${path}: ${stderr.trim() || error.message}`));
      const frames = (JSON.parse(stdout) as { frames?: Array<{ tags?: { Orientation?: string } }> }).frames;
      resolve(Number(frames?.[0]?.tags?.Orientation ?? 1) || 1);
    });
  });
}
