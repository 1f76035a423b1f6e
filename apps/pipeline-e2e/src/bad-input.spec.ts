import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frameCodec, FRAMES_TOPIC, PixelFormat, type Frame } from '@iev/frame-protocol';
import { eventually, metricSums } from '@iev/testing';
import { Router } from 'zeromq';
import { DEMO_VIDEO, ModuleProcess } from './module-process';

/**
 * Capture's side of the frames wire without capture's checks: answers each request from inference with the next
 * message given, whatever its parts (see libs/zmq-transport on-demand-wire).
 */
class RawFrameProducer {
  private ordinal = 0;
  private constructor(private readonly socket: Router, private readonly requests: AsyncIterator<Buffer[]>) {}

  static async bind(endpoint: string): Promise<RawFrameProducer> {
    const socket = new Router({ linger: 0 });
    await socket.bind(endpoint);
    return new RawFrameProducer(socket, socket[Symbol.asyncIterator]());
  }

  /**
   * Waits for inference to ask for a frame, then sends these parts as one. A request that quotes an earlier message
   * than the last sent is a repeat made while that one was on its way: answering it too would put two messages in
   * flight, and the consumer keeps only the newest (the other skipped, not decoded or counted).
   */
  async send(parts: Buffer[]): Promise<void> {
    for (;;) {
      const { value } = await this.requests.next();
      const [identity, , , received] = value as Buffer[];
      if (Number(received?.toString()) !== this.ordinal) continue;
      await this.socket.send([identity, FRAMES_TOPIC, String(++this.ordinal), ...parts]);
      return;
    }
  }

  close(): void {
    this.socket.close();
  }
}

describe('inference under bad input', () => {
  let dir: string;
  let producer: RawFrameProducer;
  let inference: ModuleProcess;
  let telemetry: ModuleProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-bad-input-'));
    const frames = `ipc://${join(dir, 'frames')}`;
    const detections = `ipc://${join(dir, 'detections')}`;
    producer = await RawFrameProducer.bind(frames);
    inference = new ModuleProcess('inference', { FRAMES_CONNECT: frames, DETECTIONS_BIND: detections, METRICS_PORT: '0', INFERENCE_THREADS: '1' });
    telemetry = new ModuleProcess('telemetry', { DETECTIONS_CONNECT: detections, CONSOLE_FORMAT: 'json', METRICS_PORT: '0' });
  });

  afterAll(async () => {
    producer.close();
    await Promise.all([inference.stop('SIGKILL'), telemetry.stop('SIGKILL')]);
    rmSync(dir, { recursive: true, force: true });
  });

  let sequence = 0;
  const validFrame = (): Frame => ({
    sourceId: 'test',
    sequence: sequence++,
    captureTimeMs: Date.now(),
    width: 64,
    height: 32,
    stride: 64 * 3,
    pixelFormat: PixelFormat.BGR24,
    pixels: Buffer.alloc(64 * 32 * 3, 200),
  });

  /** The sequence numbers of the frames whose detections telemetry has printed. */
  const detected = () => telemetry.stdout.filter((line) => line.startsWith('{"frame"')).map((line) => (JSON.parse(line) as { frame: { sequence: number } }).frame.sequence);

  /** Sends valid frames until telemetry has printed the detections of one numbered `fromSequence` or later. */
  async function deliverValidFrames(fromSequence: number): Promise<void> {
    while (!detected().some((detectedSequence) => detectedSequence >= fromSequence)) {
      await producer.send(frameCodec.encode(validFrame()));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('counts and drops random bytes and truncated headers, and keeps serving', async () => {
    await deliverValidFrames(0);

    const header = frameCodec.encode(validFrame())[0];
    const malformed: Buffer[][] = [
      [randomBytes(1)],
      [randomBytes(64), randomBytes(100)],
      [header.subarray(0, 10), Buffer.alloc(64 * 32 * 3)],
      [header, Buffer.alloc(17)],
      [Buffer.alloc(0)],
    ];
    for (let i = 0; i < 20; i++) malformed.push([randomBytes(1 + ((i * 37) % 300))]);
    for (const parts of malformed) await producer.send(parts);

    // The detections of a frame sent after them, not of one sent before still on its way: each is asked for after the
    // last message arrived, so inference has received (and counted) every malformed one by then.
    await deliverValidFrames(sequence);
    const port = await inference.metricsPort();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metricSums(metrics).get('iev_inference_messages_malformed_total')).toBe(malformed.length);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    expect(inference.child.exitCode).toBeNull();
  });
});

describe('capture of a damaged video', () => {
  it("plays on, counting the decoder's complaints and logging them without flooding the log", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iev-damaged-video-'));
    const intact = join(dir, 'intact.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:duration=4', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-g', '10', intact]);
    // Every 211th byte of the middle third flipped: ffmpeg decodes every frame, complaining as it goes.
    const video = readFileSync(intact);
    for (let offset = Math.floor(video.length / 3); offset < (2 * video.length) / 3; offset += 211) video[offset] ^= 0xff;
    const damaged = join(dir, 'damaged.mp4');
    writeFileSync(damaged, video);
    // At its own rate, as a camera: it plays whether or not anyone takes its frames.
    const capture = new ModuleProcess('capture', { CAMERA_PATH: damaged, FRAMES_BIND: `ipc://${join(dir, 'frames')}`, METRICS_PORT: '0' });
    try {
      const port = await capture.metricsPort();
      const complaints = async () => metricSums(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).get('iev_capture_decoder_messages_total') ?? 0;
      await eventually(async () => ((await complaints()) > 5 ? true : undefined), 'the decoder to complain of the damaged frames', { timeoutMs: 20_000, intervalMs: 200 });
      const logged = capture.logs().filter(({ msg }) => String(msg).startsWith('decoder: '));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: 40 });
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      await capture.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('start-up errors a person can act on', () => {
  const run = async (name: string, env: Record<string, string>) => {
    // Private sockets and a free metrics port: a module running elsewhere on this machine must not decide the outcome.
    const sockets = `ipc://${join(tmpdir(), `iev-bad-input-${process.pid}`)}`;
    const module = new ModuleProcess(name, { METRICS_PORT: '0', FRAMES_BIND: `${sockets}-frames`, DETECTIONS_BIND: `${sockets}-detections`, ...env });
    // A module that retries instead of stopping is told as such, not left to the test's own timeout.
    let timer: NodeJS.Timeout | undefined;
    const stillRunning = new Promise<'still running after 30 s'>((resolve) => (timer = setTimeout(() => resolve('still running after 30 s'), 30_000)));
    const code = await Promise.race([module.exited, stillRunning]);
    clearTimeout(timer);
    if (code === 'still running after 30 s') await module.stop('SIGKILL');
    return { code, stderr: module.stderr.join('\n') };
  };

  it('names a bad environment variable', async () => {
    const { code, stderr } = await run('inference', { INFERENCE_THREADS: 'lots', DETECTION_PRESET: 'fastest', FRAMES_CONNECT: 'tcp://capture0:5555,capture1:5555' });
    expect(code).toBe(1);
    expect(stderr).toContain('INFERENCE_THREADS must be an integer');
    expect(stderr).toContain('FRAMES_CONNECT must be ZeroMQ endpoints separated by commas, such as tcp://capture0:5555,tcp://capture1:5555; not endpoints: "capture1:5555"');
    expect(stderr).toContain('DETECTION_PRESET must be one of seed, default (got "fastest")');
  });

  it("names bad LOG_* variables with the module's others, all at once", async () => {
    const { code, stderr } = await run('telemetry', { LOG_SUMMARY_INTERVAL: 'abc', TELEMETRY_SINK: 'cloud', TELEMETRY_QUEUE_CAPACITY: '0', DETECTIONS_CONNECT: 'inference:5556' });
    expect(code).toBe(1);
    for (const variable of ['LOG_SUMMARY_INTERVAL', 'TELEMETRY_SINK', 'TELEMETRY_QUEUE_CAPACITY', 'DETECTIONS_CONNECT']) expect(stderr).toContain(`  - ${variable} must be`);
  });

  it('says which model file is missing', async () => {
    const { code, stderr } = await run('inference', { MODEL_PATH: '/nonexistent/model.onnx' });
    expect(code).toBe(1);
    expect(stderr).toContain('cannot read model file /nonexistent/model.onnx: no such file');
  });

  it('stops reading text at start-up when the recognition dictionary is missing or does not fit the model, naming the files', async () => {
    const missing = await run('inference', { DETECTION_PRESET: 'default', REC_DICT_PATH: '/nonexistent/dict.txt' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read the recognition dictionary /nonexistent/dict.txt');
    expect(missing.stderr).toContain('REC_DICT_PATH');
    // The models' README as a dictionary: a few dozen "characters", not the 6623 the model was trained with.
    const wrong = await run('inference', { RECOGNITION: 'on', REC_DICT_PATH: 'models/README.md' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/recognition model models\/ch_PP-OCRv4_rec_infer\.onnx \(REC_MODEL_PATH\) predicts 6625 classes, but the dictionary models\/README\.md \(REC_DICT_PATH\) has \d+ characters/);
  });

  it('says TensorRT is not available and how to run without it', async () => {
    const { code, stderr } = await run('inference', { USE_TENSOR_RT: 'True' });
    expect(code).toBe(1);
    expect(stderr).toContain('USE_TENSOR_RT=False');
  });

  it('says which decoder to install when it is missing, even for a camera that would be retried', async () => {
    const { code, stderr } = await run('capture', {
      CAMERA_PATH: 'v4l2src device=/dev/video0 ! video/x-raw, width=640, height=480 ! videoconvert ! video/x-raw,format=BGR ! appsink',
      GST_LAUNCH_PATH: '/nonexistent/gst-launch-1.0',
    });
    expect(code).toBe(1);
    expect(stderr).toContain('install GStreamer');
  });

  it('says which video cannot be read, and which setting named a missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iev-bad-video-'));
    const notAVideo = join(dir, 'notes.mp4');
    writeFileSync(notAVideo, 'this is not a video');
    try {
      const missing = await run('capture', { CAMERA_PATH: join(dir, 'missing.mp4') });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(`CAMERA_PATH: video file not found: ${join(dir, 'missing.mp4')}`);
      const unreadable = await run('capture', { CAMERA_PATH: notAVideo });
      expect(unreadable.code).toBe(1);
      expect(unreadable.stderr).toContain(notAVideo);
      // Decoded by inference itself, the same file stops inference, before its model loads.
      const own = await run('inference', { CAPTURE_SOURCES: JSON.stringify([{ CAMERA_PATH: 'testsrc' }, { CAMERA_PATH: join(dir, 'missing.mp4') }]) });
      expect(own.code).toBe(1);
      expect(own.stderr).toContain(`CAPTURE_SOURCES[1] CAMERA_PATH: video file not found: ${join(dir, 'missing.mp4')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Before, the test pattern's was retried at the longest wait for good, as a camera's, though its picture (640x480)
  // is known without opening anything; a file's stopped capture only once its decoder had failed.
  it("stops capture at a crop the test pattern's picture does not hold, as at a file's, naming CAPTURE_CROP and the size", async () => {
    const pattern = await run('capture', { CAMERA_PATH: 'testsrc', CAPTURE_CROP: '0,400,640,100' });
    expect(pattern.code).toBe(1);
    expect(pattern.stderr).toContain(
      'test pattern: CAPTURE_CROP=0,400,640,100 asks for 640x100 at 0,400, which is not inside the picture of 640x480: set CAPTURE_CROP to a region inside it (in percentages it fits any size)',
    );
    const file = await run('capture', { CAMERA_PATH: DEMO_VIDEO, CAPTURE_CROP: '600,0,100,100' });
    expect(file.code).toBe(1);
    expect(file.stderr).toContain(`${DEMO_VIDEO}: CAPTURE_CROP=600,0,100,100 asks for 100x100 at 600,0, which is not inside the picture of 640x480`);
  });

  it("names the entry of CAPTURE_SOURCES that is wrong, and refuses it beside FRAMES_CONNECT", async () => {
    const wrong = await run('inference', { CAPTURE_SOURCES: JSON.stringify([{ CAMERA_PATH: 'testsrc' }, { CAMERA_PATH: 'testsrc', CAPTURE_FPS: 'fast' }]) });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('CAPTURE_SOURCES[1]: CAPTURE_FPS must be a number');
    const both = await run('inference', { CAPTURE_SOURCES: JSON.stringify([{ CAMERA_PATH: 'testsrc' }]), FRAMES_CONNECT: 'tcp://capture:5555' });
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('CAPTURE_SOURCES and FRAMES_CONNECT are both set');
  });

  it('names the camera and the region of IGNORE_REGIONS that is wrong, and why, in the variable and in an entry', async () => {
    const { code, stderr } = await run('inference', {
      IGNORE_REGIONS: '{"door": [[0, 0, 0.4, 0.06], [0.1, 0.8, 200, 0.1]]}',
      CAPTURE_SOURCES: JSON.stringify([{ CAMERA_PATH: 'testsrc', IGNORE_REGIONS: [[0, 0, 320]] }]),
    });
    expect(code).toBe(1);
    expect(stderr).toContain('IGNORE_REGIONS camera "door" region 1 mixes fractions of the frame with pixels');
    expect(stderr).toContain('CAPTURE_SOURCES[0]: IGNORE_REGIONS region 0 must be a rectangle [x, y, width, height] or a polygon');
  });
});
