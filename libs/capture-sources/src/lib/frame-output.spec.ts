import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameAssembler } from './frame-assembler';
import { PipeFrameOutput, SocketFrameOutput, type FrameSink } from './frame-output';

const FRAME_BYTES = 12;

/** A stream of frames whose every byte tells where it belongs: frame i is filled with the value i. */
function frameStream(frameCount: number): Buffer {
  const stream = Buffer.alloc(FRAME_BYTES * frameCount);
  for (let i = 0; i < frameCount; i++) stream.fill(i, i * FRAME_BYTES, (i + 1) * FRAME_BYTES);
  return stream;
}

function chunks(stream: Buffer, sizes: number[]): Buffer[] {
  let offset = 0;
  return sizes.map((size) => stream.subarray(offset, (offset += size)));
}

/** A sink that cuts frames as a source does, keeping copies of them; onFrame is called after each. */
function collectingSink(onFrame: () => void = () => undefined): FrameSink & { frames: Buffer[] } {
  const assembler = new FrameAssembler(FRAME_BYTES);
  const frames: Buffer[] = [];
  return {
    frames,
    space: () => assembler.space(),
    filled: (bytes) => {
      const frame = assembler.filled(bytes);
      if (!frame) return;
      frames.push(Buffer.from(frame));
      onFrame();
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 5000) throw new Error('timed out');
    await sleep(5);
  }
}

describe('PipeFrameOutput', () => {
  it('reads nothing before readInto, then rebuilds every frame whatever the chunk boundaries, and ends with the pipe', async () => {
    const pipe = new PassThrough();
    const output = new PipeFrameOutput(pipe);
    const stream = frameStream(6);
    for (const chunk of chunks(stream, [5, 7, 30, 1, 11, 2, 16])) pipe.write(chunk);
    pipe.end();
    await sleep(10);
    expect(pipe.readableLength).toBe(stream.length);

    const sink = collectingSink();
    output.readInto(sink);
    await output.ended;
    expect(Buffer.concat(sink.frames).equals(stream)).toBe(true);
  });

  it('stops inside a chunk once the sink pauses it, going on from the next byte when resumed, and ends after', async () => {
    const pipe = new PassThrough();
    const output = new PipeFrameOutput(pipe);
    const stream = frameStream(6);
    pipe.end(stream);
    let ended = false;
    void output.ended.then(() => (ended = true));

    const sink = collectingSink(() => output.pause());
    output.readInto(sink);
    await sleep(10);
    expect(sink.frames).toHaveLength(1);
    expect(ended).toBe(false);
    for (let frames = 2; frames <= 6; frames++) {
      output.resume();
      await until(() => sink.frames.length === frames);
    }
    await output.ended;
    expect(Buffer.concat(sink.frames).equals(stream)).toBe(true);
  });
});

describe('SocketFrameOutput', () => {
  let directory: string;
  let path: string;
  let server: Server | undefined;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'frame-output-'));
    path = join(directory, 'frames.sock');
  });
  afterEach(() => {
    server?.close();
    server = undefined;
    rmSync(directory, { recursive: true, force: true });
  });

  /** A decoder stand-in listening on `path` (as ffmpeg's -listen 1 does), handing over its one connection. */
  function listen(): Promise<Socket> {
    return new Promise((resolve) => {
      server = createServer((socket) => resolve(socket)).listen(path);
    });
  }

  it('connects once the decoder listens, reads only while asked, and ends when the decoder closes the socket', async () => {
    const output = new SocketFrameOutput(path, new Promise(() => undefined));
    await sleep(30); // tried, refused: nobody listens yet
    const decoder = await listen();
    const stream = frameStream(8);
    const [first, rest] = chunks(stream, [3 * FRAME_BYTES + 5, 5 * FRAME_BYTES - 5]);
    decoder.write(first);
    await sleep(20);
    const sink = collectingSink();
    output.readInto(sink);
    await until(() => sink.frames.length === 3);

    output.pause();
    decoder.write(rest);
    await sleep(30);
    expect(sink.frames).toHaveLength(3);
    output.resume();
    decoder.end();
    await output.ended;
    expect(Buffer.concat(sink.frames).equals(stream)).toBe(true);
  });

  it('drops what it reads once discarding, so the decoder can finish writing', async () => {
    const output = new SocketFrameOutput(path, new Promise(() => undefined));
    const decoder = await listen();
    const sink = collectingSink();
    output.readInto(sink);
    output.discard();
    decoder.end(frameStream(100));
    await output.ended;
    expect(sink.frames).toHaveLength(0);
  });

  it('ends when the decoder exits without ever listening', async () => {
    let exit!: () => void;
    const output = new SocketFrameOutput(path, new Promise<void>((resolve) => (exit = resolve)));
    await sleep(30);
    exit();
    await output.ended;
  });
});
