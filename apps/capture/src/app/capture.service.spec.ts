import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFrameSource, resolveSource, VideoFileSource } from '@iev/capture-sources';
import { frameCodec, FRAMES_TOPIC, type Frame } from '@iev/frame-protocol';
import { childPids, freePort, startSilencingCamera, waitUntil } from '@iev/testing';
import { ClientZmqOnDemand, ServerZmqOnDemand } from '@iev/zmq-transport';
import pino from 'pino';
import { Registry } from 'prom-client';
import { CaptureMetrics } from './capture.metrics';
import { CaptureService } from './capture.service';

/** The ffmpeg processes this test process started. */
const ffmpegChildren = () => childPids(process.pid, 'ffmpeg');

/** A real MJPEG-over-HTTP camera stand-in: ffmpeg serving a test pattern to one client. */
function serveStream(url: string): ChildProcess {
  return spawn('ffmpeg', ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=20', '-c:v', 'mjpeg', '-f', 'mpjpeg', '-listen', '1', url], {
    stdio: 'ignore',
  });
}

// Real decoders started, killed and restarted after a backoff: more than Jest's 5 s default on a loaded runner.
jest.setTimeout(30_000);

describe('CaptureService (real ffmpeg, real ZeroMQ)', () => {
  let dir: string;
  let video: string;
  let largeVideo: string;
  let client: ClientZmqOnDemand;
  let consumer: ServerZmqOnDemand;
  const frames: Frame[] = [];
  /** How long the consumer takes over each frame. */
  let consumerDelayMs = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-capture-'));
    video = join(dir, 'test.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=20', '-t', '2', '-pix_fmt', 'yuv420p', video]);
    // Frames larger than the decoder's output can hold (a pipe's 64 KB, a unix socket's ~208 KB), so what is decoded
    // ahead is counted in frames, not in output fulls.
    largeVideo = join(dir, 'large.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=20', '-t', '2', '-pix_fmt', 'yuv420p', largeVideo]);
    const endpoint = `ipc://${join(dir, 'frames')}`;
    client = new ClientZmqOnDemand({ endpoint, bind: true, codecs: { [FRAMES_TOPIC]: frameCodec } });
    await client.connect();
    // A real consumer, as inference is: it asks for a frame each time its handler is free.
    consumer = new ServerZmqOnDemand({ endpoint, codecs: { [FRAMES_TOPIC]: frameCodec } });
    consumer.addHandler(
      FRAMES_TOPIC,
      async (frame: Frame) => {
        frames.push(frame);
        if (consumerDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, consumerDelayMs));
      },
      true,
    );
    await new Promise<void>((resolve, reject) => consumer.listen((error) => (error ? reject(error) : resolve())));
  });

  beforeEach(() => {
    frames.length = 0;
    consumerDelayMs = 0;
  });

  afterAll(async () => {
    await consumer.close();
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let registry: Registry;
  const service = (path: string, realtime = true, onSource?: (source: VideoFileSource) => void) => {
    registry = new Registry();
    return new CaptureService(
      {
        description: resolveSource(path),
        settings: { source: path, fps: 0, width: 0, height: 0, crop: '' },
        create: () => {
          const source = new VideoFileSource({ path, sourceId: 'camera0', loop: true, realtime, bufferHeld: (buffer) => client.holds(buffer) });
          onSource?.(source);
          return source;
        },
      },
      true,
      client,
      new CaptureMetrics(registry, client),
      pino({ level: 'silent' }),
    );
  };
  const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value ?? NaN;

  it('fails start() with the path when the file is not a video', async () => {
    const notAVideo = join(dir, 'notes.mp4');
    writeFileSync(notAVideo, 'not a video');
    const capture = service(notAVideo);
    await expect(capture.start()).rejects.toThrow(notAVideo);
    await capture.onApplicationShutdown();
  });

  it('keeps retrying a stream that is not up yet instead of failing start-up', async () => {
    const notServingUrl = 'http://127.0.0.1:9/camera.mjpeg';
    const notServing = resolveSource(notServingUrl);
    const capture = new CaptureService(
      { description: notServing, settings: { source: notServingUrl, fps: 0, width: 0, height: 0, crop: '' }, create: () => createFrameSource(notServing, { sourceId: 'camera0', streamTimeoutSeconds: 1 }) },
      false,
      client,
      new CaptureMetrics(new Registry(), client),
      pino({ level: 'silent' }),
    );
    await capture.start();
    await waitUntil(() => capture.state === 'retrying', 'the first retry');
    await capture.onApplicationShutdown();
    expect(capture.state).toBe('stopped');
    expect(ffmpegChildren()).toEqual([]);
  });

  it('resumes publishing when a stream server that went away comes back, counting the outage', async () => {
    const url = `http://127.0.0.1:${await freePort()}/camera.mjpeg`;
    let server = serveStream(url);
    registry = new Registry();
    const capture = new CaptureService(
      { description: resolveSource(url), settings: { source: url, fps: 0, width: 64, height: 48, crop: '' }, create: () => createFrameSource(resolveSource(url), { sourceId: 'camera0', width: 64, height: 48, streamTimeoutSeconds: 2 }) },
      false,
      client,
      new CaptureMetrics(registry, client),
      pino({ level: 'silent' }),
    );
    try {
      await capture.start();
      await waitUntil(() => capture.state === 'streaming', 'the stream');
      server.kill('SIGKILL');
      await waitUntil(() => capture.state === 'retrying', 'the service to notice the server is gone');
      server = serveStream(url);
      const before = frames.length;
      await waitUntil(() => capture.state === 'streaming' && frames.length >= before + 5, 'frames from the server that came back', { timeoutMs: 20_000 });
      expect(await metric('iev_capture_source_down_seconds_total')).toBeGreaterThan(0);
      expect(await metric('iev_capture_source_restarts_total')).toBeGreaterThanOrEqual(1);
    } finally {
      server.kill('SIGKILL');
      await capture.onApplicationShutdown();
    }
    expect(ffmpegChildren()).toEqual([]);
  }, 40_000);

  it('restarts a GStreamer pipeline that stops giving frames without exiting, saying so in its state, metrics and log as for ffmpeg', async () => {
    const camera = await startSilencingCamera();
    const { pipeline } = camera;
    const description = resolveSource(pipeline);
    const failures: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void failures.push(JSON.parse(line).msg) });
    registry = new Registry();
    const capture = new CaptureService(
      { description, settings: { source: pipeline, fps: 0, width: 0, height: 0, crop: '' }, create: () => createFrameSource(description, { sourceId: 'camera0' }) },
      false,
      client,
      new CaptureMetrics(registry, client),
      logger,
      () => 1000,
    );
    try {
      await capture.start();
      await waitUntil(() => capture.state === 'streaming', 'the pipeline to stream');
      await waitUntil(() => capture.state === 'retrying', 'the stalled pipeline to be restarted', { timeoutMs: 5000 });
      expect(await metric('iev_capture_source_up')).toBe(0);
      expect(await metric('iev_capture_source_restarts_total')).toBe(1);
      expect(failures).toEqual([`source failed: GStreamer pipeline "${pipeline}": no frame for 1.0 s (CAPTURE_STREAM_TIMEOUT); retrying`]);
      await waitUntil(() => capture.state === 'streaming' && camera.connections() === 2, 'frames from the pipeline started again');
    } finally {
      await capture.onApplicationShutdown();
      camera.close();
    }
    expect(childPids(process.pid, 'gst-launch')).toEqual([]);
  });

  it('restarts a decoder that dies mid-stream and numbers frames on across the restart', async () => {
    const capture = service(video);
    try {
      await capture.start();
      await waitUntil(() => frames.length >= 5, 'the first frames');
      const [decoder] = ffmpegChildren();
      expect(decoder).toBeDefined();
      process.kill(decoder, 'SIGKILL');
      await waitUntil(() => capture.state === 'retrying', 'the service to notice the failure');
      const before = frames.length;
      await waitUntil(() => capture.state === 'streaming' && frames.length >= before + 5, 'frames after the restart');

      const sequences = frames.map((frame) => frame.sequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(new Set(sequences).size).toBe(sequences.length);
      expect(frames.every((frame) => frame.width === 64 && frame.height === 48 && frame.sourceId === 'camera0')).toBe(true);
      // The outage is counted: one restart, and the time without frames (at least the first backoff delay).
      expect(await metric('iev_capture_source_restarts_total')).toBe(1);
      expect(await metric('iev_capture_source_down_seconds_total')).toBeGreaterThan(0.3);
    } finally {
      await capture.onApplicationShutdown();
    }
    expect(capture.state).toBe('stopped');
    expect(ffmpegChildren()).toEqual([]);
  });

  it('switches to a new source live (a twin change): frames come from the new source, numbered on, no decoder left behind', async () => {
    const capture = service(video);
    try {
      await capture.start();
      await waitUntil(() => frames.length >= 3, 'frames from the first source');
      const testPattern = resolveSource('testsrc');
      await capture.switchSource({ description: testPattern, settings: { source: 'testsrc', fps: 20, width: 32, height: 24, crop: '' }, create: () => createFrameSource(testPattern, { sourceId: 'camera0', width: 32, height: 24, fps: 20 }) });
      await waitUntil(() => frames.some((frame) => frame.width === 32), 'frames from the new source');
      const sequences = frames.map((frame) => frame.sequence);
      expect(new Set(sequences).size).toBe(sequences.length);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(capture.state).toBe('streaming');
      expect(await metric('iev_capture_source_restarts_total')).toBe(0);
      expect(ffmpegChildren()).toHaveLength(1);
    } finally {
      await capture.onApplicationShutdown();
    }
    expect(ffmpegChildren()).toEqual([]);
  });

  it('after a file played once has ended, switches to a stream that is not up yet by retrying it, with one decoder however many switches', async () => {
    registry = new Registry();
    const capture = new CaptureService(
      { description: resolveSource(video), settings: { source: video, fps: 0, width: 0, height: 0, crop: '' }, create: () => new VideoFileSource({ path: video, sourceId: 'camera0', loop: false, realtime: false, bufferHeld: (buffer) => client.holds(buffer) }) },
      true,
      client,
      new CaptureMetrics(registry, client),
      pino({ level: 'silent' }),
    );
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/camera.mjpeg`;
    const notUpYet = { description: resolveSource(url), settings: { source: url, fps: 0, width: 0, height: 0, crop: '' }, create: () => createFrameSource(resolveSource(url), { sourceId: 'camera0', streamTimeoutSeconds: 1 }) };
    let server: ChildProcess | undefined;
    try {
      await capture.start();
      await waitUntil(() => capture.state === 'ended', 'the file to end', { timeoutMs: 20_000 });
      await capture.switchSource(notUpYet);
      await capture.switchSource(notUpYet);
      await waitUntil(() => capture.state === 'retrying', () => `the stream retried (state ${capture.state})`);
      expect(ffmpegChildren().length).toBeLessThanOrEqual(1);
      server = serveStream(url);
      await waitUntil(() => capture.state === 'streaming' && frames.at(-1)?.width === 64 && frames.at(-1)?.height === 48, 'frames from the stream', { timeoutMs: 20_000 });
      expect(ffmpegChildren()).toHaveLength(2); // the stream's server and capture's one decoder
    } finally {
      await capture.onApplicationShutdown();
      server?.kill('SIGKILL');
    }
  }, 60_000);

  it('decodes a file that is not played at its own rate only as fast as the consumer takes frames', async () => {
    consumerDelayMs = 100;
    let source: VideoFileSource | undefined;
    const capture = service(largeVideo, false, (created) => (source = created));
    try {
      await capture.start();
      // The client is shared by the tests: its first frame replaces the newest an earlier test's capture left unsent.
      await waitUntil(() => frames.length >= 1, 'a first frame at the consumer');
      const unclaimedBefore = client.stats().unclaimed;
      await waitUntil(() => frames.length >= 10, 'ten frames at the consumer');
      // The file would decode at hundreds of frames a second; it runs a few frames ahead of its consumer (ready ones,
      // one in the decoder's output, one in the transport as the newest).
      expect(source?.stats.framesDecoded).toBeLessThanOrEqual(frames.length + 4);
      const sequences = frames.map((frame) => frame.sequence);
      expect(sequences).toEqual(sequences.map((_, i) => sequences[0] + i)); // each in turn: nothing skipped
      expect(client.stats().unclaimed - unclaimedBefore).toBe(0);
    } finally {
      await capture.onApplicationShutdown();
    }
  });

  it('gives a slow consumer of a live source the newest frame and counts the frames nobody took', async () => {
    consumerDelayMs = 200;
    const unclaimedBefore = client.stats().unclaimed;
    const capture = service(video, true);
    try {
      await capture.start();
      await waitUntil(() => frames.length >= 5, 'five frames at the consumer');
      const sequences = frames.map((frame) => frame.sequence);
      // 20 fps against 5 a second: about three of every four frames are never sent.
      expect(Math.min(...sequences.slice(1).map((sequence, i) => sequence - sequences[i]))).toBeGreaterThan(1);
      expect(client.stats().unclaimed - unclaimedBefore).toBeGreaterThan(frames.length);
      expect(await metric('iev_capture_frames_unclaimed_total')).toBe(client.stats().unclaimed);
    } finally {
      await capture.onApplicationShutdown();
    }
  });
});
