import type { ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { PixelFormat } from '@iev/frame-protocol';
import ffmpeg, { type FfmpegCommand } from 'fluent-ffmpeg';
import type { DecoderLineListeners, LaunchedDecoder } from './decoder-source';
import { FFMPEG_INSTALL_HINT, type ExternalTool } from './decoder-tools';
import { ffprobePathFor } from './ffmpeg-location';
import { DEFAULT_DECODED_FORMAT, type DecodedFormat } from './frame-source';
import { frameSocketPath, PipeFrameOutput, removeFrameSocket, SocketFrameOutput } from './frame-output';
import { VideoSourceError } from './video-source-error';

/** What ffmpeg reads, the filters between decoding and conversion, and the raw format it writes. */
export interface FfmpegInput {
  /** Options for the input, placed before its -i. */
  inputOptions: string[];
  /** A file, a device, a URL or a lavfi graph. */
  input: string;
  videoFilters: string[];
  /** Default DEFAULT_DECODED_FORMAT. */
  pixelFormat?: DecodedFormat;
  /** Output options before the pixel format: which of the input's streams is decoded (-map), how frames are timed (framesAsDecoded). */
  outputOptions?: string[];
}

/** ffmpeg's names for the formats frames are decoded to. */
const FFMPEG_PIXEL_FORMATS: Record<DecodedFormat, string> = { [PixelFormat.BGR24]: 'bgr24', [PixelFormat.I420]: 'yuv420p' };

// level+verbose tags every stderr line with its level (DecoderLog keeps the warnings and errors), prints the output
// stream line that announces the frame size, and the scaler ffmpeg adds when a stream changes size (ffmpegOutputFormatReader).
const QUIET_GLOBAL_OPTIONS = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'level+verbose'];
const pixelFormatOptions = (pixelFormat: DecodedFormat = DEFAULT_DECODED_FORMAT) => ['-pix_fmt', FFMPEG_PIXEL_FORMATS[pixelFormat]];

/** The fluent-ffmpeg command that reads the input into raw video without audio; its output is given when run. */
export function rawVideoCommand({ inputOptions, input, videoFilters, pixelFormat, outputOptions = [] }: FfmpegInput): FfmpegCommand {
  // Spread, not one array: given an array, fluent-ffmpeg splits any item holding one space into two arguments.
  return ffmpeg(input)
    .inputOptions(...QUIET_GLOBAL_OPTIONS, ...inputOptions)
    .noAudio()
    .videoFilters(videoFilters)
    .outputOptions(...outputOptions, ...pixelFormatOptions(pixelFormat))
    .format('rawvideo');
}

/** The command line fluent-ffmpeg runs for the input when its output is a stream (pinned by a spec). */
export function rawVideoArgs({ inputOptions, input, videoFilters, pixelFormat, outputOptions = [] }: FfmpegInput): string[] {
  return [
    ...QUIET_GLOBAL_OPTIONS,
    ...inputOptions,
    ...['-i', input, '-an'],
    ...(videoFilters.length > 0 ? ['-filter:v', videoFilters.join(',')] : []),
    ...outputOptions,
    ...pixelFormatOptions(pixelFormat),
    ...['-f', 'rawvideo', 'pipe:1'],
  ];
}

/**
 * How long ffmpeg waits for capture to connect to its frame socket, in ms: capture connects within 200 ms of the
 * socket appearing, but one killed while ffmpeg still opened its input never will, and ffmpeg would wait for good
 * once the stream came. Only the wait for the connection: a consumer that asks for nothing for longer blocks no write.
 */
const FRAME_SOCKET_CONNECT_TIMEOUT_MS = 10_000;
/**
 * Runs ffmpeg on the input through fluent-ffmpeg. Its frames go to a unix socket it listens on, in a directory of
 * its own (removed once connected to, or once ffmpeg exits), which the returned frame output reads without a chunk
 * per read (SocketFrameOutput); where there is no such socket to be had (Windows, no writable temporary directory,
 * a path too long for a socket), through its stdout like any pipe.
 */
export function launchFfmpeg(input: FfmpegInput, listeners: DecoderLineListeners): LaunchedDecoder {
  const socketPath = frameSocketPath('ffmpeg');
  const command = rawVideoCommand(input).on('stderr', listeners.onLogLine);
  const started = new Promise<ChildProcess>((resolve, reject) => {
    // fluent-ffmpeg sets ffmpegProc (absent from its types) just before 'start'.
    command.once('start', () => resolve((command as FfmpegCommand & { ffmpegProc: ChildProcess }).ffmpegProc));
    command.on('error', reject);
  });
  // Once ffmpeg has exited and its stderr is read, fluent-ffmpeg emits 'end', or 'error' for a non-zero exit (which the
  // child's exit code tells as well); an 'error' before 'start' rejects `started` instead.
  const exited = new Promise<void>((resolve) => command.once('end', () => resolve()).on('error', () => resolve()));
  if (!socketPath) {
    // Without autoDestroy the stream never emits 'close', on which fluent-ffmpeg would kill ffmpeg 20 ms later: the
    // source's lifecycle decides when ffmpeg stops.
    const output = new PassThrough({ autoDestroy: false });
    command.pipe(output);
    return { frames: new PipeFrameOutput(output), started, exited };
  }
  // Removed as soon as capture is connected, so that a capture killed before ffmpeg exits leaves nothing behind.
  const removeDirectory = () => removeFrameSocket(socketPath);
  void exited.then(removeDirectory);
  command.output(`unix:${socketPath}`).outputOptions('-listen', '1', '-timeout', String(FRAME_SOCKET_CONNECT_TIMEOUT_MS)).run();
  return { frames: new SocketFrameOutput(socketPath, exited, removeDirectory), started, exited };
}

/** ffprobe from the same place as ffmpeg (ffprobePathFor). */
export function ffprobeFor(ffmpegPath: string): ExternalTool {
  return {
    path: ffprobePathFor(ffmpegPath),
    versionFlag: '-version',
    installHint: FFMPEG_INSTALL_HINT,
  };
}

let configuredFfmpegPath: string | undefined;

/**
 * Points fluent-ffmpeg at this ffmpeg and the ffprobe beside it. Its paths are process-wide, and a process has one
 * configured ffmpeg: a source asking for another fails rather than silently running the first.
 */
export function useFfmpegPath(ffmpegPath: string): void {
  if (configuredFfmpegPath === undefined) {
    ffmpeg.setFfmpegPath(ffmpegPath);
    ffmpeg.setFfprobePath(ffprobeFor(ffmpegPath).path);
    configuredFfmpegPath = ffmpegPath;
  } else if (configuredFfmpegPath !== ffmpegPath) {
    throw new VideoSourceError(
      `cannot use ffmpeg ${ffmpegPath}: this process already runs ${configuredFfmpegPath}, and fluent-ffmpeg takes one ffmpeg path per process`,
    );
  }
}
