import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAMES_TOPIC, PixelFormat, type Frame } from '@iev/frame-protocol';
import { waitUntil } from '@iev/testing';
import type { MessageHandler } from '@nestjs/microservices';
import { pidsRunning } from '../test-support/decoders';
import { InProcessCaptureContext, LentBuffers, ServerInProcessCapture, type InProcessSource } from './server-in-process-capture';
import { VideoFileSource } from './video-file-source';

jest.setTimeout(20_000);

const workDir = mkdtempSync(join(tmpdir(), 'in-process-capture-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** A video of `frames` frames whose luma steps up by 8 a frame, so each frame tells its place. */
function makeRamp(name: string, frames: number, size = '32x24'): string {
  const path = join(workDir, name);
  const graph = `color=c=black:size=${size}:rate=10:duration=${frames / 10},geq=lum='16+8*N':cb=128:cr=128`;
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', graph, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-qp', '0', path]);
  return path;
}

interface Served {
  server: ServerInProcessCapture;
  received: Array<{ frame: Frame; sourceId: string; luma: number }>;
  listening: Promise<void>;
}

/** A server over these sources whose frames handler records each frame, then does what `handle` says. */
function serve(sources: InProcessSource[], handle: (frame: Frame, server: ServerInProcessCapture) => Promise<void> | void = () => undefined, offer?: (frame: Frame) => void): Served {
  const server = new ServerInProcessCapture(sources, lent, offer);
  const received: Served['received'] = [];
  const handler = (async (frame: Frame, context: InProcessCaptureContext) => {
    received.push({ frame, sourceId: context.getSourceId(), luma: frame.pixels[0] });
    await handle(frame, server);
  }) as MessageHandler;
  server.addHandler(FRAMES_TOPIC, handler, true);
  const listening = new Promise<void>((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())));
  return { server, received, listening };
}

/** Shared by every server here: each test's frames come from buffers of its own sources. */
const lent = new LentBuffers();

const fileSource = (path: string, sourceId: string, options: { loop?: boolean } = {}): InProcessSource => ({
  sourceId,
  failFastBeforeFirstFrame: true,
  create: () => new VideoFileSource({ path, sourceId, loop: options.loop ?? false, realtime: false, pixelFormat: PixelFormat.I420, bufferHeld: lent.held }),
});

describe('ServerInProcessCapture (real ffmpeg)', () => {
  const ramp = makeRamp('ramp.mp4', 12);
  let served: Served | undefined;
  afterEach(async () => {
    await served?.server.close();
    served = undefined;
  });

  it("hands a file's frames to the handler in order, one at a time, each as the last one's handler settles", async () => {
    let busy = false;
    let overlapped = false;
    served = serve([fileSource(ramp, 'camera0')], async (frame, server) => {
      overlapped ||= busy;
      busy = true;
      await new Promise((resolve) => setTimeout(resolve, 5));
      busy = false;
      server.release(frame.pixels);
    });
    await served.listening;
    await waitUntil(() => served?.server.stats()[0].state === 'ended', 'the file played to its end');

    const { received } = served;
    expect(received.map(({ frame }) => frame.sequence)).toEqual([...Array(12).keys()]);
    expect(received.map(({ luma }) => luma)).toEqual(received.map((_, index) => 16 + 8 * index));
    expect(received.every(({ sourceId, frame }) => sourceId === 'camera0' && frame.sourceId === 'camera0')).toBe(true);
    expect(overlapped).toBe(false);
  });

  it('offers each frame to another consumer as it hands it to the handler', async () => {
    const offered: number[] = [];
    let handledBeforeOffer = false;
    served = serve(
      [fileSource(ramp, 'camera0')],
      (frame, server) => {
        handledBeforeOffer ||= offered.at(-1) !== frame.sequence;
        server.release(frame.pixels);
      },
      (frame) => offered.push(frame.sequence),
    );
    await served.listening;
    await waitUntil(() => served?.server.stats()[0].state === 'ended', 'the file played to its end');

    expect(offered).toEqual([...Array(12).keys()]);
    expect(handledBeforeOffer).toBe(false);
  });

  it('cuts no frame into pixels lent to the handler until it releases them', async () => {
    // Frames larger than a read: tiny ones arrive many to a read, all cut before the handler has given any back, and
    // a ring with every slot held takes fresh buffers (as it should), which this test would count as not reused.
    const ramp = makeRamp('large-ramp.mp4', 12, '320x240');
    served = serve([fileSource(ramp, 'camera0')], (frame, server) => {
      // The first frame is kept; every other is given back.
      if (frame.sequence > 0) server.release(frame.pixels);
    });
    await served.listening;
    await waitUntil(() => served?.server.stats()[0].state === 'ended', 'the file played to its end');

    const [first, ...rest] = served.received;
    expect(first.frame.pixels[0]).toBe(16);
    expect(rest.every(({ frame }) => frame.pixels.buffer !== first.frame.pixels.buffer)).toBe(true);
    // Released buffers are reused: far fewer buffers than frames.
    expect(new Set(rest.map(({ frame }) => frame.pixels.buffer)).size).toBeLessThan(rest.length);
  });

  it("serves several sources side by side, each in its own order", async () => {
    const other = makeRamp('other.mp4', 6);
    served = serve([fileSource(ramp, 'camera0'), fileSource(other, 'door')], (frame, server) => server.release(frame.pixels));
    await served.listening;
    await waitUntil(() => served?.server.stats().every(({ state }) => state === 'ended') ?? false, 'both files played to their end');

    const ofSource = (id: string) => served?.received.filter(({ sourceId }) => sourceId === id).map(({ frame }) => frame.sequence);
    expect(ofSource('camera0')).toEqual([...Array(12).keys()]);
    expect(ofSource('door')).toEqual([...Array(6).keys()]);
  });

  it('counts a frame the handler fails on and goes on with the next', async () => {
    served = serve([fileSource(ramp, 'camera0')], (frame, server) => {
      if (frame.sequence === 3) throw new Error('no such luck');
      server.release(frame.pixels);
    });
    await served.listening;
    await waitUntil(() => served?.server.stats()[0].state === 'ended', 'the file played to its end');

    expect(served.received).toHaveLength(12);
    expect(served.server.stats()[0]).toMatchObject({ sourceId: 'camera0', handlerErrors: 1, framesDecoded: 12 });
    // Neither that frame's buffer nor any other stays lent: the handler gave the rest back, and failed on that one.
    expect(served.received.filter(({ frame }) => lent.held(frame.pixels.buffer))).toEqual([]);
  });

  it("fails to listen with the source's error when a file that fails fast cannot be read", async () => {
    served = serve([fileSource(join(workDir, 'missing.mp4'), 'camera0')]);

    await expect(served.listening).rejects.toThrow(/video file not found: .*missing\.mp4/);
  });

  it('close() stops its decoders', async () => {
    served = serve([fileSource(ramp, 'camera0', { loop: true })], (frame, server) => server.release(frame.pixels));
    await served.listening;
    expect(pidsRunning('ffmpeg', ramp)).toHaveLength(1);

    await served.server.close();

    expect(pidsRunning('ffmpeg', ramp)).toEqual([]);
  });

  it("switches one source live to another file, the other source untouched, its frames numbered on", async () => {
    const other = makeRamp('switched.mp4', 6);
    const door = makeRamp('door.mp4', 6);
    served = serve([fileSource(ramp, 'camera0', { loop: true }), fileSource(door, 'door', { loop: true })], (frame, server) => server.release(frame.pixels));
    await served.listening;
    const ofCamera0 = () => served?.received.filter(({ sourceId }) => sourceId === 'camera0') ?? [];
    await waitUntil(() => ofCamera0().length > 3, 'frames of camera0');

    const before = ofCamera0().length;
    await served.server.switchSource('camera0', { create: () => new VideoFileSource({ path: other, sourceId: 'camera0', loop: false, realtime: false, pixelFormat: PixelFormat.I420, bufferHeld: lent.held }) });
    await waitUntil(() => served?.server.stats()[0].state === 'ended', 'the new file played to its end');

    const after = ofCamera0().slice(before);
    // The new file's six frames at the end (frames of the old one cut before the switch may come first), numbered on.
    expect(after.slice(-6).map(({ luma }) => luma)).toEqual([16, 24, 32, 40, 48, 56]);
    const sequences = ofCamera0().map(({ frame }) => frame.sequence);
    expect(sequences).toEqual([...Array(sequences.length).keys()]);
    expect(served.server.stats()[1].state).toBe('streaming');
    expect(pidsRunning('ffmpeg', ramp)).toEqual([]);
  });

  it('starts reading again when switched after its file ended', async () => {
    const other = makeRamp('after-end.mp4', 6);
    served = serve([fileSource(ramp, 'camera0')], (frame, server) => server.release(frame.pixels));
    await served.listening;
    await waitUntil(() => served?.server.stats()[0].state === 'ended', 'the file played to its end');

    await served.server.switchSource('camera0', { create: () => new VideoFileSource({ path: other, sourceId: 'camera0', loop: false, realtime: false, pixelFormat: PixelFormat.I420, bufferHeld: lent.held }) });
    await waitUntil(() => (served?.received.length ?? 0) === 18, 'the second file played');

    expect(served.received.slice(12).map(({ luma }) => luma)).toEqual([16, 24, 32, 40, 48, 56]);
    await expect(served.server.switchSource('garage', fileSource(ramp, 'garage'))).rejects.toThrow('ServerInProcessCapture has no source garage');
  });

  it('reads a source switched before listen() once, from listen() on', async () => {
    const other = makeRamp('before-listen.mp4', 6);
    const server = new ServerInProcessCapture([fileSource(ramp, 'camera0', { loop: true })], lent);
    const lumas: number[] = [];
    server.addHandler(FRAMES_TOPIC, (async (frame: Frame) => {
      lumas.push(frame.pixels[0]);
      server.release(frame.pixels);
    }) as MessageHandler, true);
    served = { server, received: [], listening: Promise.resolve() };
    await server.switchSource('camera0', fileSource(other, 'camera0', { loop: true }));
    expect(pidsRunning('ffmpeg', other)).toEqual([]);

    await new Promise<void>((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())));
    await waitUntil(() => lumas.length >= 8, 'frames of the file switched to');

    expect(pidsRunning('ffmpeg', other)).toHaveLength(1);
    expect(pidsRunning('ffmpeg', ramp)).toEqual([]);
    expect(lumas.slice(0, 6)).toEqual([16, 24, 32, 40, 48, 56]);
  });

  it('serves a source added after listen() beside the others, and removes one with its decoder, its frames still counted', async () => {
    const door = makeRamp('added.mp4', 6);
    served = serve([fileSource(ramp, 'camera0', { loop: true })], (frame, server) => server.release(frame.pixels));
    await served.listening;
    served.server.addSource(fileSource(door, 'door'));
    await waitUntil(() => served?.server.stats()[1]?.state === 'ended', 'the added file played to its end');
    const ofDoor = () => served?.received.filter(({ sourceId }) => sourceId === 'door').map(({ luma }) => luma);
    expect(ofDoor()).toEqual([16, 24, 32, 40, 48, 56]);
    expect(() => served?.server.addSource(fileSource(door, 'door'))).toThrow('ServerInProcessCapture has a source door already');

    const [camera0, added] = served.server.unwrap();
    await served.server.removeSource('door');
    expect(added.state).toBe('stopped');
    expect(served.server.stats().map(({ sourceId }) => sourceId)).toEqual(['camera0']);
    expect(pidsRunning('ffmpeg', ramp)).toHaveLength(1);
    await served.server.removeSource('camera0');
    expect(camera0.state).toBe('stopped');
    expect(pidsRunning('ffmpeg', ramp)).toEqual([]);
    expect(served.server.stats()).toEqual([]);
    await expect(served.server.removeSource('door')).rejects.toThrow('ServerInProcessCapture has no source door');
  });

  it('starts a source added before listen() with the others, and refuses one once closing', async () => {
    const server = new ServerInProcessCapture([fileSource(ramp, 'camera0')], lent);
    server.addSource(fileSource(ramp, 'door'));
    expect(pidsRunning('ffmpeg', ramp)).toEqual([]);
    const received: string[] = [];
    server.addHandler(FRAMES_TOPIC, (async (frame: Frame) => {
      received.push(frame.sourceId);
      server.release(frame.pixels);
    }) as MessageHandler, true);
    served = { server, received: [], listening: Promise.resolve() };
    await new Promise<void>((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())));
    await waitUntil(() => received.filter((id) => id === 'door').length === 12, "the added source's frames");
    const closing = server.close();
    expect(() => server.addSource(fileSource(ramp, 'shed'))).toThrow('ServerInProcessCapture is closing: shed not added');
    await closing;
  });

  it('refuses no sources, and two with one id', () => {
    const source = fileSource(ramp, 'camera0');
    expect(() => new ServerInProcessCapture([], lent)).toThrow('ServerInProcessCapture needs at least one source');
    expect(() => new ServerInProcessCapture([source, source], lent)).toThrow('ServerInProcessCapture must name each source id once; repeated: camera0');
  });
});
