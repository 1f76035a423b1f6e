import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { PassThrough } from 'node:stream';
import ffmpeg, { type FfmpegCommand } from 'fluent-ffmpeg';
import { type FrameHeader, PixelFormat } from '@iev/frame-protocol';
import { FrameAssembler } from './frame-assembler';
import { ffmpegPathsFor, lastLines, probeVideo, useFfmpegPaths, type VideoInfo } from './ffmpeg-tools';
import { trackRunningCommand } from './live-children';
import { VideoSourceError } from './video-source-error';

export interface VideoFileSourceOptions {
  /** The video file to read. */
  path: string;
  /** Goes into every frame header; defaults to the file's name. */
  sourceId?: string;
  /** Start again from the beginning at the end of the file, like a camera that never ends (default true). */
  loop?: boolean;
  /** Release frames at the file's own frame rate, like a live camera (default true); false: as fast as decoding and the consumer allow. */
  realtime?: boolean;
  /** Output width in pixels, scaled inside ffmpeg; given alone, the height follows the file's aspect ratio. */
  width?: number;
  /** Output height in pixels, scaled inside ffmpeg; given alone, the width follows the file's aspect ratio. */
  height?: number;
  /** Output frame rate; frames are dropped (or repeated) inside ffmpeg, so Node never sees the discarded ones. */
  fps?: number;
  /** The ffmpeg executable (default 'ffmpeg' on PATH); ffprobe is taken from beside it. One per process (fluent-ffmpeg's limit). */
  ffmpegPath?: string;
}

export interface CapturedFrame {
  header: FrameHeader;
  /** BGR24, stride * height bytes. May be a view into a larger chunk of ffmpeg's output; copy it to keep it long. */
  pixels: Buffer;
}

export interface VideoFileSourceStats {
  /** Frames cut from ffmpeg's output so far; also the next frame's sequence number. */
  framesDecoded: number;
  /** Bytes read from ffmpeg's output. */
  bytesRead: number;
  /** Times playback went back to the start of the file, counted from the file's duration and frame rate. */
  loops: number;
}

const BYTES_PER_PIXEL = 3;
/** Frames decoded ahead of a slow consumer before ffmpeg's output is paused (ffmpeg then blocks on its pipe). */
const READY_FRAMES_LIMIT = 2;
/** Time ffmpeg gets to exit after SIGTERM before it is sent SIGKILL. */
const KILL_GRACE_MS = 1000;

interface FrameSize {
  width: number;
  height: number;
}

interface RunningFfmpeg {
  command: FfmpegCommand;
  output: PassThrough;
  /** Settles (never rejects) once the process has exited. */
  exited: Promise<void>;
}

/**
 * Decodes a video file with ffmpeg (through fluent-ffmpeg) into BGR24 frames, as a stand-in for a live camera.
 *
 * A source runs once: start() (or the first frames() step) launches ffmpeg, stop() or leaving the frames() loop ends it.
 */
export class VideoFileSource {
  readonly sourceId: string;
  private readonly path: string;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private stopRequested = false;
  private iterated = false;
  private ffmpeg: RunningFfmpeg | undefined;
  private exitedCleanly = false;
  private outputEnded = false;
  private failure: VideoSourceError | undefined;
  private readonly ready: CapturedFrame[] = [];
  private wakeConsumer: (() => void) | undefined;
  private framesPerLoop = NaN;
  private framesDecoded = 0;
  private bytesRead = 0;

  constructor(private readonly options: VideoFileSourceOptions) {
    this.path = options.path;
    this.sourceId = options.sourceId ?? basename(options.path);
    for (const side of ['width', 'height'] as const) {
      const value = options[side];
      if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
        throw new VideoSourceError(`${side} must be a positive integer, got ${value}`);
      }
    }
    if (options.fps !== undefined && !(Number.isFinite(options.fps) && options.fps > 0)) {
      throw new VideoSourceError(`fps must be a positive number, got ${options.fps}`);
    }
  }

  get stats(): VideoFileSourceStats {
    const loops = this.framesDecoded > 0 && this.framesPerLoop > 0 ? Math.floor((this.framesDecoded - 1) / this.framesPerLoop) : 0;
    return { framesDecoded: this.framesDecoded, bytesRead: this.bytesRead, loops };
  }

  /** Checks the file and ffmpeg, probes the video and launches ffmpeg. Safe to call more than once. */
  start(): Promise<void> {
    if (this.stopRequested) return Promise.reject(new VideoSourceError(`source for ${this.path} was stopped; create a new one`));
    this.starting ??= this.launch();
    return this.starting;
  }

  /** Kills ffmpeg (SIGTERM, then SIGKILL after a grace period) and resolves once it has exited. Safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.terminate();
    return this.stopping;
  }

  /**
   * The frames, in order, for a single consumer. Ends when a non-looping file ends or on stop(); leaving the loop stops
   * the source; rejects with a VideoSourceError when ffmpeg fails.
   */
  async *frames(): AsyncGenerator<CapturedFrame, void, undefined> {
    if (this.iterated) throw new VideoSourceError('frames() can be iterated only once per source');
    this.iterated = true;
    try {
      await this.start();
      for (let frame = await this.nextFrame(); frame; frame = await this.nextFrame()) yield frame;
    } finally {
      await this.stop();
    }
  }

  private async launch(): Promise<void> {
    await assertIsFile(this.path);
    await useFfmpegPaths(ffmpegPathsFor(this.options.ffmpegPath ?? 'ffmpeg'));
    const video = await probeVideo(this.path);
    const size = outputSize(video, this.options);
    this.framesPerLoop = Math.round(video.durationSeconds * (this.options.fps ?? video.fps));
    if (this.stopRequested) return;
    const running = this.spawn(size);
    this.ffmpeg = running;
    await new Promise<void>((resolve, reject) => {
      running.command.once('start', () => resolve());
      // Settles only if ffmpeg could not be started at all (once started, the promise is already resolved).
      void running.exited.then(() => (this.failure ? reject(this.failure) : resolve()));
    });
  }

  private spawn(size: FrameSize): RunningFfmpeg {
    const { loop = true, realtime = true, fps } = this.options;
    const assembler = new FrameAssembler(size.width * size.height * BYTES_PER_PIXEL);
    // Without autoDestroy the stream never emits 'close', which fluent-ffmpeg would answer with a kill and an error
    // 20 ms later, even after a clean end; ffmpeg's exit is what ends the source.
    const output = new PassThrough({ autoDestroy: false });
    const command = ffmpeg(this.path)
      .inputOptions([
        ...(loop ? ['-stream_loop', '-1'] : []),
        // -re paces reading at the file's own rate, and keeps doing so across -stream_loop's restarts.
        ...(realtime ? ['-re'] : []),
        // Frame-threaded decoding holds back a frame per thread; a camera stand-in should hand each frame on once read.
        '-thread_type', 'slice',
      ])
      .noAudio()
      // fps before scale, so dropped frames are never scaled; scale always, so frames have exactly the size computed here.
      .videoFilters([...(fps ? [`fps=${fps}`] : []), `scale=${size.width}:${size.height}`])
      .outputOptions(['-loglevel', 'error', '-nostats', '-pix_fmt', 'bgr24'])
      .format('rawvideo')
      .output(output, { end: true });

    output.on('data', (chunk: Buffer) => this.receive(chunk, assembler, size));
    output.on('end', () => {
      this.outputEnded = true;
      this.wake();
    });
    const exited = new Promise<void>((resolve) => {
      let untrack: (() => void) | undefined;
      const settle = () => {
        untrack?.();
        resolve();
        this.wake();
      };
      command.once('start', () => (untrack = trackRunningCommand(command)));
      command.once('end', () => {
        this.exitedCleanly = true;
        settle();
      });
      command.once('error', (error, _stdout, stderr) => {
        // Killed by stop(): an expected end, not a failure.
        if (!this.stopRequested) this.failure = this.describeFailure(error, stderr ?? '');
        settle();
      });
    });
    command.run();
    return { command, output, exited };
  }

  private receive(chunk: Buffer, assembler: FrameAssembler, size: FrameSize): void {
    // While stopping, output is drained and dropped so ffmpeg is not stuck writing and can see the signal.
    if (this.stopRequested) return;
    const captureTimeMs = performance.timeOrigin + performance.now();
    this.bytesRead += chunk.length;
    for (const pixels of assembler.push(chunk)) {
      const header: FrameHeader = {
        sourceId: this.sourceId,
        sequence: this.framesDecoded++,
        captureTimeMs,
        width: size.width,
        height: size.height,
        stride: size.width * BYTES_PER_PIXEL,
        pixelFormat: PixelFormat.BGR24,
      };
      this.ready.push({ header, pixels });
    }
    if (this.ready.length >= READY_FRAMES_LIMIT) this.ffmpeg?.output.pause();
    this.wake();
  }

  private async nextFrame(): Promise<CapturedFrame | undefined> {
    for (;;) {
      if (this.stopRequested) return undefined;
      const frame = this.ready.shift();
      if (frame) {
        if (this.ready.length < READY_FRAMES_LIMIT) this.ffmpeg?.output.resume();
        return frame;
      }
      if (this.failure) throw this.failure;
      if (this.outputEnded && this.exitedCleanly) return undefined;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }

  private wake(): void {
    const wakeConsumer = this.wakeConsumer;
    this.wakeConsumer = undefined;
    wakeConsumer?.();
  }

  private async terminate(): Promise<void> {
    this.stopRequested = true;
    this.ready.length = 0;
    this.wake();
    // A start that failed has nothing left running.
    await this.starting?.catch(() => undefined);
    const running = this.ffmpeg;
    if (!running) return;
    running.output.resume();
    running.command.kill('SIGTERM');
    const escalation = setTimeout(() => running.command.kill('SIGKILL'), KILL_GRACE_MS);
    await running.exited;
    clearTimeout(escalation);
  }

  private describeFailure(error: Error, stderr: string): VideoSourceError {
    // fluent-ffmpeg's message is "ffmpeg exited with code N", sometimes followed by ": <part of stderr>".
    const exitReason = error.message.split('\n')[0].split(': ')[0];
    return new VideoSourceError(`ffmpeg failed reading ${this.path} (${exitReason}): ${lastLines(stderr) || 'it gave no reason'}`);
  }
}

async function assertIsFile(path: string): Promise<void> {
  try {
    if (!(await stat(path)).isFile()) throw new VideoSourceError(`not a video file: ${path} is not a regular file`);
  } catch (error) {
    if (error instanceof VideoSourceError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new VideoSourceError(code === 'ENOENT' ? `video file not found: ${path}` : `cannot read video file ${path}: ${(error as Error).message}`);
  }
}

function outputSize(video: VideoInfo, requested: Partial<FrameSize>): FrameSize {
  const { width, height } = requested;
  if (width && height) return { width, height };
  if (width) return { width, height: Math.max(1, Math.round((width * video.height) / video.width)) };
  if (height) return { width: Math.max(1, Math.round((height * video.width) / video.height)), height };
  return { width: video.width, height: video.height };
}
