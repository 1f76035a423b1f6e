import { type ChildProcess, type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { PixelFormat } from '@iev/frame-protocol';
import pino from 'pino';
import { type DecoderCommand, DecoderSource } from './decoder-source';
import { ffmpegTool } from './decoder-tools';
import { PipeFrameOutput } from './frame-output';
import type { CapturedFrame } from './frame-source';
import { VideoSourceError } from './video-source-error';

jest.setTimeout(20_000);

/** 16x16 BGR24 frames, 768 bytes: a 64 KB pipe chunk holds 85 of them and ends inside the 86th. */
const SIZE = { width: 16, height: 16 };
const FRAME_BYTES = SIZE.width * SIZE.height * 3;
/** The frames a FrameRing has: a consumer holding this many less one leaves the source only one of them. */
const RING_SLOTS = 8;

/** Frame n's pixels: n as a 32-bit number over and over, so a frame overwritten by another, wholly or partly, shows. */
function pixelsOf(sequence: number): Buffer {
  const number = Buffer.alloc(4);
  number.writeUInt32LE(sequence);
  return Buffer.alloc(FRAME_BYTES, number);
}

/** A decoder stand-in: writes the file to its stdout in one write, then exits, or stays like a camera given "stay". */
const WRITE_FILE = `process.stdout.write(require('node:fs').readFileSync(process.argv[1]));
  if (process.argv[2] === 'stay') setInterval(() => undefined, 60_000);`;

/** A spawned decoder whose frames come on its stdout, as gst-launch writes them (or ffmpeg without a socket). */
function launchedOnPipe(child: ChildProcessByStdio<null, Readable, null>) {
  return {
    frames: new PipeFrameOutput(child.stdout),
    started: new Promise<ChildProcess>((resolve, reject) => child.once('spawn', () => resolve(child)).on('error', reject)),
    exited: new Promise<void>((resolve) => child.once('close', () => resolve())),
  };
}

/** A decoder source whose decoder writes raw frames to a pipe (PipeFrameOutput), as gst-launch does, or ffmpeg without a socket. */
class PipedFramesSource extends DecoderSource {
  constructor(
    private readonly framesFile: string,
    live: boolean,
    bufferHeld: (buffer: ArrayBufferLike) => boolean,
  ) {
    super({ sourceId: 'piped', label: 'piped frames', endOfInputIsNormal: !live, live, shape: SIZE, bufferHeld });
  }

  protected override async prepare(): Promise<DecoderCommand> {
    return {
      tool: { ...ffmpegTool(process.execPath), name: 'node' },
      frameFormat: SIZE,
      pixelFormat: PixelFormat.BGR24,
      launch: () => launchedOnPipe(spawn(process.execPath, ['-e', WRITE_FILE, this.framesFile, this.live ? 'stay' : 'exit'], { stdio: ['ignore', 'pipe', 'inherit'] })),
    };
  }
}

/**
 * A consumer that sends each frame it takes without copying it, as capture does through ZeroMQ: the last `inFlight`
 * frames it took are held (`bufferHeld` says so) and still read, and each is checked as taken and again once sent.
 * An I/O turn passes between frames, so the decoder's output is read meanwhile.
 */
class SendingConsumer {
  readonly sequences: number[] = [];
  readonly damaged: number[] = [];
  readonly buffers = new Set<ArrayBufferLike>();
  private readonly sending: CapturedFrame[] = [];

  constructor(private readonly inFlight: number) {}

  readonly holds = (buffer: ArrayBufferLike): boolean => this.sending.some((frame) => frame.pixels.buffer === buffer);

  async consume(source: DecoderSource, lastSequence: number): Promise<void> {
    for await (const frame of source.frames()) {
      this.sequences.push(frame.header.sequence);
      this.buffers.add(frame.pixels.buffer);
      this.check(frame);
      this.sending.push(frame);
      if (this.sending.length > this.inFlight) this.check(this.sending.shift() as CapturedFrame);
      if (frame.header.sequence === lastSequence) break;
      await nextTurn();
    }
    this.sending.forEach((frame) => this.check(frame));
  }

  private check({ header, pixels }: CapturedFrame): void {
    if (!pixels.equals(pixelsOf(header.sequence))) this.damaged.push(header.sequence);
  }
}

describe('DecoderSource reading a pipe whose chunks hold many frames', () => {
  let directory: string;
  beforeAll(() => (directory = mkdtempSync(join(tmpdir(), 'decoder-source-'))));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  /** A file of frames 0..count-1, for the decoder stand-in to write. */
  function framesFile(count: number): string {
    const path = join(directory, `${count}-frames.raw`);
    writeFileSync(path, Buffer.concat(Array.from({ length: count }, (_, sequence) => pixelsOf(sequence))));
    return path;
  }

  it('hands a consumer of a file every frame in turn with its own pixels, cut into the ring without allocating', async () => {
    const count = 400;
    const consumer = new SendingConsumer(1);
    const source = new PipedFramesSource(framesFile(count), false, consumer.holds);

    await consumer.consume(source, count - 1);

    expect(consumer.damaged).toEqual([]);
    expect(consumer.sequences).toEqual(Array.from({ length: count }, (_, sequence) => sequence));
    expect(source.stats).toEqual({ framesDecoded: count, framesDropped: 0, bytesRead: count * FRAME_BYTES });
    // Backpressure holds within a chunk too: the frames waiting for the consumer never outgrow the ring.
    expect(consumer.buffers.size).toBeLessThanOrEqual(RING_SLOTS);
  });

  it('hands a live consumer the newest frames with their own pixels, even while it holds all the ring but one', async () => {
    const count = 3000;
    const consumer = new SendingConsumer(RING_SLOTS - 1);
    const source = new PipedFramesSource(framesFile(count), true, consumer.holds);

    await consumer.consume(source, count - 1);

    expect(consumer.damaged).toEqual([]);
    expect(consumer.sequences.length).toBeGreaterThan(RING_SLOTS);
    expect(consumer.sequences).toEqual([...consumer.sequences].sort((a, b) => a - b));
    expect(source.stats).toMatchObject({ framesDecoded: count, framesDropped: count - consumer.sequences.length });
  });
});

/** A decoder source whose decoder cannot be started: its program is not there. */
class UnstartableSource extends DecoderSource {
  static readonly PROGRAM = '/nonexistent/iev-decoder';

  constructor() {
    super({ sourceId: 'unstartable', label: 'a missing decoder', endOfInputIsNormal: true, live: false, shape: SIZE, bufferHeld: () => false });
  }

  protected override async prepare(): Promise<DecoderCommand> {
    return {
      tool: { ...ffmpegTool(UnstartableSource.PROGRAM), name: 'ffmpeg' },
      frameFormat: SIZE,
      pixelFormat: PixelFormat.BGR24,
      launch: () => launchedOnPipe(spawn(UnstartableSource.PROGRAM, [], { stdio: ['ignore', 'pipe', 'ignore'] })),
    };
  }
}

describe('DecoderSource whose decoder cannot start', () => {
  it('fails saying which program and why, once also as the log writes the error (with its causes)', async () => {
    const failed: unknown = await new UnstartableSource()
      .frames()
      .next()
      .catch((error: unknown) => error);

    expect(failed).toBeInstanceOf(VideoSourceError);
    expect(pino.stdSerializers.err(failed as Error).message).toBe(`cannot start ${UnstartableSource.PROGRAM} for a missing decoder: spawn ${UnstartableSource.PROGRAM} ENOENT`);
  });
});

/** A camera stand-in whose decoder says its frames' format in a line the reader cannot read. */
class UnreadableFormatSource extends DecoderSource {
  constructor() {
    super({ sourceId: 'odd', label: 'a decoder of odd words', endOfInputIsNormal: false, live: true, shape: SIZE, bufferHeld: () => false });
  }

  protected override async prepare(): Promise<DecoderCommand> {
    return {
      tool: { ...ffmpegTool(process.execPath), name: 'node' },
      frameFormat: (line) => {
        if (line.startsWith('format')) throw new VideoSourceError(`cannot read "${line}"`);
        return undefined;
      },
      pixelFormat: PixelFormat.BGR24,
      launch: (listeners) => {
        const launched = launchedOnPipe(spawn(process.execPath, ['-e', 'process.stdout.write(Buffer.alloc(4096)); setInterval(() => undefined, 60_000);'], { stdio: ['ignore', 'pipe', 'ignore'] }));
        void launched.started.then(() => ['starting', 'format: sixteen by sixteen'].forEach((line) => listeners.onLogLine(line)));
        return launched;
      },
    };
  }
}

describe('DecoderSource whose decoder describes its frames in words the reader cannot read', () => {
  it('fails quoting them instead of waiting for a format that never comes, and stops the decoder', async () => {
    const source = new UnreadableFormatSource();

    await expect(source.frames().next()).rejects.toThrow('a decoder of odd words: cannot read "format: sixteen by sixteen"');
    await source.stop();
  });
});
