import { execFile } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import ffmpeg, { type FfprobeData, type FfprobeStream } from 'fluent-ffmpeg';
import { VideoSourceError } from './video-source-error';

export interface FfmpegPaths {
  ffmpeg: string;
  ffprobe: string;
}

export interface VideoInfo {
  /** As displayed, i.e. after the rotation ffmpeg applies on decoding. */
  width: number;
  height: number;
  /** Frames per second; NaN when the file does not say. */
  fps: number;
  /** Seconds; NaN when the file does not say. */
  durationSeconds: number;
}

/** ffprobe from the same place as ffmpeg: beside it when ffmpeg is given as a path, else on PATH. */
export function ffmpegPathsFor(ffmpegPath: string): FfmpegPaths {
  const ffprobe = basename(ffmpegPath) === ffmpegPath ? 'ffprobe' : join(dirname(ffmpegPath), 'ffprobe');
  return { ffmpeg: ffmpegPath, ffprobe };
}

const toolChecks = new Map<string, Promise<void>>();

/** Runs `<tool> -version` once per path, so a missing install fails with a hint instead of a bare ENOENT. */
function ensureToolRuns(toolPath: string): Promise<void> {
  let check = toolChecks.get(toolPath);
  if (!check) {
    check = new Promise<void>((resolve, reject) => {
      execFile(toolPath, ['-version'], (error) => {
        if (!error) return resolve();
        toolChecks.delete(toolPath);
        reject(new VideoSourceError(`cannot run ${toolPath} (${error.message.split('\n')[0]}): install ffmpeg (apt-get install ffmpeg) or set ffmpegPath`));
      });
    });
    toolChecks.set(toolPath, check);
  }
  return check;
}

let fluentPaths: FfmpegPaths | undefined;

/** Checks ffmpeg and ffprobe run, then points fluent-ffmpeg at them. */
export async function useFfmpegPaths(paths: FfmpegPaths): Promise<void> {
  await Promise.all([ensureToolRuns(paths.ffmpeg), ensureToolRuns(paths.ffprobe)]);
  // fluent-ffmpeg keeps a single ffmpeg path for the whole process, so two sources cannot use different ones.
  if (fluentPaths && fluentPaths.ffmpeg !== paths.ffmpeg) {
    throw new VideoSourceError(`this process already uses ffmpeg at ${fluentPaths.ffmpeg}; fluent-ffmpeg cannot also use ${paths.ffmpeg}`);
  }
  ffmpeg.setFfmpegPath(paths.ffmpeg);
  ffmpeg.setFfprobePath(paths.ffprobe);
  fluentPaths = paths;
}

/** The last few non-empty lines of a tool's stderr, where ffmpeg puts the reason it failed. */
export function lastLines(text: string, count = 3): string {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
  return lines.slice(-count).join(' | ');
}

function parseRate(rate: unknown): number {
  const [numerator, denominator] = String(rate).split('/').map(Number);
  return numerator / denominator;
}

/** The first value that is a usable positive number, NaN when none is (ffprobe says "N/A" or "0/0"). */
function firstPositive(values: number[]): number {
  return values.find((value) => Number.isFinite(value) && value > 0) ?? NaN;
}

function displayedSize(stream: FfprobeStream): { width: number; height: number } {
  const width = Number(stream.width);
  const height = Number(stream.height);
  // ffmpeg rotates on decoding (autorotate), so a quarter turn swaps the sides.
  const quarterTurn = Math.abs(Number(stream.rotation ?? 0)) % 180 === 90;
  return quarterTurn ? { width: height, height: width } : { width, height };
}

/** Size, rate and duration of the first video stream, via ffprobe. */
export async function probeVideo(path: string): Promise<VideoInfo> {
  const data = await new Promise<FfprobeData>((resolve, reject) => {
    ffmpeg.ffprobe(path, ['-v', 'error', '-select_streams', 'v:0'], (error: Error | null, probed: FfprobeData) => {
      if (!error) return resolve(probed);
      // fluent-ffmpeg puts ffprobe's stderr after the first line of the message.
      const [exitReason, ...stderr] = error.message.split('\n');
      reject(new VideoSourceError(`cannot read video file ${path}: ${lastLines(stderr.join('\n')) || exitReason}`));
    });
  });
  const stream = data.streams[0];
  if (!stream) throw new VideoSourceError(`no video stream in ${path}`);
  const { width, height } = displayedSize(stream);
  if (!(width > 0 && height > 0)) throw new VideoSourceError(`cannot tell the frame size of ${path}`);
  return {
    width,
    height,
    fps: firstPositive([parseRate(stream.avg_frame_rate), parseRate(stream.r_frame_rate)]),
    durationSeconds: firstPositive([Number(stream.duration), Number(data.format.duration)]),
  };
}
