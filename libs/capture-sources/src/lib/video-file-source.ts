import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { assertCropInside, cropRegion } from './crop';
import { type DecoderCommand, DecoderSource } from './decoder-source';
import type { BufferHeld } from './frame-ring';
import { ensureToolRuns, ffmpegTool } from './decoder-tools';
import { launchFfmpeg, useFfmpegPath } from './ffmpeg-command';
import { defaultFfmpegPath } from './ffmpeg-location';
import { ffmpegFileArgument, ffmpegOutputFormatReader, framesAsDecoded, isPicture, probeVideo, rateAndSizeFilters, toldOfSizeChange, type VideoInfo } from './ffmpeg-tools';
import { type UprightPicture, uprightPicture } from './picture-input';
import { assertSendableSize, DEFAULT_DECODED_FORMAT, type DecoderMessageListener, type FrameSize, type FrameSourceStats, type OutputShape, scaledSize } from './frame-source';
import { VideoSourceError } from './video-source-error';

export interface VideoFileSourceOptions extends OutputShape {
  /** The video file to read. */
  path: string;
  /** Goes into every frame header; defaults to the file's name. */
  sourceId?: string;
  /** Start again from the beginning at the end of the file, like a camera that never ends (default true). */
  loop?: boolean;
  /**
   * Release frames at the file's own frame rate, like a live camera (default true); false: decode only as the consumer
   * takes frames, each in turn (see FrameSource.live).
   */
  realtime?: boolean;
  /**
   * Its frames go to other modules (capture; inference's in-process sources), whose frame protocol takes at most
   * MAX_DIMENSION a side: a size over it is refused before ffmpeg runs. The CLI reads a wider file as it is.
   */
  framesSent?: boolean;
  /** The file as probed moments ago (prepareSource), so the start does not run ffprobe again. */
  probed?: VideoInfo;
  /** See FrameSourceOptions.bufferHeld. */
  bufferHeld?: BufferHeld;
  onDecoderMessage?: DecoderMessageListener;
  /** Told once (a line a person should read) of a frame size that changes mid-file: its frames are stretched to the first. */
  onWarning?: (message: string) => void;
  /** The ffmpeg executable (default: on PATH, else npm's; see defaultFfmpegPath); ffprobe is taken from the same place. */
  ffmpegPath?: string;
}

export interface VideoFileSourceStats extends FrameSourceStats {
  /** Times playback went back to the start of the file, counted from the file's duration and frame rate. */
  loops: number;
}

/** Decodes a video (or image) file with ffmpeg into raw frames, as a stand-in for a live camera. */
export class VideoFileSource extends DecoderSource {
  private readonly path: string;
  private framesPerLoop = NaN;

  constructor(private readonly options: VideoFileSourceOptions) {
    super({
      sourceId: options.sourceId ?? basename(options.path),
      label: options.path,
      endOfInputIsNormal: true,
      live: options.realtime ?? true,
      shape: options,
      bufferHeld: options.bufferHeld,
      onDecoderMessage: options.onDecoderMessage,
    });
    this.path = options.path;
  }

  override get stats(): VideoFileSourceStats {
    const stats = super.stats;
    const { framesDecoded } = stats;
    const loops = framesDecoded > 0 && this.framesPerLoop > 0 ? Math.floor((framesDecoded - 1) / this.framesPerLoop) : 0;
    return { ...stats, loops };
  }

  protected override async prepare(): Promise<DecoderCommand> {
    await assertIsFile(this.path);
    const { loop = true, realtime = true, fps, ffmpegPath = defaultFfmpegPath() } = this.options;
    const tool = ffmpegTool(ffmpegPath);
    const version = await ensureToolRuns(tool);
    useFfmpegPath(ffmpegPath);
    const video = this.options.probed ?? (await probeVideo(this.path, ffmpegPath));
    // The rate limit only drops: a file slower than it keeps its own rate.
    const rate = fps !== undefined && !(video.fps < fps) ? fps : video.fps;
    this.framesPerLoop = Math.round(video.durationSeconds * rate);
    const { shown, upright: picture } = await filePicture(this.path, ffmpegPath, video);
    // Scaled to the size computed here from the probe: the displayed size (of the crop) where none is asked (a no-op then).
    const { crop } = this.options;
    if (crop) assertCropInside(crop, shown, this.label);
    const size = scaledSize(crop ? cropRegion(crop, shown) : shown, this.options);
    // Before ffmpeg runs, not only at the first frame: ffmpeg refuses most such sizes itself, in words that name neither.
    if (this.options.framesSent) assertSendableSize(size, this.label);
    // A picture read by name (image2: a JPEG, a BMP) takes its own options: it loops by -loop, not -stream_loop,
    // and a `%` in its name is no numbered sequence.
    const byName = video.formatName === 'image2';
    const inputOptions = [
      ...(byName ? ['-pattern_type', 'none'] : []),
      ...(picture?.inputOptions ?? []),
      ...(loop ? (byName ? ['-loop', '1'] : ['-stream_loop', '-1']) : []),
      // -re paces reading at the file's own rate, and keeps doing so across -stream_loop's restarts.
      ...(realtime ? ['-re'] : []),
      // Frame-threaded decoding holds back a frame per thread; a camera stand-in should hand each frame on once read.
      ...['-thread_type', 'slice'],
    ];
    const pixelFormat = this.options.pixelFormat ?? DEFAULT_DECODED_FORMAT;
    const input = {
      inputOptions,
      input: ffmpegFileArgument(this.path),
      videoFilters: [...(picture?.filters ?? []), ...(crop && video.turnedNotSquare ? shownInSquarePixels(shown) : []), ...rateAndSizeFilters({ ...size, fps, crop })],
      pixelFormat,
      outputOptions: ['-map', `0:${video.streamIndex}`, ...framesAsDecoded(version)],
    };
    // The frames' format as ffmpeg says it writes them (their range may not be the file's).
    const frameFormat = toldOfSizeChange(ffmpegOutputFormatReader(video.streamIndex, crop), (from, to) =>
      this.options.onWarning?.(
        `${this.label}: frame size changed mid-file from ${from.width}x${from.height} to ${to.width}x${to.height}; its frames stay ${size.width}x${size.height}, ` +
          'those after the change stretched to it (restarting would play the file from its start)',
      ),
    );
    return { tool, frameFormat, pictureSize: { width: shown.width, height: shown.height }, pixelFormat, launch: (listeners) => launchFfmpeg(input, listeners) };
  }
}

/**
 * A crop's pixels are those of `shown`, which it was checked against; ffmpeg's crop reads them in its own picture's
 * square pixels, which for a file turned a quarter with pixels not square are another size (VideoInfo.turnedNotSquare):
 * scaled to `shown` first, the two agree.
 */
const shownInSquarePixels = (shown: FrameSize): string[] => [`scale=${shown.width}:${shown.height}`, 'setsar=1'];

/**
 * Throws a VideoSourceError unless path is a regular file with something in it, calling it `kind` (a CLI reading
 * images or videos: `file`); ffprobe would call an empty one "moov atom not found", or worse.
 * Not with the file system's error as the cause: the log would add its message, which names the file again, after ours.
 */
export async function assertIsFile(path: string, kind = 'video file'): Promise<void> {
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new VideoSourceError(error.code === 'ENOENT' ? `${kind} not found: ${path}${numberedSequenceHint(path)}` : `cannot read ${kind} ${path}: ${error.message}`);
  });
  if (!stats.isFile()) throw new VideoSourceError(`not a ${kind}: ${path} is not a regular file`);
  if (stats.size === 0) throw new VideoSourceError(`${kind} ${path} is empty`);
}

/**
 * What to do with a name that is a numbered image sequence as ffmpeg writes one (`frames/%04d.png`): a `%` is read as
 * part of a file's name (-pattern_type none), so such a path is a file not found, and would otherwise say no more.
 */
function numberedSequenceHint(path: string): string {
  // The number's %d (%04d) ends the name's word, as in f%04d.png: 100%done.mp4 is a name with a % in it, not a sequence.
  if (!/%\d*d(?![a-z])/i.test(path)) return '';
  return ` (a numbered image sequence is not read, its % taken as part of a name: make a video of its pictures, ffmpeg -i '${path}' pictures.mp4)`;
}

/**
 * The file's picture as its frames show it before crop and scale (displayed size, turned as the file says), and for
 * a still picture how it is read as the CLI reads it: upright by its EXIF orientation, transparency over white.
 */
export async function filePicture(path: string, ffmpegPath: string, video: VideoInfo): Promise<{ shown: FrameSize; upright?: UprightPicture }> {
  const upright = isPicture(video.formatName) ? await uprightPicture(path, ffmpegPath, video) : undefined;
  return { shown: upright?.size ?? { width: video.width, height: video.height }, upright };
}
