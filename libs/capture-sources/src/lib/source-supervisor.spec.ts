import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backoff } from '@iev/service-runtime';
import pino from 'pino';
import { childPids, freePort, startSilencingCamera, waitUntil } from '@iev/testing';
import { type Frame, MAX_DIMENSION } from '@iev/frame-protocol';
import { pidsRunning } from '../test-support/decoders';
import { startRtspResponder } from '../test-support/rtsp-responder';
import { GstreamerPipelineSource } from './gstreamer-source';
import { createFrameSource, resolveSource } from './resolve-source';
import type { FrameSource } from './frame-source';
import { observedSupervision } from './observed-supervision';
import { stallAfterMs, stallSetting } from './source-config';
import { SourceSupervisor, type SourceSupervisorOptions } from './source-supervisor';
import { VideoFileSource } from './video-file-source';

jest.setTimeout(30_000);

const testPattern = (width: number) => () => createFrameSource(resolveSource('testsrc'), { sourceId: 'camera0', width, height: 24, fps: 50 });

/** A source whose decoder fails at once: a camera stream where nothing listens. */
const failing = (): FrameSource => createFrameSource(resolveSource('http://127.0.0.1:9/camera.mjpeg'), { sourceId: 'camera0', streamTimeoutSeconds: 1 });

async function take(frames: AsyncGenerator<Frame>, count: number, each?: (frame: Frame, index: number) => Promise<void> | void): Promise<Frame[]> {
  const taken: Frame[] = [];
  for await (const frame of frames) {
    taken.push(frame);
    await each?.(frame, taken.length - 1);
    if (taken.length === count) break;
  }
  return taken;
}

/**
 * A real MJPEG-over-HTTP camera (ffmpeg's mpjpeg) that sends `seconds` of 64x48 pictures per connection, then hangs
 * up (a camera in a reboot loop) or keeps the connection open and says nothing (a camera that froze).
 */
async function mjpegCamera(seconds: number, then: 'hang up' | 'go silent', answerAfterMs = 0, port = 0): Promise<{ url: string; close(): void }> {
  const pictures = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=25', '-t', String(seconds), '-c:v', 'mjpeg', '-f', 'mpjpeg', '-']);
  const camera = createServer((_, response) => {
    // A camera slow to open (answerAfterMs), as ffmpeg probing a stream and waiting for a key frame is.
    setTimeout(() => {
      response.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace;boundary=ffmpeg' });
      if (then === 'hang up') response.end(pictures);
      else response.write(pictures);
    }, answerAfterMs);
  });
  await new Promise<void>((resolve) => camera.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(camera.address() as AddressInfo).port}/camera.mjpeg`,
    close: () => {
      camera.closeAllConnections();
      camera.close();
    },
  };
}

/** A supervisor of the stream at `url`, retrying after 50, 100, 200 and then 400 ms. */
const streamSupervisor = (url: string, streamTimeoutSeconds: number, options: Partial<SourceSupervisorOptions>) =>
  new SourceSupervisor(() => createFrameSource(resolveSource(url), { sourceId: 'camera0', streamTimeoutSeconds }), {
    failFastBeforeFirstFrame: false,
    backoff: new Backoff(50, 400, 0),
    ...options,
  });

describe('SourceSupervisor (real ffmpeg)', () => {
  const afterTest: Array<() => void> = [];
  afterEach(() => afterTest.splice(0).forEach((cleanUp) => cleanUp()));

  it('switches sources live, numbering frames on across the switch', async () => {
    const supervisor = new SourceSupervisor(testPattern(32), { failFastBeforeFirstFrame: true });
    const frames = await take(supervisor.frames(), 6, async (_, index) => {
      if (index === 2) await supervisor.switchSource({ create: testPattern(16) });
    });
    await supervisor.stop();

    // From 0 (a first frame replaced by a newer one before this loop took it, as under CI's load, is skipped), rising
    // across the switch; a frame the live source dropped while this loop was slow leaves a gap.
    const sequences = frames.map((frame) => frame.sequence);
    expect(sequences[0]).toBeLessThan(3);
    expect(sequences.slice(1).every((sequence, i) => sequence > sequences[i])).toBe(true);
    expect(frames.slice(0, 3).every((frame) => frame.width === 32)).toBe(true);
    expect(frames.slice(-2).every((frame) => frame.width === 16)).toBe(true);
    expect(supervisor.state).toBe('stopped');
  });

  it('leaves a gap in the sequence where a live source dropped frames its consumer took too late (skipped downstream)', async () => {
    const supervisor = new SourceSupervisor(testPattern(32), { failFastBeforeFirstFrame: true });
    // 50 frames a second taken five a second: the live source keeps only the newest, so about ten apart.
    const frames = await take(supervisor.frames(), 5, () => new Promise((resolve) => setTimeout(resolve, 200)));
    await supervisor.stop();

    const sequences = frames.map((frame) => frame.sequence);
    const gaps = sequences.slice(1).map((sequence, i) => sequence - sequences[i]);
    expect(gaps.every((gap) => gap >= 3)).toBe(true);
    expect(sequences.at(-1)).toBeLessThanOrEqual(supervisor.framesDecoded);
  });

  it('fails a source whose frames are larger than a frame may be sent, naming their size, instead of streaming them', async () => {
    // A lone side completed from a wide picture can pass the protocol's limit: every send of such a frame would fail.
    const tooWide = () => createFrameSource(resolveSource('testsrc'), { sourceId: 'camera0', width: MAX_DIMENSION + 1, height: 2, fps: 50 });
    const supervisor = new SourceSupervisor(tooWide, { failFastBeforeFirstFrame: true });

    await expect(take(supervisor.frames(), 1)).rejects.toThrow(`test pattern: frames of ${MAX_DIMENSION + 1}x2 are larger than ${MAX_DIMENSION} a side, the most a frame may be: ask for a smaller size (CAPTURE_WIDTH, CAPTURE_HEIGHT)`);
    await supervisor.stop();
  });

  it('waits after a file played once has ended, reads on from a source switched to, and ends on stop()', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supervisor-'));
    afterTest.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'three.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=32x24:rate=10:duration=0.3', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', file]);
    let ended = 0;
    const supervisor = new SourceSupervisor(() => new VideoFileSource({ path: file, sourceId: 'camera0', loop: false, realtime: false }), {
      failFastBeforeFirstFrame: true,
      listener: { ended: () => ended++ },
    });
    // Read with next() alone: a for-await loop left with break would end the generator.
    afterTest.push(() => void supervisor.stop());
    const frames = supervisor.frames();
    const taken: Frame[] = [];
    for (let i = 0; i < 3; i++) taken.push((await frames.next()).value as Frame);
    // The consumer's next() waits past the file's end instead of finding frames() done.
    const fourth = frames.next();
    await waitUntil(() => supervisor.state === 'ended', 'the file to end');
    await supervisor.switchSource({ create: testPattern(16) });
    taken.push((await fourth).value as Frame, (await frames.next()).value as Frame);
    const last = frames.next();
    await supervisor.stop();

    expect(ended).toBe(1);
    expect(taken.map(({ width }) => width)).toEqual([32, 32, 32, 16, 16]);
    // Numbers count on across the switch; the 50 fps pattern may replace a frame not yet taken by a newer one (live).
    const [first, second] = [taken[3].sequence, taken[4].sequence];
    expect({ file: taken.slice(0, 3).map(({ sequence }) => sequence), countsOn: first > 2 && second > first }).toEqual({ file: [0, 1, 2], countsOn: true });
    expect(await last).toEqual({ done: true, value: undefined });
  });

  it('retries a failing source with backoff, telling its listener, until a working one takes over', async () => {
    const failures: number[] = [];
    let attempts = 0;
    const supervisor = new SourceSupervisor(
      () => (++attempts < 3 ? failing() : testPattern(32)()),
      {
        failFastBeforeFirstFrame: false,
        backoff: new Backoff(50, 200, 0),
        listener: { failed: (_, retryInMs) => failures.push(retryInMs) },
      },
    );
    const [frame] = await take(supervisor.frames(), 1);
    await supervisor.stop();

    expect(failures).toEqual([50, 100]);
    expect(frame.width).toBe(32);
  });

  it('retries a camera that refuses its user and password at the longest delay at once, not the first (account lockouts)', async () => {
    const camera = createServer((_, response) => response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="camera"' }).end());
    await new Promise<void>((resolve) => camera.listen(0, '127.0.0.1', resolve));
    const url = `http://admin:wrong@127.0.0.1:${(camera.address() as AddressInfo).port}/camera.mjpeg`;
    const failures: Array<{ message: string; retryInMs: number }> = [];
    const supervisor = streamSupervisor(url, 1, { listener: { failed: ({ message }, retryInMs) => failures.push({ message, retryInMs }) } });
    const frames = supervisor.frames();
    try {
      void frames.next().catch(() => undefined);
      await waitUntil(() => failures.length >= 2, 'two refused logins', { timeoutMs: 10_000 });
      expect(failures.slice(0, 2).map(({ retryInMs }) => retryInMs)).toEqual([400, 400]);
      expect(failures[0].message).toMatch(/401 Unauthorized.*: the camera refused the user and password in the URL$/);
    } finally {
      await supervisor.stop();
      camera.close();
    }
  });

  it('keeps backing off a stream that drops right after each first frame, instead of restarting at the first delay', async () => {
    const camera = await mjpegCamera(0.04, 'hang up');
    const failures: number[] = [];
    const supervisor = streamSupervisor(camera.url, 1, { listener: { failed: (_, retryInMs) => failures.push(retryInMs) } });
    try {
      const frames = await take(supervisor.frames(), 4);
      expect(frames.map((frame) => frame.width)).toEqual([64, 64, 64, 64]);
      expect(failures).toEqual([50, 100, 200]);
    } finally {
      await supervisor.stop();
      camera.close();
    }
  });

  it('keeps backing off a stream that goes silent after its first frames, though its stall is seen only after a healthy run', async () => {
    const camera = await mjpegCamera(0.12, 'go silent');
    const failures: number[] = [];
    // Each stall is declared 0.5 s after the last frame, after the first frame plus healthyRunMs: frames came for a moment only.
    const supervisor = streamSupervisor(camera.url, 60, { stallTimeoutMs: () => 500, healthyRunMs: 300, listener: { failed: (_, retryInMs) => failures.push(retryInMs) } });
    try {
      for await (const frame of supervisor.frames()) {
        expect(frame.width).toBe(64);
        if (failures.length === 4) break;
      }
      expect(failures).toEqual([50, 100, 200, 400]);
    } finally {
      await supervisor.stop();
      camera.close();
    }
  });

  it('restarts a live source that stops delivering frames without its decoder exiting', async () => {
    const camera = await mjpegCamera(1, 'go silent');
    const failures: string[] = [];
    // ffmpeg's own network timeout far off: only the supervisor's watch can see the stall.
    const supervisor = streamSupervisor(camera.url, 60, { stallTimeoutMs: () => 1000, listener: { failed: (error) => failures.push(error.message) } });
    try {
      let framesAfterStall = 0;
      for await (const frame of supervisor.frames()) {
        if (failures.length > 0 && frame.width === 64) framesAfterStall++;
        if (framesAfterStall === 3) break;
      }
      expect(failures[0]).toContain('no frame for 1.0 s');
    } finally {
      await supervisor.stop();
      camera.close();
    }
  });

  it('gives a live source slow to open longer than the stall timeout for its first frame', async () => {
    const camera = await mjpegCamera(1, 'go silent', 2000);
    const failures: string[] = [];
    const supervisor = streamSupervisor(camera.url, 60, { stallTimeoutMs: () => 500, listener: { failed: (error) => failures.push(error.message) } });
    try {
      const [frame] = await take(supervisor.frames(), 1);
      expect(frame.width).toBe(64);
      expect(failures).toEqual([]);
    } finally {
      await supervisor.stop();
      camera.close();
    }
  });

  it('does not restart a file played at its own rate whose frames are further apart than the stall timeout (a timelapse)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supervisor-'));
    afterTest.push(() => rmSync(dir, { recursive: true, force: true }));
    const timelapse = join(dir, 'timelapse.mp4');
    // Six pictures for the three taken: played like a camera, a frame not taken before the next arrives is dropped,
    // and ffmpeg now and then hands on two at once (the decoder's frame threads; at the file's end, its last two), so
    // three pictures gave two frames in one run of three on a loaded machine, and the wait for the third never ended.
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=32x24:rate=1:duration=6', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', timelapse]);
    const failures: string[] = [];
    // A restart plays the file from its start: with one, the frame after the first would never come.
    const supervisor = new SourceSupervisor(() => new VideoFileSource({ path: timelapse, sourceId: 'camera0', loop: false }), {
      failFastBeforeFirstFrame: true,
      stallTimeoutMs: () => 500,
      listener: { failed: (error) => failures.push(error.message) },
    });
    afterTest.push(() => void supervisor.stop());

    const frames = await take(supervisor.frames(), 3);

    expect(failures).toEqual([]);
    // The file's next pictures, not its first again (testsrc2 draws each second differently).
    expect(new Set(frames.map((frame) => Buffer.from(frame.pixels).toString('base64'))).size).toBe(3);
  });

  it('fails frames() for a source that fails before its first frame when told to fail fast', async () => {
    const supervisor = new SourceSupervisor(failing, { failFastBeforeFirstFrame: true });
    await expect(take(supervisor.frames(), 1)).rejects.toThrow(/camera\.mjpeg/);
    await supervisor.stop();
  });

  it('retries a source switched to before the first frame, though told to fail fast: only the first one does', async () => {
    let attempts = 0;
    const supervisor = new SourceSupervisor(testPattern(32), { failFastBeforeFirstFrame: true, backoff: new Backoff(50, 200, 0) });
    await supervisor.switchSource({ create: () => (++attempts < 3 ? failing() : testPattern(16)()) });
    const [frame] = await take(supervisor.frames(), 1);
    await supervisor.stop();

    expect(attempts).toBe(3);
    expect(frame.width).toBe(16);
  });
});

/** The ffmpeg processes this test process started. */
const ffmpegChildren = () => childPids(process.pid, 'ffmpeg');

/** The next frame, or a failure naming what was waited for: a supervisor that stopped delivering fails fast, not at Jest's timeout. */
async function nextWithin(frames: AsyncGenerator<Frame>, what: string, timeoutMs = 5000): Promise<Frame> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no frame within ${timeoutMs} ms: ${what}`)), timeoutMs)));
  try {
    const next = await Promise.race([frames.next(), timedOut]);
    if (next.done) throw new Error(`frames() ended: ${what}`);
    return next.value;
  } finally {
    clearTimeout(timer);
  }
}

/** A real MJPEG-over-HTTP camera that streams a live test pattern (ffmpeg -re) to one client, and is gone once that client is. */
function liveMjpegCamera(url: string, width: number): ChildProcess {
  return spawn('ffmpeg', ['-v', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${width}x48:rate=20`, '-c:v', 'mjpeg', '-f', 'mpjpeg', '-listen', '1', url], { stdio: 'ignore' });
}

/**
 * A real MJPEG-over-HTTP camera that takes one client at a time, as many do: a second one, while the first is
 * connected, is answered 503. Each client gets its own live test pattern from ffmpeg.
 */
async function oneClientCamera(): Promise<{ url: string; refused: () => number; close(): void }> {
  let connected = 0;
  let refused = 0;
  const encoders = new Set<ChildProcess>();
  const camera = createServer((request, response) => {
    if (connected > 0) {
      refused++;
      response.writeHead(503).end('one client at a time');
      return;
    }
    connected++;
    const encoder = spawn('ffmpeg', ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=20', '-c:v', 'mjpeg', '-f', 'mpjpeg', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
    encoders.add(encoder);
    response.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace;boundary=ffmpeg' });
    encoder.stdout.pipe(response);
    request.socket.on('close', () => {
      connected--;
      encoder.kill('SIGKILL');
      encoders.delete(encoder);
    });
  });
  await new Promise<void>((resolve) => camera.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(camera.address() as AddressInfo).port}/camera.mjpeg`,
    refused: () => refused,
    close: () => {
      for (const encoder of encoders) encoder.kill('SIGKILL');
      camera.closeAllConnections();
      camera.close();
    },
  };
}

describe('SourceSupervisor switching make-before-break (real ffmpeg)', () => {
  const afterTest: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanUp of afterTest.splice(0).reverse()) await cleanUp();
  });

  /** What a source of the camera path is, at its own size unless `width` is given (SourceIdentity). */
  const identity = (cameraPath: string, width = 0) => ({ description: resolveSource(cameraPath), settings: { source: cameraPath, fps: 0, width, height: 0, crop: '' } });
  /** A supervisor of the 32-wide test pattern, told what it is, its sources retried after 50, 100 and then 200 ms. */
  const patternSupervisor = (listener: SourceSupervisorOptions['listener'] = {}) => {
    const supervisor = new SourceSupervisor(testPattern(32), { failFastBeforeFirstFrame: true, identity: identity('testsrc', 32), backoff: new Backoff(50, 200, 0), listener });
    afterTest.push(() => supervisor.stop());
    return supervisor;
  };
  const stream = (url: string, width?: number) => () => createFrameSource(resolveSource(url), { sourceId: 'camera0', width, streamTimeoutSeconds: 1 });

  it('keeps the running source delivering while a stream switched to cannot be reached, then switches at its first frame, numbering on', async () => {
    const url = `http://127.0.0.1:${await freePort()}/camera.mjpeg`;
    const failures: string[] = [];
    const supervisor = patternSupervisor({ switchFailed: ({ message }) => failures.push(message) });
    const frames = supervisor.frames();
    const taken: Frame[] = [];
    const takeUntil = async (done: () => boolean, what: string) => {
      while (!done()) taken.push(await nextWithin(frames, what));
    };
    await takeUntil(() => taken.length === 3, 'the test pattern');

    await supervisor.switchSource({ create: stream(url), ...identity(url) });
    await takeUntil(() => failures.length >= 2, 'the running source while the stream switched to fails');
    expect(taken.every(({ width }) => width === 32)).toBe(true);
    expect(supervisor.state).toBe('streaming');
    expect(supervisor.switchPending).toEqual({ since: expect.any(Number), failures: expect.any(Number), error: expect.stringContaining(`stream ${url}`) });
    expect(supervisor.switchPending?.failures).toBeGreaterThanOrEqual(2);

    const camera = liveMjpegCamera(url, 64);
    afterTest.push(() => void camera.kill('SIGKILL'));
    await takeUntil(() => taken.at(-1)?.width === 64, 'the stream once it is up');
    const firstFromStream = taken.length - 1;
    await takeUntil(() => taken.length === firstFromStream + 3, 'the stream after the switch');

    expect(supervisor.switchPending).toBeUndefined();
    expect(taken.slice(firstFromStream).every(({ width }) => width === 64)).toBe(true);
    const sequences = taken.map(({ sequence }) => sequence);
    expect(sequences.slice(1).every((sequence, i) => sequence > sequences[i])).toBe(true);
  });

  it('shows a file that plays once, switched to make-before-break, from its first frame', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supervisor-'));
    afterTest.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'three.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=16x24:rate=10:duration=0.3', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', file]);
    const playedOnce = () => new VideoFileSource({ path: file, sourceId: 'camera0', loop: false, realtime: false });
    const reference: string[] = [];
    for await (const { pixels } of playedOnce().frames()) reference.push(Buffer.from(pixels).toString('base64'));
    expect(reference).toHaveLength(3);

    const supervisor = patternSupervisor();
    const frames = supervisor.frames();
    const taken = [await nextWithin(frames, 'the test pattern')];
    await supervisor.switchSource({ create: playedOnce, ...identity(file) });
    while (taken.filter(({ width }) => width === 16).length < 3) taken.push(await nextWithin(frames, 'the file'));
    const fromFile = taken.filter(({ width }) => width === 16);

    expect(fromFile.map(({ pixels }) => Buffer.from(pixels).toString('base64'))).toEqual(reference);
    // Each of its frames in turn: none left out of the sequence.
    expect(fromFile.map(({ sequence }) => sequence - fromFile[0].sequence)).toEqual([0, 1, 2]);
    const afterEnd = frames.next();
    await waitUntil(() => supervisor.state === 'ended', 'the file to end');
    await supervisor.stop();
    expect(await afterEnd).toEqual({ done: true, value: undefined });
  });

  it('drops a pending switch for a newer one, and stops the attempts of a pending one on stop()', async () => {
    const failures: string[] = [];
    const supervisor = patternSupervisor({ switchFailed: ({ message }) => failures.push(message) });
    const frames = supervisor.frames();
    const taken = [await nextWithin(frames, 'the test pattern')];
    const [first, second] = [`http://127.0.0.1:${await freePort()}/first.mjpeg`, `http://127.0.0.1:${await freePort()}/second.mjpeg`];
    await supervisor.switchSource({ create: stream(first), ...identity(first) });
    while (failures.length === 0) taken.push(await nextWithin(frames, 'the running source while the first switch fails'));

    await supervisor.switchSource({ create: testPattern(16), ...identity('testsrc', 16) });
    while (taken.at(-1)?.width !== 16) taken.push(await nextWithin(frames, 'the source the newer switch named'));
    const newest = taken.findIndex(({ width }) => width === 16);
    taken.push(await nextWithin(frames, 'the source the newer switch named'));
    expect(taken.slice(0, newest).every(({ width }) => width === 32)).toBe(true);
    expect(taken.slice(newest).every(({ width }) => width === 16)).toBe(true);
    expect(failures.every((message) => message.includes('first.mjpeg'))).toBe(true);
    expect(supervisor.switchPending).toBeUndefined();

    await supervisor.switchSource({ create: stream(second), ...identity(second) });
    await waitUntil(() => failures.some((message) => message.includes('second.mjpeg')), 'the second stream to fail');
    expect(supervisor.switchPending?.error).toContain('second.mjpeg');
    await supervisor.stop();
    expect(supervisor.switchPending).toBeUndefined();
    expect(await frames.next()).toEqual({ done: true, value: undefined });
    // Longer than the longest retry delay: no attempt of the pending stream starts after stop().
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(ffmpegChildren()).toEqual([]);
  });

  it('makes the switch asked for last of two asked for at once, leaving no decoder of the other running', async () => {
    const supervisor = patternSupervisor();
    const frames = supervisor.frames();
    const taken = [await nextWithin(frames, 'the test pattern')];
    await Promise.all([supervisor.switchSource({ create: testPattern(16), ...identity('testsrc', 16) }), supervisor.switchSource({ create: testPattern(8), ...identity('testsrc', 8) })]);
    while (taken.at(-1)?.width !== 8) taken.push(await nextWithin(frames, 'the source asked for last'));
    for (let i = 0; i < 3; i++) taken.push(await nextWithin(frames, 'the source asked for last'));

    expect(taken.map(({ width }) => width).filter((width) => width !== 32)).toEqual([8, 8, 8, 8]);
    await waitUntil(() => ffmpegChildren().length === 1, () => `one decoder (${ffmpegChildren().length})`);
  });

  it('leaves the running source streaming, not restarted, when switched back to it while a switch is pending (a patch back after a mistyped one)', async () => {
    const failures: string[] = [];
    const supervisor = patternSupervisor({ switchFailed: ({ message }) => failures.push(message) });
    const frames = supervisor.frames();
    const taken = [await nextWithin(frames, 'the test pattern')];
    const [decoder] = ffmpegChildren();
    const url = `http://127.0.0.1:${await freePort()}/camera.mjpeg`;
    await supervisor.switchSource({ create: stream(url), ...identity(url) });
    while (failures.length === 0) taken.push(await nextWithin(frames, 'the running source while the switch fails'));

    await supervisor.switchSource({ create: testPattern(32), ...identity('testsrc', 32) });
    expect(supervisor.switchPending).toBeUndefined();
    for (let i = 0; i < 5; i++) taken.push(await nextWithin(frames, 'the running source after the switch back'));
    expect(ffmpegChildren()).toEqual([decoder]);
    const sequences = taken.map(({ sequence }) => sequence);
    expect(sequences.slice(1).every((sequence, i) => sequence > sequences[i])).toBe(true);
  });

  it('logs the first failure of each switch made pending, also of one asked for again after a patch back', async () => {
    const warnings: Array<{ msg: string; attempt: number }> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) });
    const supervisor = patternSupervisor(observedSupervision({ setUp: () => undefined, countRestart: () => undefined, addDownSeconds: () => undefined, countSwitchFailure: () => undefined }, logger));
    const frames = supervisor.frames();
    await nextWithin(frames, 'the test pattern');
    const url = `http://127.0.0.1:${await freePort()}/camera.mjpeg`;
    const pumping = (async () => {
      for await (const _ of frames);
    })();

    await supervisor.switchSource({ create: stream(url), ...identity(url) });
    await waitUntil(() => (supervisor.switchPending?.failures ?? 0) >= 1, 'the switch to fail');
    await supervisor.switchSource({ create: testPattern(32), ...identity('testsrc', 32) });
    const loggedBefore = warnings.length;
    await supervisor.switchSource({ create: stream(url), ...identity(url) });
    await waitUntil(() => (supervisor.switchPending?.failures ?? 0) >= 1, 'the switch asked for again to fail');

    expect(warnings.slice(loggedBefore)).toEqual([expect.objectContaining({ msg: expect.stringContaining('switch pending'), attempt: 1 })]);
    await supervisor.stop();
    await pumping;
  });

  it('switches break-before-make when told to at once (the twin document at start-up), though the two could run side by side', async () => {
    const supervisor = patternSupervisor();
    const frames = supervisor.frames();
    await nextWithin(frames, 'the test pattern');
    const url = `http://127.0.0.1:${await freePort()}/camera.mjpeg`;
    const pumping = (async () => {
      for await (const _ of frames);
    })();

    await supervisor.switchSource({ create: stream(url), ...identity(url) }, { atOnce: true });
    expect(supervisor.switchPending).toBeUndefined();
    await waitUntil(() => supervisor.state === 'retrying', () => `the stream retried in the test pattern's place (${supervisor.state})`);
    await supervisor.stop();
    await pumping;
  });

  it('makes a pending switch break-before-make once the running source ends: nothing is left to keep delivering', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supervisor-'));
    afterTest.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'second.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=32x24:rate=10:duration=3', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', file]);
    const url = `http://127.0.0.1:${await freePort()}/camera.mjpeg`;
    const events: string[] = [];
    const supervisor = new SourceSupervisor(() => new VideoFileSource({ path: file, sourceId: 'camera0', loop: false }), {
      failFastBeforeFirstFrame: true,
      identity: identity(file),
      backoff: new Backoff(50, 200, 0),
      listener: { ended: () => events.push('ended'), switchFailed: () => events.push('switch failed'), failed: ({ message }) => events.push(`failed: ${message.includes(url)}`) },
    });
    afterTest.push(() => supervisor.stop());
    const frames = supervisor.frames();
    const taken = [await nextWithin(frames, 'the file')];
    await supervisor.switchSource({ create: stream(url), ...identity(url) });
    const untilEnd = (async () => {
      for (;;) taken.push(await nextWithin(frames, 'the file to its end, then the stream', 20_000));
    })();
    void untilEnd.catch(() => undefined);
    await waitUntil(() => events.includes('switch failed'), 'the stream switched to to fail');
    const takenWhilePending = taken.length;
    await waitUntil(() => events.includes('failed: true'), () => `the stream retried as the running source (${events.join(', ')})`);

    // The file played on to its end while the switch was pending, and its end made the switch instead of waiting for one.
    expect(taken.length).toBeGreaterThan(takenWhilePending);
    expect(events).not.toContain('ended');
    expect(supervisor.switchPending).toBeUndefined();
    expect(supervisor.state).toBe('retrying');
  });

  it('switches a camera that takes one client to itself (another size) break-before-make', async () => {
    const camera = await oneClientCamera();
    afterTest.push(camera.close);
    const supervisor = new SourceSupervisor(stream(camera.url), { failFastBeforeFirstFrame: false, identity: identity(camera.url), backoff: new Backoff(50, 200, 0) });
    afterTest.push(() => supervisor.stop());
    const frames = supervisor.frames();
    const taken = [await nextWithin(frames, 'the camera')];
    await supervisor.switchSource({ create: stream(camera.url, 32), ...identity(camera.url, 32) });
    while (taken.at(-1)?.width !== 32) taken.push(await nextWithin(frames, 'the camera at its new size'));

    expect(camera.refused()).toBe(0);
  });
});

describe('SourceSupervisor of a GStreamer pipeline (real gst-launch-1.0)', () => {
  const afterTest: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanUp of afterTest.splice(0)) await cleanUp();
  });

  it('restarts a pipeline that prerolls for ever, naming the setting and the pipeline without its password, leaving no gst-launch behind', async () => {
    // A camera that answers PLAY over TCP and then sends nothing: rtspsrc has no timeout for that, and gst-launch
    // waits to preroll for good (still waiting after 45 s here); no frame, no error, no exit.
    const camera = await startRtspResponder({});
    afterTest.push(() => camera.close());
    const location = camera.url('viewer:s3cret@');
    const pipeline = `rtspsrc location=${location} protocols=tcp ! decodebin ! appsink`;
    const gstLaunches = () => pidsRunning('gst-launch-1.0', `location=${location}`);
    const failures: Array<{ message: string; retryInMs: number; stillRunning: number[] }> = [];
    const supervisor = supervisorOf(pipeline, {
      stallTimeoutMs: () => 1000,
      listener: { failed: (error, retryInMs) => failures.push({ message: error.message, retryInMs, stillRunning: gstLaunches() }) },
    });
    void supervisor.frames().next().catch(() => undefined);

    // Its first frame gets the stall timeout and 15 s more.
    await waitUntil(() => failures.length > 0, 'the stuck pipeline to be restarted', { timeoutMs: 25_000 });
    await waitUntil(() => gstLaunches().length === 1, 'the pipeline to be started again');
    await supervisor.stop();

    const masked = `rtspsrc location=${camera.url('viewer:***@')} protocols=tcp ! decodebin ! appsink`;
    expect(failures[0]).toEqual({
      message: `GStreamer pipeline "${masked}": no frame for 16.0 s (CAPTURE_STREAM_TIMEOUT; a first frame gets 15 s more)`,
      retryInMs: 50,
      stillRunning: [],
    });
    expect(gstLaunches()).toEqual([]);
  }, 40_000);

  /** A supervisor of `pipeline` retrying after 50 ms doubling to 400, stopped after the test; `options` as given. */
  function supervisorOf(pipeline: string, options: Pick<SourceSupervisorOptions, 'stallTimeoutMs' | 'stallSetting' | 'listener'>): SourceSupervisor {
    const supervisor = new SourceSupervisor(() => new GstreamerPipelineSource({ pipeline, sourceId: 'camera0' }), { failFastBeforeFirstFrame: false, backoff: new Backoff(50, 400, 0), ...options });
    afterTest.push(() => supervisor.stop());
    return supervisor;
  }

  /** A supervisor of `pipeline` with a stall timeout of 500 ms, its failures' messages in `failures`. */
  const pipelineSupervisor = (pipeline: string, failures: string[]): SourceSupervisor =>
    supervisorOf(pipeline, { stallTimeoutMs: () => 500, listener: { failed: (error) => failures.push(error.message) } });

  it('retries a live pipeline that gst-launch ends with exit code 0 (EOS), frames numbered on', async () => {
    const failures: string[] = [];
    const supervisor = pipelineSupervisor('videotestsrc is-live=true num-buffers=3 ! video/x-raw,width=32,height=24,framerate=30/1 ! appsink', failures);

    const frames = await take(supervisor.frames(), 5);

    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toMatch(/^GStreamer pipeline "videotestsrc .*" ended after [1-3] frames \(gst-launch-1\.0 exited with code 0\)/);
    // Rising across the restarts, not starting over.
    const sequences = frames.map((frame) => frame.sequence);
    expect(sequences.slice(1).every((sequence, index) => sequence > sequences[index])).toBe(true);
  });

  it('retries a pipeline whose gst-launch is killed by a signal (SIGTERM from a process manager, SIGKILL from the OOM killer)', async () => {
    const failures: string[] = [];
    const mark = `timestamp-offset=${process.pid}`;
    const supervisor = pipelineSupervisor(`videotestsrc is-live=true ${mark} ! video/x-raw,width=32,height=24,framerate=30/1 ! appsink`, failures);
    const frames = supervisor.frames();
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await nextWithin(frames, `the pipeline before ${signal}`);
      const [pid] = pidsRunning('gst-launch-1.0', mark);
      process.kill(pid, signal);
      // The supervisor sees the failure as frames are read (a frame taken before the kill may come first), then
      // starts the pipeline again: frames come from a new gst-launch.
      while (failures.length === 0) await nextWithin(frames, `the pipeline killed by ${signal} to fail`);
      await nextWithin(frames, `the pipeline after ${signal}`);
      expect(failures.splice(0)).toEqual([expect.stringMatching(new RegExp(`^gst-launch-1\\.0 failed reading GStreamer pipeline "videotestsrc .*" \\(gst-launch-1\\.0 was killed by ${signal}\\)`))]);
      expect(pidsRunning('gst-launch-1.0', mark)).not.toContain(pid);
    }
  });

  it('does not restart pipelines that are not live, whose frames come as fast as GStreamer makes them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supervisor-'));
    afterTest.push(() => rmSync(dir, { recursive: true, force: true }));
    // A timelapse of a frame a second, and a test source at a frame a minute: neither is paced (fdsink does not sync).
    const timelapse = join(dir, 'timelapse.avi');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=32x24:rate=1:duration=30', '-c:v', 'mjpeg', timelapse]);
    for (const pipeline of [`filesrc location=${timelapse} ! decodebin ! appsink`, 'videotestsrc ! video/x-raw,width=32,height=24,framerate=1/60 ! appsink']) {
      const failures: string[] = [];
      const supervisor = pipelineSupervisor(pipeline, failures);
      const frames = supervisor.frames();
      for (let taken = 0; taken < 10; taken++) await nextWithin(frames, pipeline);
      await supervisor.stop();
      // The file's end is a failure like a camera's; no stall is.
      expect(failures.filter((failure) => failure.includes('no frame for'))).toEqual([]);
    }
  });

  it('names the setting of the limit the stalled source ran under, not a rate a twin set meanwhile', async () => {
    const camera = await startSilencingCamera();
    afterTest.push(() => camera.close());
    // As capture's main wires them: a twin's rate changes both, and applies to the source it switches to.
    let fps = 0;
    const failures: string[] = [];
    const supervisor = supervisorOf(camera.pipeline, {
      stallTimeoutMs: () => stallAfterMs(1, fps),
      stallSetting: () => stallSetting({ sourceSetting: 'CAMERA_PATH', streamTimeoutSeconds: 1, fps, twinFpsSetting: fps === 0 ? undefined : 'fps' }),
      listener: { failed: (error) => failures.push(error.message) },
    });
    // The twin's rate comes with the first frame; frames are read on, as a consumer does, until stop() ends them.
    void take(supervisor.frames(), Number.MAX_SAFE_INTEGER, () => {
      fps = 0.5;
    });

    await waitUntil(() => failures.length > 0, 'the stalled pipeline to be restarted');

    expect(failures[0]).toBe(`GStreamer pipeline "${camera.pipeline}": no frame for 1.0 s (CAPTURE_STREAM_TIMEOUT)`);
  });
});
