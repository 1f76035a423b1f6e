import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import { frameCodec, FRAMES_TOPIC, type Frame } from '@iev/frame-protocol';
import { eventually } from '@iev/testing';
import { ServerZmqOnDemand } from '@iev/zmq-transport';
import { DEMO_VIDEO, ModuleProcess, startPipelineEdgeHub } from './module-process';

const lastDesiredOf = (reported: Record<string, unknown>) => (reported['lastDesired'] ?? {}) as Record<string, unknown>;
const settingsOf = (reported: Record<string, unknown>) => (reported['settings'] ?? {}) as Record<string, unknown>;
const switchPendingOf = (reported: Record<string, unknown>) => reported['switchPending'] as { failures: number; error?: string } | null | undefined;

/**
 * The capture module's twin crops its camera live, as it sets its rate and size: the frames that come out are the
 * region's, the reported settings say it, and a region the picture does not hold is refused, the running source
 * streaming on.
 */
describe("capture under (emulated) IoT Edge, its twin's crop", () => {
  let dir: string;
  let hub: EdgeHubEmulator;
  let capture: ModuleProcess;
  let consumer: ServerZmqOnDemand;
  let latest: Frame | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-capture-crop-'));
    hub = await startPipelineEdgeHub(dir);
    const framesEndpoint = `ipc://${join(dir, 'frames')}`;
    capture = new ModuleProcess('capture', { ...hub.moduleEnv('capture'), CAMERA_PATH: 'testsrc', CAPTURE_FPS: '10', FRAMES_BIND: framesEndpoint, METRICS_PORT: '0' });
    consumer = new ServerZmqOnDemand({ endpoint: framesEndpoint, codecs: { [FRAMES_TOPIC]: frameCodec } });
    consumer.addHandler(FRAMES_TOPIC, async (frame: Frame) => void (latest = frame), true);
    await new Promise<void>((resolve, reject) => consumer.listen((error) => (error ? reject(error) : resolve())));
  });

  afterAll(async () => {
    await consumer?.close();
    await capture?.stop('SIGKILL');
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const frameOf = (width: number, height: number) =>
    eventually(async () => (latest?.width === width && latest.height === height ? latest : undefined), () => `a frame of ${width}x${height} (latest ${latest?.width}x${latest?.height})`, {
      timeoutMs: 20_000,
      intervalMs: 100,
    });

  /** The test pattern streams on with the crop applied before, no switch pending. */
  async function expectRunningOn(reported: Record<string, unknown>): Promise<void> {
    const { payload: status } = await hub.invokeMethod('capture', 'getStatus', {}, 10_000);
    expect(switchPendingOf(status as Record<string, unknown>)).toBeUndefined();
    expect(settingsOf(reported)).toMatchObject({ source: 'testsrc', crop: '50%,0,50%,50%', width: 160 });
    const before = (await frameOf(160, 120)).sequence;
    await eventually(async () => (latest && latest.sequence > before ? true : undefined), () => 'a newer frame of the running crop', { timeoutMs: 5000, intervalMs: 100 });
  }

  it('crops the camera to the region patched, reports it, refuses one outside the picture (or a file\'s) naming its size, and null returns the whole picture', async () => {
    await frameOf(640, 480);
    await hub.waitForReported('capture', (reported) => settingsOf(reported)['crop'] === '', 30_000);

    const version = await hub.patchDesired('capture', { crop: '50%,0,50%,50%', width: 160 });
    const applied = await hub.waitForReported('capture', (reported) => lastDesiredOf(reported)['version'] === version, 20_000);
    expect(lastDesiredOf(applied)).toEqual({ version, status: 'applied' });
    expect(settingsOf(applied)).toMatchObject({ crop: '50%,0,50%,50%', width: 160 });
    // The right half of the top half (320x240), scaled to 160 wide: testsrc's blue, magenta and cyan bars only.
    await frameOf(160, 120);

    const bad = await hub.patchDesired('capture', { crop: 'half' });
    const rejected = await hub.waitForReported('capture', (reported) => lastDesiredOf(reported)['version'] === bad, 20_000);
    expect(lastDesiredOf(rejected)).toMatchObject({ status: 'rejected', error: expect.stringMatching(/^crop must be x,y,width,height .* \(got "half"\)$/) });

    // Refused against the picture the camera sends now, not switched to: a camera or stream would be stopped for it.
    const outside = await hub.patchDesired('capture', { crop: '600,0,100,100', width: 0 });
    const refused = await hub.waitForReported('capture', (reported) => lastDesiredOf(reported)['version'] === outside, 20_000);
    expect(lastDesiredOf(refused)).toMatchObject({
      status: 'rejected',
      error: 'test pattern: crop=600,0,100,100 asks for 100x100 at 600,0, which is not inside the picture of 640x480: set crop to a region inside it (in percentages it fits any size); it runs on as it was',
    });
    await expectRunningOn(refused);

    // A file with a crop past its picture (known from its probe) is refused alike: before, it was applied and the switch
    // to it retried for good, pending beside the running camera.
    const fileOutside = await hub.patchDesired('capture', { source: DEMO_VIDEO, crop: '600,0,100,100' });
    const fileRefused = await hub.waitForReported('capture', (reported) => lastDesiredOf(reported)['version'] === fileOutside, 20_000);
    expect(lastDesiredOf(fileRefused)).toMatchObject({
      status: 'rejected',
      error: `${DEMO_VIDEO}: crop=600,0,100,100 asks for 100x100 at 600,0, which is not inside the picture of 640x480: set crop to a region inside it (in percentages it fits any size)`,
    });
    expect(fileRefused).toMatchObject({ sourceType: 'testpattern' });
    await expectRunningOn(fileRefused);

    await hub.patchDesired('capture', { source: null, crop: null, width: null });
    await frameOf(640, 480);
    expect(settingsOf(await hub.waitForReported('capture', (reported) => settingsOf(reported)['crop'] === '', 20_000))).toMatchObject({ crop: '', width: 0 });
  }, 150_000);
});

describe("capture under (emulated) IoT Edge, CAPTURE_CROP under its twin's source", () => {
  let dir: string;
  let hub: EdgeHubEmulator;
  let capture: ModuleProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-capture-env-crop-'));
    hub = await startPipelineEdgeHub(dir);
    const env = { ...hub.moduleEnv('capture'), CAMERA_PATH: 'testsrc', CAPTURE_FPS: '10', CAPTURE_CROP: '400,0,200,200', FRAMES_BIND: `ipc://${join(dir, 'frames')}`, METRICS_PORT: '0' };
    capture = new ModuleProcess('capture', env);
  });

  afterAll(async () => {
    await capture?.stop('SIGKILL');
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names CAPTURE_CROP, not the twin\'s crop, where it does not fit a twin source, refused', async () => {
    const smaller = join(dir, 'smaller.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:duration=4', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', smaller]);
    await hub.waitForReported('capture', (reported) => settingsOf(reported)['crop'] === '400,0,200,200', 30_000);
    await eventually(async () => {
      const { payload } = await hub.invokeMethod('capture', 'getStatus', {}, 10_000);
      return (payload as Record<string, unknown>)['source'] === 'streaming' || undefined;
    }, () => 'the test pattern streaming', { timeoutMs: 20_000, intervalMs: 200 });

    const version = await hub.patchDesired('capture', { source: smaller });
    const refused = await hub.waitForReported('capture', (reported) => lastDesiredOf(reported)['version'] === version, 20_000);
    expect(lastDesiredOf(refused)).toMatchObject({
      status: 'rejected',
      error: `${smaller}: CAPTURE_CROP=400,0,200,200 asks for 200x200 at 400,0, which is not inside the picture of 320x240: set CAPTURE_CROP to a region inside it (in percentages it fits any size)`,
    });
    expect(settingsOf(refused)).toMatchObject({ source: 'testsrc' });
    const { payload: status } = await hub.invokeMethod('capture', 'getStatus', {}, 10_000);
    expect(status).toMatchObject({ source: 'streaming', sourceType: 'testpattern' });
    expect(switchPendingOf(status as Record<string, unknown>)).toBeUndefined();
  }, 90_000);
});

describe("capture under (emulated) IoT Edge, CAPTURE_CROP for the camera its twin's start-up document names", () => {
  // The twin's document at start-up configures the source as CAMERA_PATH does: a CAPTURE_CROP that fits its camera
  // and not the test pattern CAMERA_PATH holds the place of is no reason to stop before the twin is read.
  it('starts on the test pattern and streams the twin\'s camera', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iev-capture-twin-camera-crop-'));
    const camera = join(dir, 'camera-720p.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=10:duration=4', '-pix_fmt', 'yuv420p', camera]);
    const hub = await startPipelineEdgeHub(dir, { capture: { source: camera, fps: 10 } });
    const capture = new ModuleProcess('capture', { ...hub.moduleEnv('capture'), CAMERA_PATH: 'testsrc', CAPTURE_CROP: '640,360,640,360', FRAMES_BIND: `ipc://${join(dir, 'frames')}`, METRICS_PORT: '0' });
    try {
      const streaming = await Promise.race([
        capture.exited.then((code) => `exited ${code}: ${capture.stderr.join('\n')}`),
        eventually(async () => {
          const { payload } = await hub.invokeMethod('capture', 'getStatus', {}, 10_000);
          return (payload as Record<string, unknown>)['sourceType'] === 'file' && (payload as Record<string, unknown>)['source'] === 'streaming' ? 'streaming the twin\'s camera' : undefined;
        }, () => "the twin's camera streaming", { timeoutMs: 30_000, intervalMs: 200 }),
      ]);
      expect(streaming).toBe("streaming the twin's camera");
    } finally {
      await capture.stop('SIGKILL');
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
