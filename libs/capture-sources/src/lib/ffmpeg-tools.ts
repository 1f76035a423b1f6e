import { isAbsolute } from 'node:path';
import { ColorMatrix } from '@iev/frame-protocol';
import ffmpeg, { type FfprobeData, type FfprobeStream } from 'fluent-ffmpeg';
import type { FrameFormatReader } from './decoder-source';
import { assertCropInside, type Crop, cropFilter, pictureSizeAt } from './crop';
import { ensureToolRuns } from './decoder-tools';
import { ffprobeFor, useFfmpegPath } from './ffmpeg-command';
import { ROUNDED_TIMES_ALLOWANCE, rateLimitCapacity } from './frame-rate-limit';
import type { FrameSize, OutputShape } from './frame-source';
import { VideoSourceError } from './video-source-error';

export interface VideoInfo extends FrameSize {
  /** Frames per second; NaN when the file does not say. */
  fps: number;
  /** Seconds; NaN when the file does not say. */
  durationSeconds: number;
  /** The stream described, by its index in the file: the one to decode (ffmpeg's -map 0:<index>). */
  streamIndex: number;
  /** ffmpeg's demuxer for the file (`mov,mp4,...`, `image2` for a picture read by name, `png_pipe`, ...). */
  formatName: string;
  /** ffmpeg's name of the stream's pixel format (`yuv420p`, `rgba`, ...). */
  pixelFormat: string;
  /**
   * Turned a quarter, its pixels not square: ffmpeg's turn leaves them the other shape, so its picture in square pixels
   * is not this size but a smaller or larger one of the same shape (48x48 at 4:3, shown 48x64: 36x48).
   */
  turnedNotSquare?: boolean;
}

/** A still picture's demuxer: image2 (read by name) or one of the `<codec>_pipe` ones ffprobe names a JPEG, PNG, WebP... */
export const isPicture = (formatName: string): boolean => formatName === 'image2' || formatName.endsWith('_pipe');

/** A version as [major, minor]. */
type Version = [number, number];

/**
 * What `ffmpeg -version` says of the versions that matter here: the release it prints first, and its libavformat's,
 * which a build from git ("N-...", like npm's static ffmpeg 4.1) names instead of a release.
 */
function versionsSaid(versionOutput: string): { release?: Version; libavformat?: Version } {
  const asVersion = (found: RegExpExecArray | null): Version | undefined => (found ? [Number(found[1]), Number(found[2])] : undefined);
  return {
    release: asVersion(/^ffmpeg version n?(\d+)\.(\d+)/.exec(versionOutput)),
    libavformat: asVersion(/^libavformat\s+(\d+)\.\s*(\d+)\./m.exec(versionOutput)),
  };
}

const atLeast = ([major, minor]: Version, [leastMajor, leastMinor]: Version) => major > leastMajor || (major === leastMajor && minor >= leastMinor);

/**
 * The major version `ffmpeg -version` prints first. A build from git names none: its libavformat does (58 in ffmpeg 4,
 * one more each major since); without that it counts as current.
 */
export function ffmpegMajorVersion(versionOutput: string): number {
  const { release, libavformat } = versionsSaid(versionOutput);
  if (release) return release[0];
  return libavformat ? libavformat[0] - 54 : Infinity;
}

/**
 * Output options that hand each frame on as decoded: ffmpeg times raw video at a constant rate by default, so it
 * repeats frames of a variable-rate file or stream to fill the gaps (a file of 30 frames gave 59) and drops some
 * that come early. CAPTURE_FPS still caps the rate, by its filter. `-fps_mode` since ffmpeg 5.1 (libavformat 59.27, for
 * a build from git); `-vsync` before (deprecated since, with a warning). Without either version it counts as current.
 */
export function framesAsDecoded(versionOutput: string): string[] {
  const { release, libavformat } = versionsSaid(versionOutput);
  const hasFpsMode = release ? atLeast(release, [5, 1]) : !libavformat || atLeast(libavformat, [59, 27]);
  return [hasFpsMode ? '-fps_mode' : '-vsync', 'passthrough'];
}

/**
 * A frame timed less than this before the latest time seen is jitter (a camera's own times not always rising), not a
 * restart: it adds nothing to the bucket, and the latest time stays, so such steps back cannot buy frames beyond
 * the rate (a restart resets the bucket: every tenth frame of a 30 fps source stepped back 1 ms kept 3.1 a second at
 * CAPTURE_FPS=1). A longer step back is a stream restarted or a discontinuity, whose frames are then counted anew.
 */
const STEP_BACK_JITTER_SECONDS = 1;

/**
 * The scale to the size asked, in square pixels unless both sides are asked (then that size, whatever the picture's
 * shape): a stream or camera whose stored pixels are not square (an analog encoder's 704x480 at 10:11, HDV's
 * 1440x1080 at 4:3, an IP camera's anamorphic substream) would otherwise reach the models and the preview squeezed.
 * By ffmpeg's own `sar` and `dar` of the decoded stream, taken as the filters are configured (again at a size
 * change), so nothing has to probe the source first (ffmpegOutputFormatReader reads the size made). Where nothing is asked, the width
 * goes to the displayed one (`round(iw*sar)`, as a probed file's, displayedSize): square pixels (`sar` 1, or unknown,
 * which ffmpeg counts as 1) give the input's size, which scale hands on untouched. A lone side is completed by the
 * displayed aspect ratio.
 */
function sizeFilter({ width, height }: OutputShape): string {
  if (width && height) return `scale=${width}:${height}`;
  if (width) return `scale=${width}:round(${width}/dar)`;
  if (height) return `scale=round(${height}*dar):${height}`;
  return 'scale=round(iw*sar):ih';
}

/**
 * The rate limit first, so dropped frames are never cropped or scaled; then the crop (cropFilter), so the scale and
 * the conversion after it touch only the region kept; then sizeFilter, which takes the crop's shape. A token
 * bucket, in the select filter's stored values: ld(0) holds the frames it may let through, refilled at fps a second by
 * the frames' own times up to one and the allowances, ld(1) the latest frame time seen; a frame is kept where a whole
 * one is there to spend. So a source no faster than fps keeps every frame though they come unevenly (the slots of
 * 1/fps this replaced dropped the second of two in one slot: 124 of 190 frames kept of a 30 fps HTTP camera at
 * CAPTURE_FPS=30 on loaded cores), one faster is held to fps, over any stretch at most the allowances more, and a
 * backlog read at once after a stall gives a quarter second's frames and one at most. The first frame, and one whose
 * time went back a second or more (a stream restarted), is kept and leaves the bucket at a quarter of a frame: a 2 s file of 30 fps at
 * 10 gives 20 (of 60 fps, 21).
 * Only drops: ffmpeg's fps filter repeats frames up to the rate, so a camera slower than it (25 fps by day, 5 at night
 * under CAPTURE_FPS=10) had each frame decoded, sent and run through the models twice, and counted at the rate asked.
 */
export function rateAndSizeFilters({ width, height, fps, crop }: OutputShape): string[] {
  const cropAndScale = [...(crop ? [cropFilter(crop)] : []), sizeFilter({ width, height })];
  if (!fps) return cropAndScale;
  const refill = `st(0,min(${rateLimitCapacity(fps)},ld(0)+(t-ld(1))*${fps}));st(1,t)`;
  const restart = `st(0,${1 + ROUNDED_TIMES_ALLOWANCE});st(1,t)`;
  const jitteredBack = `n*lt(ld(1)-t,${STEP_BACK_JITTER_SECONDS})`;
  return [`select='if(n*gte(t,ld(1)),${refill},if(${jitteredBack},0,${restart}));if(gte(ld(0),1),st(0,ld(0)-1);1,0)'`, ...cropAndScale];
}

/** ffmpeg's names (av_color_space_name) of the matrices frames carry; any other is left unsaid, read as BT.601. */
const COLOR_MATRICES_NAMED: Readonly<Record<string, ColorMatrix>> = {
  bt709: ColorMatrix.BT709,
  bt470bg: ColorMatrix.BT601,
  smpte170m: ColorMatrix.BT601,
  bt2020nc: ColorMatrix.BT2020,
};

/** The matrix ffmpeg names (`bt709`, `smpte170m`, ...); undefined for `unknown` and the rest. */
export function colorMatrixNamed(name: string | undefined): ColorMatrix | undefined {
  return name !== undefined && Object.hasOwn(COLOR_MATRICES_NAMED, name) ? COLOR_MATRICES_NAMED[name] : undefined;
}

/**
 * Reads the frames' format from ffmpeg's description of its output stream, e.g.
 * "[info]   Stream #0:0: Video: rawvideo (I420 / 0x30323449), yuv420p(tv, bt709, progressive), 640x360 [SAR 1:1 DAR 16:9], ...":
 * the size, the range (`pc` is full, `tv` or none limited), and the matrix where the pixel format's details name one
 * (their colour part is the matrix alone, or "matrix/primaries/transfer" where those differ). This describes what is
 * written, where a probe of the input would not: ffmpeg may convert the range on the way. Input streams are described
 * first and may be rawvideo too (a V4L2 camera), hence waiting for "Output #0". An output stream line it cannot read
 * throws a VideoSourceError quoting it. ffmpeg before 5 names no matrix there: the one its description of the input
 * video names (a file's or a stream's) stands in, which scaling YUV keeps.
 *
 * A stream that changes size mid-stream (an encoder or camera switched to another resolution) has its filters rebuilt
 * for the new size, and ffmpeg squashes their output into the first size by a scaler of its own (`scaler_out_...`),
 * saying so only at level verbose: that line gives the size the frames would now have, for DecoderSource to fail the
 * source on, so that a restart reads the new size instead of frames squashed for good.
 *
 * With a crop, the picture it is configured for (pictureSizeAt, at each configuration, before the first frame)
 * must hold its region: otherwise this throws assertCropInside's error, which waits for the setting to change.
 */
export function ffmpegOutputFormatReader(inputStream?: number, crop?: Crop): FrameFormatReader {
  let inOutputSection = false;
  /** The decoded input stream's (`inputStream`, else the first video stream, which ffmpeg maps), once described. */
  let input: { matrix?: ColorMatrix } | undefined;
  const decoded = new RegExp(`Stream #0:${inputStream ?? '\\d+'}\\b.*: Video: `);
  return (verboseLine) => {
    const line = verboseLine.replace(REFERENCE_FRAMES, '');
    const cropped = crop && pictureSizeAt(line, true);
    if (cropped) assertCropInside(crop, cropped);
    const squashed = OUTPUT_SCALER_LINE.exec(line);
    if (squashed) {
      const [, width, height, firstWidth, firstHeight] = squashed.map(Number);
      return width !== firstWidth || height !== firstHeight ? { width, height } : undefined;
    }
    if (/^\[info\] Output #0\b/.test(line)) inOutputSection = true;
    if (!/Stream #0:\d+.*: Video: /.test(line)) return undefined;
    if (!inOutputSection) {
      if (!decoded.test(line)) return undefined;
      input ??= { matrix: namedMatrix(/: Video: [^,]*, \w+(?:\((.*)\))?, \d+x\d+\b/.exec(line)?.[1]) };
      return undefined;
    }
    if (!/Stream #0:0.*: Video: /.test(line)) return undefined;
    // Greedy: the details may hold parentheses of their own ("top coded first (swapped)", interlaced video).
    const stream = /: Video: rawvideo\b[^,]*, \w+(?:\((.*)\))?, (\d+)x(\d+)\b/.exec(line);
    // Frames cut at a guessed size would be garbage, and a source that waits for this line would wait for ever.
    if (!stream) throw new VideoSourceError(`cannot read the frames' size from ffmpeg's description of its output: ${line.trim()}`);
    const [, details = '', width, height] = stream;
    const colorMatrix = namedMatrix(details) ?? input?.matrix;
    return { width: Number(width), height: Number(height), ...(colorMatrix !== undefined && { colorMatrix }), ...(details.split(', ').includes('pc') && { fullRange: true }) };
  };
}

/** "[graph 0 input from stream 0:0 @ 0x5602] [verbose] w:640 h:360 pixfmt:yuv420p ...": the decoded size, at each (re)configuration of the filters. */
const FILTER_INPUT_LINE = /^\[graph \d+ input from stream \d+:\d+ @ 0x[0-9a-f]+\] \[verbose\] w:(\d+) h:(\d+) /;

/**
 * A file's frame format reader that also tells `changed`, once, of the first decoded size other than the first: a
 * file's frames are all scaled to the size probed at its start (`scale=W:H`), so a file whose resolution changes
 * mid-way keeps its frames' size, those after the change stretched to it, which nothing else would say. (A stream
 * fails on the change instead and restarts at the new size, ffmpegOutputFormatReader; a file restarted would play
 * from its start again.) The sizes are as decoded, before any rotation.
 */
export function toldOfSizeChange(reader: FrameFormatReader, changed: (from: FrameSize, to: FrameSize) => void): FrameFormatReader {
  let first: FrameSize | undefined;
  let told = false;
  return (line) => {
    const input = told ? null : FILTER_INPUT_LINE.exec(line);
    if (input) {
      const size = { width: Number(input[1]), height: Number(input[2]) };
      if (!first) first = size;
      else if (size.width !== first.width || size.height !== first.height) {
        told = true;
        changed(first, size);
      }
    }
    return reader(line);
  };
}

/** What a stream's description says at level verbose after the codec's name (", 1 reference frame"), before its pixel format. */
const REFERENCE_FRAMES = /, \d+ reference frames?\b/;
/** "[scaler_out_0_0 @ 0x5602] [verbose] w:1280 h:720 fmt:yuv420p sar:1/1 -> w:640 h:480 fmt:yuv420p sar:4/3 flags:0x0": one per output stream. */
const OUTPUT_SCALER_LINE = /^\[scaler_out_\S* @ 0x[0-9a-f]+\] \[verbose\] w:(\d+) h:(\d+) .*-> w:(\d+) h:(\d+)/;

/** The matrix a pixel format's details name ("tv, bt709/unknown/unknown, progressive"), if any. */
function namedMatrix(details: string | undefined): ColorMatrix | undefined {
  return details
    ?.split(', ')
    .map((detail) => colorMatrixNamed(detail.split('/')[0]))
    .find((matrix) => matrix !== undefined);
}

/** The last few non-empty lines of a tool's stderr, where ffprobe puts the reason it failed. */
export function lastLines(text: string, count = 3): string {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
  return lines.slice(-count).join(' | ');
}

/** A ratio ffprobe writes as `30/1` (a rate) or `4:3` (a pixel's shape); NaN for `N/A`, 0 or NaN for `0/0` and `0:1` (unknown). */
function parseRatio(ratio: string | undefined, separator = '/'): number {
  const [numerator, denominator] = String(ratio).split(separator).map(Number);
  return numerator / denominator;
}

/** The first value that is a usable positive number, NaN when none is (ffprobe says "N/A" or "0/0"). */
function firstPositive(values: number[]): number {
  return values.find((value) => Number.isFinite(value) && value > 0) ?? NaN;
}

/**
 * The size a player shows: stored pixels that are not square (`sample_aspect_ratio`: HDV's 1440x1080 at 4:3, DV's
 * 720x480) widened or narrowed to square ones, as the scale to this size does, so a frame is not squeezed where the
 * preview and the models see it; then turned. Not a picture's: browsers and sharp (the CLI) ignore a JPEG's pixel shape.
 */
function displayedSize(stream: FfprobeStream, picture: boolean): FrameSize & { turnedNotSquare: boolean } {
  const pixelAspect = picture ? 1 : parseRatio(stream.sample_aspect_ratio, ':');
  const square = !(pixelAspect > 0) || pixelAspect === 1;
  const width = Math.round(Number(stream.width) * (square ? 1 : pixelAspect));
  const height = Number(stream.height);
  // ffmpeg rotates on decoding (autorotate), so a quarter turn swaps the sides. ffmpeg 5 reports the rotation as side
  // data (which fluent-ffmpeg's parsing puts on the stream), ffmpeg 4 as a tag.
  const rotation = Number(stream.rotation ?? stream.tags?.rotate ?? 0);
  const turned = Math.abs(rotation) % 180 === 90;
  return turned ? { width: height, height: width, turnedNotSquare: !square } : { width, height, turnedNotSquare: false };
}

/**
 * A file's path as ffmpeg and ffprobe are to be given it: a relative one from `./`. Bare, a name in the working
 * directory is read as a protocol up to its first colon (a recording named by its time, `10:00:00.mp4`: "Protocol not
 * found"), and one starting with `-` as an option. Not made absolute by path.resolve, which drops `dir/..` as text:
 * through a symbolic link the system goes elsewhere.
 */
export const ffmpegFileArgument = (path: string): string => (isAbsolute(path) ? path : `./${path}`);

/**
 * Size (as displayed: turned, pixels square), rate and duration of a video file's first video stream that is not a cover picture, via fluent-ffmpeg's
 * ffprobe (the one beside ffmpegPath). Left to itself ffmpeg would decode the stream it likes best (the largest), so
 * the one described here is the one to map: a file of two video streams was otherwise read at one's size from the
 * other's pictures. A cover picture (an audio file's) is no video.
 */
export async function probeVideo(path: string, ffmpegPath: string): Promise<VideoInfo> {
  await ensureToolRuns(ffprobeFor(ffmpegPath));
  useFfmpegPath(ffmpegPath);
  const probed = await new Promise<FfprobeData>((resolve, reject) => {
    // -pattern_type none: a `%` in the name of a picture read by name (image2) is part of its name, not a numbered sequence.
    ffmpeg.ffprobe(ffmpegFileArgument(path), ['-v', 'error', '-pattern_type', 'none', '-select_streams', 'v'], (error: Error | null, data) => {
      // fluent-ffmpeg's error message is the exit status, then ffprobe's stderr.
      if (error) return reject(new VideoSourceError(`cannot read video file ${path}: ${lastLines(error.message)}`));
      resolve(data);
    });
  });
  const stream = probed.streams.find((candidate) => candidate.disposition?.attached_pic !== 1);
  if (!stream) throw new VideoSourceError(`no video stream in ${path}${probed.streams.length > 0 ? ' (only a cover picture)' : ''}`);
  const formatName = String(probed.format.format_name ?? '');
  const { width, height, turnedNotSquare } = displayedSize(stream, isPicture(formatName));
  if (!(width > 0 && height > 0)) throw new VideoSourceError(`cannot tell the frame size of ${path}`);
  return {
    width,
    height,
    fps: firstPositive([parseRatio(stream.avg_frame_rate), parseRatio(stream.r_frame_rate)]),
    durationSeconds: firstPositive([Number(stream.duration), Number(probed.format.duration)]),
    streamIndex: stream.index,
    formatName,
    pixelFormat: String(stream.pix_fmt ?? ''),
    turnedNotSquare,
  };
}
