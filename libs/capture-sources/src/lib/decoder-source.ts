import type { ChildProcess } from 'node:child_process';
import { type ColorMatrix, epochMs, type FrameHeader, pixelByteLength, PixelFormat } from '@iev/frame-protocol';
import { maskCredentials } from '@iev/service-runtime';
import { DecoderLog, type DecoderTool } from './decoder-tools';
import { FrameAssembler } from './frame-assembler';
import type { FrameOutput } from './frame-output';
import { type BufferHeld, FrameRing } from './frame-ring';
import { FrameRateLimit } from './frame-rate-limit';
import { assertValidShape, type CapturedFrame, type DecodedFormat, type DecoderMessageListener, type FrameSize, type FrameSource, type FrameSourceStats, type OutputShape } from './frame-source';
import { trackRunningChild } from './live-children';
import { VideoSourceError } from './video-source-error';

/** What a decoder writes: the frames' size and, for YUV, the colour matrix where the decoder says it, and the range. */
export interface DecodedFrameFormat extends FrameSize {
  colorMatrix?: ColorMatrix;
  fullRange?: boolean;
}

/**
 * Finds the frames' format in one line of the decoder's messages, for sources whose format is only known once the
 * decoder has negotiated it; called with each line, in order, for as long as the decoder runs: a size it finds later
 * that differs from the first fails the source (the frames would be cut at the old size), as does a VideoSourceError
 * it throws for a line that should say the format and cannot be read.
 */
export type FrameFormatReader = (messageLine: string) => DecodedFrameFormat | undefined;

/** Where a decoder's message lines go, from its first line on. */
export interface DecoderLineListeners {
  /** Each line of its messages (stderr, and stdout where the frames are elsewhere): its log, searched for the frame size too. */
  onLogLine(line: string): void;
}

/** A decoder process as launched: by fluent-ffmpeg for ffmpeg, by a direct spawn for gst-launch-1.0. */
export interface LaunchedDecoder {
  /** Raw frames, of the command's pixelFormat. */
  frames: FrameOutput;
  /** The process once it runs; rejects when it cannot be started. */
  started: Promise<ChildProcess>;
  /** Settles (never rejects) once the process has exited and every message line has been delivered. */
  exited: Promise<void>;
}

/** The decoder a source runs, and how to read its frames. */
export interface DecoderCommand {
  tool: DecoderTool;
  frameFormat: DecodedFrameFormat | FrameFormatReader;
  /** The source's picture before crop and scale (FrameSource.pictureSize): known in advance, or found in a message line. */
  pictureSize?: FrameSize | ((messageLine: string) => FrameSize | undefined);
  /** What the decoder writes. */
  pixelFormat: DecodedFormat;
  launch(listeners: DecoderLineListeners): LaunchedDecoder;
}

/**
 * What the user can do about a failure the decoder's last words (credentials masked) tell of, after the frames it
 * decoded (0: it failed to start); undefined when nothing.
 */
export type FailureAdviser = (lastWords: string, framesDecoded: number) => FailureAdvice | undefined;

/** What the user can do about a decoder's failure. */
export interface FailureAdvice {
  /** Appended to the failure's message. */
  text: string;
  /** Retrying cannot mend it until a setting changes (VideoSourceError.awaitsSettings). */
  awaitsSettings: boolean;
}

export interface DecoderSourceSettings {
  sourceId: string;
  label: string;
  /** True where the input may end normally (a file played once); a camera or stream that ends has failed. */
  endOfInputIsNormal: boolean;
  /** See FrameSource.live. */
  live: boolean;
  shape: OutputShape;
  /** Given, split frames are cut into a FrameRing's buffers instead of new ones (see FrameSourceOptions.bufferHeld). */
  bufferHeld?: BufferHeld;
  /**
   * CAPTURE_FPS for a decoder that writes every frame (FrameRateLimit): each frame is timed as the memory for its
   * first bytes is taken, which for a pipe (PipeFrameOutput) is as they arrive, for a socket (SocketFrameOutput) as
   * the frame before it has been read (so one frame late: the same spacing); one over the rate is never published.
   */
  rateLimitFps?: number;
  onDecoderMessage?: DecoderMessageListener;
  failureAdvice?: FailureAdviser;
}

/**
 * A source that is not live decodes this many frames ahead of its consumer, then its output is paused and the
 * decoder blocks on its pipe: decoding follows demand. A live source never pauses; it keeps only its newest frame.
 */
const READY_FRAMES_LIMIT = 2;

/** How the frames lie in the decoder's output: their size and format, the bytes per row (padding included) and in all. */
interface FrameLayout extends DecodedFrameFormat {
  stride: number;
  pixelFormat: DecodedFormat;
  bytes: number;
}

interface RunningDecoder {
  tool: DecoderTool;
  child: ChildProcess;
  frames: FrameOutput;
  /** Settles (never rejects) once the process has exited and its frame output has been read to its end. */
  closed: Promise<void>;
}

/**
 * A frame source backed by a decoder child process (ffmpeg, gst-launch) that writes raw frames: runs it, cuts
 * its output into frames with backpressure, and turns its exit into the end of frames() or an error that names the
 * source and quotes the decoder. Subclasses say which command to run.
 */
export abstract class DecoderSource implements FrameSource {
  readonly sourceId: string;
  readonly label: string;
  readonly live: boolean;
  private readonly endOfInputIsNormal: boolean;
  private readonly bufferHeld?: BufferHeld;
  private readonly rateLimitFps?: number;
  private readonly onDecoderMessage?: DecoderMessageListener;
  private readonly failureAdvice?: FailureAdviser;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private stopRequested = false;
  private iterated = false;
  private decoder: RunningDecoder | undefined;
  /** The frame output once frames are being cut from it; until the size is known it is left unread. */
  private flowingOutput: FrameOutput | undefined;
  private endedNormally = false;
  private failure: VideoSourceError | undefined;
  private readonly ready: CapturedFrame[] = [];
  private wakeConsumer: (() => void) | undefined;
  private framesDecoded = 0;
  private framesDropped = 0;
  private bytesRead = 0;
  private picture: FrameSize | undefined;

  protected constructor(settings: DecoderSourceSettings) {
    assertValidShape(settings.shape);
    this.sourceId = settings.sourceId;
    this.label = maskCredentials(settings.label);
    this.endOfInputIsNormal = settings.endOfInputIsNormal;
    this.live = settings.live;
    this.bufferHeld = settings.bufferHeld;
    this.rateLimitFps = settings.rateLimitFps;
    this.onDecoderMessage = settings.onDecoderMessage;
    this.failureAdvice = settings.failureAdvice;
  }

  /** Checks what the source needs (tools, files), probes where needed and says what to run. */
  protected abstract prepare(): Promise<DecoderCommand>;

  get pictureSize(): FrameSize | undefined {
    return this.picture;
  }

  get stats(): FrameSourceStats {
    return { framesDecoded: this.framesDecoded, framesDropped: this.framesDropped, bytesRead: this.bytesRead };
  }

  start(): Promise<void> {
    if (this.stopRequested) return Promise.reject(new VideoSourceError(`source for ${this.label} was stopped; create a new one`));
    this.starting ??= this.launch();
    return this.starting;
  }

  /** Asks the decoder to stop (SIGKILL after a grace period) and resolves once it has exited. */
  stop(): Promise<void> {
    this.stopping ??= this.terminate();
    return this.stopping;
  }

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
    const command = await this.prepare();
    if (this.stopRequested) return;
    const { tool, frameFormat, pixelFormat, pictureSize } = command;
    if (typeof pictureSize === 'object') this.picture = pictureSize;
    const log = new DecoderLog(tool);
    let readFormat: ((line: string) => void) | undefined;
    const launched = command.launch({
      onLogLine: (line) => {
        const notable = log.add(line);
        // Once stopping, what the decoder says is about being stopped (a terminal's Ctrl-C reaches it too), not the source.
        if (notable !== undefined && this.framesDecoded > 0 && !this.stopRequested) this.onDecoderMessage?.(maskCredentials(notable));
        readFormat?.(line);
        if (typeof pictureSize === 'function') this.picture = pictureSize(line) ?? this.picture;
      },
    });
    if (typeof frameFormat === 'function') readFormat = this.cutFramesAtNegotiatedFormat(tool, pixelFormat, launched.frames, frameFormat);
    else this.cutFrames(launched.frames, this.layout(tool, frameFormat, pixelFormat));
    const child = await launched.started.catch((error: Error) => {
      throw new VideoSourceError(`cannot start ${tool.path} for ${this.label}: ${error.message}`); // no cause: the log would print its message twice
    });
    const untrack = trackRunningChild(child);
    const closed = this.settleOnExit(tool, launched, child, log).finally(untrack);
    this.decoder = { tool, child, frames: launched.frames, closed };
  }

  /** Waits for the decoder to exit and its frames to be read, then turns its exit into the end of frames() or a failure. */
  private async settleOnExit(tool: DecoderTool, { exited, frames }: LaunchedDecoder, child: ChildProcess, log: DecoderLog): Promise<void> {
    await exited;
    // An output that never got a size has no frames to cut, but must still be read to its end.
    if (!this.flowingOutput) frames.discard();
    // Frames still buffered when the process exited come before its end or failure.
    await frames.ended;
    if (!this.stopRequested) this.settle(tool, child.exitCode, child.signalCode, log);
    this.wake();
  }

  /**
   * A message-line handler that starts cutting frames once readFormat finds their format (until then the output stays
   * unread), and fails the source when it finds another size later: a stream whose resolution changed, whose frames
   * only a restart, negotiating afresh, reads right.
   */
  private cutFramesAtNegotiatedFormat(tool: DecoderTool, pixelFormat: DecodedFormat, output: FrameOutput, readFormat: FrameFormatReader): (line: string) => void {
    let layout: FrameLayout | undefined;
    return (line) => {
      let format: DecodedFrameFormat | undefined;
      try {
        format = readFormat(line);
      } catch (error) {
        if (!(error instanceof VideoSourceError)) throw error;
        this.failRunning(output, new VideoSourceError(`${this.label}: ${error.message}`, error.awaitsSettings));
        return;
      }
      if (!format) return;
      if (!layout) {
        layout = this.layout(tool, format, pixelFormat);
        this.cutFrames(output, layout);
      } else if (format.width !== layout.width || format.height !== layout.height) {
        this.failRunning(output, new VideoSourceError(`${this.label}: frame size changed from ${layout.width}x${layout.height} to ${format.width}x${format.height}`));
      }
    };
  }

  private layout(tool: DecoderTool, { width, height, colorMatrix, fullRange }: DecodedFrameFormat, pixelFormat: DecodedFormat): FrameLayout {
    const stride = tool.rowStride(width, pixelFormat);
    // Matrix and range are a YUV frame's: BGR24 is converted already.
    const colour = pixelFormat === PixelFormat.I420 ? { ...(colorMatrix !== undefined && { colorMatrix }), ...(fullRange && { fullRange }) } : {};
    return { width, height, stride, pixelFormat, ...colour, bytes: pixelByteLength({ pixelFormat, stride, height }) };
  }

  private cutFrames(output: FrameOutput, layout: FrameLayout): void {
    const frameBytes = layout.bytes;
    const { bufferHeld } = this;
    // A frame waiting to be taken is held as much as one being read downstream: its buffer must not be cut into.
    const ring = bufferHeld && new FrameRing(frameBytes, (buffer) => this.waitingToBeTaken(buffer) || bufferHeld(buffer));
    const limit = this.rateLimitFps ? new FrameRateLimit(this.rateLimitFps) : undefined;
    // A frame over the rate is cut into this one buffer, reused: it neither takes a ring's buffer nor makes garbage.
    let overRate: Buffer | undefined;
    let keeping = true;
    const assembler = new FrameAssembler(frameBytes, () => {
      keeping = limit?.admits(performance.now()) ?? true;
      if (!keeping) return (overRate ??= Buffer.allocUnsafe(frameBytes));
      return ring ? ring.acquire() : Buffer.allocUnsafe(frameBytes);
    });
    this.flowingOutput = output;
    output.readInto({
      space: () => assembler.space(),
      filled: (bytes) => {
        this.bytesRead += bytes;
        const pixels = assembler.filled(bytes);
        if (pixels && keeping) this.receive(pixels, layout);
      },
    });
  }

  /**
   * Fails a source whose decoder still runs: frames() throws the error at its next step, and the output is drained
   * unread until the consumer's stop ends the decoder. Frames not taken yet are dropped: cut since the failure began,
   * they may be garbage.
   */
  private failRunning(output: FrameOutput, error: VideoSourceError): void {
    this.failure ??= error;
    this.framesDropped += this.ready.length;
    this.ready.length = 0;
    output.discard();
    this.wake();
  }

  /** Whether the buffer holds a frame cut and ready, not yet taken by the consumer. */
  private waitingToBeTaken(buffer: ArrayBufferLike): boolean {
    return this.ready.some((frame) => frame.pixels.buffer === buffer);
  }

  private receive(pixels: Buffer, { width, height, stride, pixelFormat, colorMatrix, fullRange }: FrameLayout): void {
    // While stopping, output is drained and dropped so the decoder is not stuck writing and can see the signal.
    if (this.stopRequested) return;
    const header: FrameHeader = {
      sourceId: this.sourceId,
      sequence: this.framesDecoded++,
      captureTimeMs: epochMs(),
      width,
      height,
      stride,
      pixelFormat,
    };
    if (colorMatrix !== undefined) header.colorMatrix = colorMatrix;
    if (fullRange) header.fullRange = true;
    this.ready.push({ header, pixels });
    if (this.live) {
      // Live video: a frame not taken before the next one arrives is stale; only the newest waits.
      const stale = this.ready.length - 1;
      if (stale > 0) this.framesDropped += this.ready.splice(0, stale).length;
    } else if (this.ready.length >= READY_FRAMES_LIMIT) {
      this.flowingOutput?.pause();
    }
    this.wake();
  }

  private settle(tool: DecoderTool, code: number | null, signal: NodeJS.Signals | null, log: DecoderLog): void {
    if (code === 0 && this.endOfInputIsNormal) {
      this.endedNormally = true;
      return;
    }
    const lastWords = maskCredentials(log.lastWords());
    const exit = signal ? `${tool.name} was killed by ${signal}` : `${tool.name} exited with code ${code}`;
    const advice = this.failureAdvice?.(lastWords, this.framesDecoded);
    const explained = advice === undefined ? lastWords : `${lastWords}: ${advice.text}`;
    this.failure ??= new VideoSourceError(
      code === 0 ? `${this.label} ended after ${this.framesDecoded} frames (${exit}): ${explained}` : `${tool.name} failed reading ${this.label} (${exit}): ${explained}`,
      advice?.awaitsSettings,
    );
  }

  private async nextFrame(): Promise<CapturedFrame | undefined> {
    for (;;) {
      if (this.stopRequested) return undefined;
      const frame = this.ready.shift();
      if (frame && this.live) return frame;
      if (frame) {
        if (this.ready.length < READY_FRAMES_LIMIT) this.flowingOutput?.resume();
        // Read ahead of demand, a frame of a file has no moment of capture but the one it is taken at.
        frame.header.captureTimeMs = epochMs();
        return frame;
      }
      if (this.failure) throw this.failure;
      if (this.endedNormally) return undefined;
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
    const decoder = this.decoder;
    if (!decoder) return;
    // Drained (and dropped) even before the size is known: the process cannot close while its output is full.
    decoder.frames.discard();
    const { tool, child } = decoder;
    if (child.exitCode === null && child.signalCode === null) child.kill(tool.stopSignal);
    const escalation = setTimeout(() => child.kill('SIGKILL'), tool.killGraceMs);
    await decoder.closed;
    clearTimeout(escalation);
  }
}
