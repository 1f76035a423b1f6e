import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** Where a decoder's raw bytes are read into: the unfilled rest of the frame being cut, and how much a read filled. */
export interface FrameSink {
  space(): Buffer;
  filled(bytes: number): void;
}

/**
 * A decoder's raw BGR24 output as a source reads it. Nothing is read before `readInto` (the frame size may not be
 * known yet): the bytes wait in the output, and the decoder blocks once it is full, as it does while paused.
 */
export interface FrameOutput {
  readInto(sink: FrameSink): void;
  pause(): void;
  resume(): void;
  /** Reads whatever comes and drops it: a decoder that is to exit must not be stuck on a full output. */
  discard(): void;
  /** Settles (never rejects) once the decoder closed the output and everything in it was read. */
  readonly ended: Promise<void>;
}

/** Copies a chunk read elsewhere into the sink, up to where `paused` says to stop; returns the bytes copied. */
function copyIntoSink(sink: FrameSink, chunk: Buffer, paused: () => boolean = () => false): number {
  let offset = 0;
  while (offset < chunk.length && !paused()) {
    const copied = chunk.copy(sink.space(), 0, offset);
    offset += copied;
    sink.filled(copied);
  }
  return offset;
}

/**
 * A pipe (gst-launch's stdout or fd 3): each chunk Node.js reads is copied into the sink. A chunk of 64 KB holds many
 * small frames; one paused while they are cut stops there, the rest read first once resumed, so a consumer that does
 * not keep up holds back the frames of a chunk as it does the chunks.
 */
export class PipeFrameOutput implements FrameOutput {
  readonly ended: Promise<void>;
  private sink: FrameSink | undefined;
  private listening = false;

  constructor(private readonly output: Readable) {
    this.ended = finished(output, { writable: false }).catch(() => undefined);
  }

  readInto(sink: FrameSink): void {
    this.sink = sink;
    this.listen();
  }

  pause(): void {
    this.output.pause();
  }

  resume(): void {
    this.output.resume();
  }

  discard(): void {
    this.sink = undefined;
    this.listen();
    this.output.resume();
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.output.on('data', (chunk: Buffer) => {
      if (!this.sink) return;
      const copied = copyIntoSink(this.sink, chunk, () => this.output.isPaused());
      if (copied < chunk.length) this.output.unshift(chunk.subarray(copied));
    });
  }
}

const FRAME_SOCKET = 'frames.sock';
/** The longest unix socket path Linux and macOS take (sun_path, less its terminating zero). */
const MAX_SOCKET_PATH = 103;

/**
 * A path for a decoder's frame socket (SocketFrameOutput), in a new directory of its own (removeFrameSocket), or
 * undefined where a unix socket cannot be had (Windows, no writable temporary directory, a path too long for one).
 */
export function frameSocketPath(decoder: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  try {
    const directory = mkdtempSync(join(tmpdir(), `iev-${decoder}-`));
    const path = join(directory, FRAME_SOCKET);
    if (path.length <= MAX_SOCKET_PATH) return path;
    rmSync(directory, { recursive: true, force: true });
  } catch {
    // not writable: the pipe it is
  }
  return undefined;
}

/** Removes frameSocketPath's directory: a connection outlives its socket file. */
export function removeFrameSocket(path: string): void {
  rmSync(dirname(path), { recursive: true, force: true });
}

/**
 * A socket the decoder has not opened yet is tried again after this, doubling up to the most: ffmpeg listens within
 * milliseconds for a file, after seconds for a stream it probes first.
 */
const CONNECT_RETRY_MS = { first: 5, most: 200 };
/** A read that cannot go into the sink's memory (the first one, and dropped ones) goes into a buffer of this size. */
const BOUNCE_BYTES = 64 * 1024;

/**
 * A unix socket the decoder listens on (ffmpeg's `-listen 1 unix:PATH`), or capture itself to hand the other end to the
 * decoder (gst-launch's fdsink), read straight into the sink's memory: no
 * chunk is allocated per read, so frames cost capture neither a copy nor garbage (a pipe is read in 64 KB chunks,
 * 27 MB/s of them at 640x480 and 20 fps, whose collection took ~1.3 ms of CPU a frame). It is connected as soon as
 * the decoder listens and until `decoderExited` settles, and read only once asked to, like a pipe. Node.js asks for
 * the memory of the next read right after each read (and for the first one as it connects, before there may be a
 * sink): a read that went elsewhere is copied in.
 */
export class SocketFrameOutput implements FrameOutput {
  readonly ended: Promise<void>;
  private sink: FrameSink | undefined;
  private dropping = false;
  private reading = false;
  private socket: Socket | undefined;
  private readonly bounce = Buffer.allocUnsafe(BOUNCE_BYTES);
  private exited = false;
  private retryMs = CONNECT_RETRY_MS.first;
  private endOutput!: () => void;

  /** `onConnected`: once connected, the path is no longer needed (a connection outlives its socket file). */
  constructor(
    private readonly path: string,
    decoderExited: Promise<void>,
    private readonly onConnected: () => void = () => undefined,
  ) {
    this.ended = new Promise((resolve) => (this.endOutput = resolve));
    void decoderExited.then(() => {
      this.exited = true;
      if (!this.socket) this.endOutput();
    });
    this.connect();
  }

  readInto(sink: FrameSink): void {
    this.sink = sink;
    this.resume();
  }

  pause(): void {
    this.reading = false;
    this.socket?.pause();
  }

  resume(): void {
    this.reading = true;
    this.socket?.resume();
  }

  discard(): void {
    this.dropping = true;
    this.resume();
  }

  private connect(): void {
    const socket = connect({
      path: this.path,
      onread: {
        buffer: () => (this.dropping || !this.sink ? this.bounce : this.sink.space()),
        callback: (bytes: number, buffer: Uint8Array) => {
          if (this.dropping || !this.sink) return true;
          // Copied whole, past a pause too: Node.js asks for the next read's memory in the sink right after this, and
          // these bytes come first. Only the read asked for before there was a sink comes here, once; the source keeps
          // any frames it cut beyond its limit intact.
          if (buffer === this.bounce) copyIntoSink(this.sink, this.bounce.subarray(0, bytes));
          else this.sink.filled(bytes);
          return true;
        },
      },
    });
    // Not read until asked: paused before it connects, nothing is read when it does.
    if (!this.reading) socket.pause();
    socket.once('connect', () => {
      this.socket = socket;
      this.onConnected();
      if (this.reading) socket.resume();
      else socket.pause();
      socket.once('close', () => this.endOutput());
    });
    socket.once('error', () => {
      if (this.socket) return; // after connecting, the decoder's exit tells what went wrong
      socket.destroy();
      if (this.exited) this.endOutput();
      else setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, CONNECT_RETRY_MS.most);
    });
  }
}
