import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { type FrameHeader, PixelFormat } from '@iev/frame-protocol';
import { DecoderLog, type DecoderTool } from './decoder-tools';
import { FrameAssembler } from './frame-assembler';
import { assertValidShape, type CapturedFrame, type FrameSize, type FrameSource, type FrameSourceStats, type OutputShape } from './frame-source';
import { trackRunningChild } from './live-children';
import { maskUrlCredentials, VideoSourceError } from './video-source-error';

/**
 * Finds the frame size in one line of the decoder's messages (stderr, and stdout when frames are on fd 3), for sources
 * whose size is only known once the decoder has negotiated it; called with each line, in order, until it returns one.
 */
export type FrameSizeReader = (messageLine: string) => FrameSize | undefined;

/** The decoder process a source runs, and how to read its frames. */
export interface DecoderCommand {
  tool: DecoderTool;
  args: string[];
  /** The descriptor the BGR24 frames come out on: 1, or 3 where stdout carries the tool's messages. */
  framesFd: 1 | 3;
  frameSize: FrameSize | FrameSizeReader;
}

export interface DecoderSourceSettings {
  sourceId: string;
  label: string;
  /** True where the input may end normally (a file played once); a camera or stream that ends has failed. */
  endOfInputIsNormal: boolean;
  shape: OutputShape;
}

const BYTES_PER_PIXEL = 3;
/** Frames decoded ahead of a slow consumer before the decoder's output is paused (the decoder then blocks on its pipe). */
const READY_FRAMES_LIMIT = 2;
/** Time the decoder gets to exit after its stop signal before it is sent SIGKILL. */
const KILL_GRACE_MS = 1000;

interface RunningDecoder {
  tool: DecoderTool;
  child: ChildProcess;
  frameOutput: Readable;
  /** Settles (never rejects) once the process has exited and its outputs are closed. */
  closed: Promise<void>;
}

/**
 * A frame source backed by a decoder child process (ffmpeg, gst-launch) that writes raw BGR24 frames: runs it, cuts
 * its output into frames with backpressure, and turns its exit into the end of frames() or an error that names the
 * source and quotes the decoder. Subclasses say which command to run.
 */
export abstract class DecoderSource implements FrameSource {
  readonly sourceId: string;
  readonly label: string;
  private readonly endOfInputIsNormal: boolean;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private stopRequested = false;
  private iterated = false;
  private decoder: RunningDecoder | undefined;
  /** The frame output once frames are being cut from it; until the size is known it is left unread. */
  private flowingOutput: Readable | undefined;
  private endedNormally = false;
  private failure: VideoSourceError | undefined;
  private readonly ready: CapturedFrame[] = [];
  private wakeConsumer: (() => void) | undefined;
  private framesDecoded = 0;
  private bytesRead = 0;

  protected constructor(settings: DecoderSourceSettings) {
    assertValidShape(settings.shape);
    this.sourceId = settings.sourceId;
    this.label = maskUrlCredentials(settings.label);
    this.endOfInputIsNormal = settings.endOfInputIsNormal;
  }

  /** Checks what the source needs (tools, files), probes where needed and says what to run. */
  protected abstract prepare(): Promise<DecoderCommand>;

  get stats(): FrameSourceStats {
    return { framesDecoded: this.framesDecoded, bytesRead: this.bytesRead };
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
    const decoder = this.spawnDecoder(command);
    this.decoder = decoder;
    await new Promise<void>((resolve, reject) => {
      decoder.child.once('spawn', resolve);
      decoder.child.once('error', (error) => reject(new VideoSourceError(`cannot start ${command.tool.path} for ${this.label}: ${error.message}`)));
    });
  }

  private spawnDecoder({ tool, args, framesFd, frameSize }: DecoderCommand): RunningDecoder {
    const child = spawn(tool.path, args, { stdio: ['ignore', 'pipe', 'pipe', ...(framesFd === 3 ? (['pipe'] as const) : [])] });
    const frameOutput = child.stdio[framesFd] as Readable;
    const log = new DecoderLog(tool);
    let readSize: ((line: string) => void) | undefined;
    if (typeof frameSize === 'function') readSize = this.cutFramesOnceSized(frameOutput, frameSize);
    else this.cutFrames(frameOutput, frameSize);
    forEachLine(child.stderr, (line) => {
      log.add(line);
      readSize?.(line);
    });
    // With frames on fd 3, stdout carries the tool's messages: read as well, also so the tool never blocks on a full pipe.
    if (framesFd === 3) forEachLine(child.stdout, (line) => readSize?.(line));

    const closed = new Promise<void>((resolve) => {
      let untrack: (() => void) | undefined;
      child.once('spawn', () => (untrack = trackRunningChild(child)));
      child.once('exit', () => untrack?.());
      child.on('error', (error) => {
        if (!this.stopRequested) this.failure ??= new VideoSourceError(`${tool.name} failed reading ${this.label}: ${error.message}`);
      });
      // 'close' comes after the exit and after every output has been read to its end, so the log is complete.
      child.once('close', (code, signal) => {
        if (!this.stopRequested) this.settle(tool, code, signal, log);
        resolve();
        this.wake();
      });
    });
    return { tool, child, frameOutput, closed };
  }

  /** A message-line handler that starts cutting frames once readSize finds the size; until then the output stays unread. */
  private cutFramesOnceSized(output: Readable, readSize: FrameSizeReader): (line: string) => void {
    let sized = false;
    return (line) => {
      const size = sized ? undefined : readSize(line);
      if (!size) return;
      sized = true;
      this.cutFrames(output, size);
    };
  }

  private cutFrames(output: Readable, size: FrameSize): void {
    const assembler = new FrameAssembler(size.width * size.height * BYTES_PER_PIXEL);
    output.on('data', (chunk: Buffer) => this.receive(chunk, assembler, size));
    this.flowingOutput = output;
  }

  private receive(chunk: Buffer, assembler: FrameAssembler, size: FrameSize): void {
    // While stopping, output is drained and dropped so the decoder is not stuck writing and can see the signal.
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
    if (this.ready.length >= READY_FRAMES_LIMIT) this.flowingOutput?.pause();
    this.wake();
  }

  private settle(tool: DecoderTool, code: number | null, signal: NodeJS.Signals | null, log: DecoderLog): void {
    if (code === 0 && this.endOfInputIsNormal) {
      this.endedNormally = true;
      return;
    }
    const lastWords = maskUrlCredentials(log.lastWords());
    const exit = signal ? `${tool.name} was killed by ${signal}` : `${tool.name} exited with code ${code}`;
    this.failure ??= new VideoSourceError(
      code === 0 ? `${this.label} ended after ${this.framesDecoded} frames (${exit}): ${lastWords}` : `${tool.name} failed reading ${this.label} (${exit}): ${lastWords}`,
    );
  }

  private async nextFrame(): Promise<CapturedFrame | undefined> {
    for (;;) {
      if (this.stopRequested) return undefined;
      const frame = this.ready.shift();
      if (frame) {
        if (this.ready.length < READY_FRAMES_LIMIT) this.flowingOutput?.resume();
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
    decoder.frameOutput.resume();
    const { tool, child } = decoder;
    if (child.exitCode === null && child.signalCode === null) child.kill(tool.stopSignal);
    const escalation = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    await decoder.closed;
    clearTimeout(escalation);
  }
}

/** Calls onLine with each line of a text output as it arrives. */
function forEachLine(output: Readable | null, onLine: (line: string) => void): void {
  if (output) createInterface({ input: output, crlfDelay: Infinity }).on('line', onLine);
}
