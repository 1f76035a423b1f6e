import { execFile } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import type { FrameSizeReader } from './decoder-source';
import { ensureToolRuns, type ExternalTool } from './decoder-tools';
import type { FrameSize, OutputShape } from './frame-source';
import { VideoSourceError } from './video-source-error';

export interface VideoInfo extends FrameSize {
  /** Frames per second; NaN when the file does not say. */
  fps: number;
  /** Seconds; NaN when the file does not say. */
  durationSeconds: number;
}

/** ffprobe from the same place as ffmpeg: beside it when ffmpeg is given as a path, else on PATH. */
export function ffprobeFor(ffmpegPath: string): ExternalTool {
  return {
    path: basename(ffmpegPath) === ffmpegPath ? 'ffprobe' : join(dirname(ffmpegPath), 'ffprobe'),
    versionFlag: '-version',
    installHint: 'install ffmpeg (apt-get install ffmpeg) or set ffmpegPath',
  };
}

/** The major version in `ffmpeg -version`'s first line; builds from git ("N-...") count as current. */
export function ffmpegMajorVersion(versionLine: string): number {
  const release = /^ffmpeg version n?(\d+)\./.exec(versionLine);
  return release ? Number(release[1]) : Infinity;
}

/** ffmpeg reading the input its arguments describe, writing raw BGR24 frames to stdout after the given filters. */
export function ffmpegToRawBgrArgs(inputArgs: string[], filters: string[]): string[] {
  return [
    // level+info tags every stderr line with its level (DecoderLog keeps the warnings and errors) and prints the
    // output stream line that announces the frame size.
    ...['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'level+info'],
    ...inputArgs,
    '-an',
    ...(filters.length > 0 ? ['-vf', filters.join(',')] : []),
    ...['-pix_fmt', 'bgr24', '-f', 'rawvideo', 'pipe:1'],
  ];
}

/** fps before scale, so dropped frames are never scaled; a lone side keeps the aspect ratio (-1). */
export function rateAndSizeFilters({ width, height, fps }: OutputShape): string[] {
  return [...(fps ? [`fps=${fps}`] : []), ...(width || height ? [`scale=${width ?? -1}:${height ?? -1}`] : [])];
}

/**
 * Reads the frame size from ffmpeg's description of its output stream, e.g.
 * "[info]   Stream #0:0: Video: rawvideo (BGR[24] / 0x18524742), bgr24(pc, ...), 320x240 [SAR 1:1 DAR 4:3], ...";
 * input streams are described first and may be rawvideo too (a V4L2 camera), hence waiting for "Output #0".
 */
export function ffmpegOutputSizeReader(): FrameSizeReader {
  let inOutputSection = false;
  return (line) => {
    if (/^\[info\] Output #0\b/.test(line)) inOutputSection = true;
    const size = inOutputSection ? /Stream #0:0.*: Video: rawvideo\b.*?, (\d+)x(\d+)\b/.exec(line) : null;
    return size ? { width: Number(size[1]), height: Number(size[2]) } : undefined;
  };
}

/** The last few non-empty lines of a tool's stderr, where ffprobe puts the reason it failed. */
export function lastLines(text: string, count = 3): string {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
  return lines.slice(-count).join(' | ');
}

interface ProbedStream {
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  side_data_list?: { rotation?: number }[];
  tags?: { rotate?: string };
}

interface ProbeResult {
  streams?: ProbedStream[];
  format?: { duration?: string };
}

function parseRate(rate: string | undefined): number {
  const [numerator, denominator] = String(rate).split('/').map(Number);
  return numerator / denominator;
}

/** The first value that is a usable positive number, NaN when none is (ffprobe says "N/A" or "0/0"). */
function firstPositive(values: number[]): number {
  return values.find((value) => Number.isFinite(value) && value > 0) ?? NaN;
}

function displayedSize(stream: ProbedStream): FrameSize {
  const width = Number(stream.width);
  const height = Number(stream.height);
  // ffmpeg rotates on decoding (autorotate), so a quarter turn swaps the sides. ffmpeg 5 reports the rotation as side
  // data, ffmpeg 4 as a tag.
  const rotation = stream.side_data_list?.find((sideData) => sideData.rotation !== undefined)?.rotation ?? Number(stream.tags?.rotate ?? 0);
  return Math.abs(rotation) % 180 === 90 ? { width: height, height: width } : { width, height };
}

/** Size, rate and duration of a video file's first video stream, via ffprobe. */
export async function probeVideo(path: string, ffmpegPath: string): Promise<VideoInfo> {
  const ffprobe = ffprobeFor(ffmpegPath);
  await ensureToolRuns(ffprobe);
  const entries = 'stream=width,height,avg_frame_rate,r_frame_rate,duration:stream_side_data=rotation:stream_tags=rotate:format=duration';
  const probed = await new Promise<ProbeResult>((resolve, reject) => {
    execFile(ffprobe.path, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', entries, '-of', 'json', path], (error, stdout, stderr) => {
      if (error) return reject(new VideoSourceError(`cannot read video file ${path}: ${lastLines(stderr) || error.message}`));
      resolve(JSON.parse(stdout) as ProbeResult);
    });
  });
  const stream = probed.streams?.[0];
  if (!stream) throw new VideoSourceError(`no video stream in ${path}`);
  const { width, height } = displayedSize(stream);
  if (!(width > 0 && height > 0)) throw new VideoSourceError(`cannot tell the frame size of ${path}`);
  return {
    width,
    height,
    fps: firstPositive([parseRate(stream.avg_frame_rate), parseRate(stream.r_frame_rate)]),
    durationSeconds: firstPositive([Number(stream.duration), Number(probed.format?.duration)]),
  };
}
