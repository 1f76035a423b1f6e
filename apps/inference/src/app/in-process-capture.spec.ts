import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '@iev/service-runtime';
import { FairFrameOffer, readAddedSource, sourceConfigSpec } from '@iev/capture-sources';
import { frameCodec, FRAMES_TOPIC, type Frame } from '@iev/frame-protocol';
import { IOTEDGE_VARIABLES, readDesired } from '@iev/iot-edge';
import { childPids, freePort, startSilencingCamera, waitUntil } from '@iev/testing';
import { ClientZmqOnDemand } from '@iev/zmq-transport';
import type { MessageHandler } from '@nestjs/microservices';
import pino from 'pino';
import { Registry } from 'prom-client';
import { inProcessCapture, type InProcessCapture } from './in-process-capture';

jest.setTimeout(30_000);

const workDir = mkdtempSync(join(tmpdir(), 'in-process-cameras-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** A looping-free video of `frames` frames of one grey level at this size. */
function makeVideo(name: string, width: number, height: number, frames = 200): string {
  const path = join(workDir, name);
  const graph = `color=c=gray:size=${width}x${height}:rate=10:duration=${frames / 10}`;
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', graph, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', path]);
  return path;
}

/** This process's decoders of the file. */
const decodersOf = (path: string) => childPids(process.pid).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(path));

const entry = (sourceId: string, path: string) => readConfig(sourceConfigSpec, { SOURCE_ID: sourceId, CAMERA_PATH: path, CAPTURE_REALTIME: 'false' });
/** A camera the twin adds inherits inference's own environment, as a CAPTURE_SOURCES entry does. */
const addedConfig = (sourceId: string) => readAddedSource(sourceId, { CAPTURE_REALTIME: 'false', CAPTURE_FPS: '8' });

describe("InProcessCameras: CAPTURE_SOURCES' cameras as inference's twin changes them (real ffmpeg)", () => {
  const small = makeVideo('small.mp4', 64, 48);
  const door = makeVideo('door.mp4', 64, 48);
  const large = makeVideo('large.mp4', 96, 72);
  let capture: InProcessCapture;
  let registry: Registry;
  const sizes = new Map<string, string>();

  beforeEach(async () => {
    registry = new Registry();
    capture = await inProcessCapture([entry('camera0', small), entry('door.1', door)], addedConfig, pino({ level: 'silent' }), registry);
    const handler = (async (frame: Frame) => {
      sizes.set(frame.sourceId, `${frame.width}x${frame.height}`);
      capture.server.release(frame.pixels);
    }) as MessageHandler;
    capture.server.addHandler(FRAMES_TOPIC, handler, true);
    await new Promise<void>((resolve, reject) => capture.server.listen((error) => (error ? reject(error) : resolve())));
  });

  afterEach(async () => {
    await capture.server.close();
    sizes.clear();
  });

  it("takes a camera's own ignore regions in its twin entry as text, checked as a CAPTURE_SOURCES entry's list", () => {
    const spec = { cameras: capture.cameras.twinSpec };
    const read = (ignoreRegions: unknown) => readDesired(spec, { cameras: { garage: { source: small, ignoreRegions } } }, { cameras: capture.cameras.settings() } as never, { cameras: capture.cameras.settings() } as never);
    expect(read(' [[0.6, 0, 0.4, 0.05]] ').changes.cameras?.['garage']).toMatchObject({ source: small, ignoreRegions: '[[0.6,0,0.4,0.05]]' });
    expect(read([[0.6, 0, 0.4, 0.05]]).errors).toEqual([expect.stringMatching(/^cameras\.garage\.ignoreRegions must be text: a JSON list of regions, as a string/)]);
    expect(read('[[[0, 0], [10, 10], [20, 20]]]').errors).toEqual([expect.stringMatching(/region 0 has no area: its points must not all lie on one line/)]);
  });

  it('names each camera by twin key, with its start-up settings', () => {
    expect(capture.cameras.twinSpec.names).toEqual(['camera0', 'door_1']);
    // A camera the twin adds is named by its key, which must then be its own twin key.
    expect(capture.cameras.twinSpec.added?.refuse?.('gate 2')).toBe("a camera's SOURCE_ID, which it would be, must be its own twin key, and this one's is gate_2");
    expect(capture.cameras.twinSpec.added?.refuse?.('gate_2')).toBeUndefined();
    expect(capture.cameras.settings()).toEqual({
      camera0: { source: small, fps: 0, width: 0, height: 0, crop: '' },
      door_1: { source: door, fps: 0, width: 0, height: 0, crop: '' },
    });
  });

  it('restarts only the cameras whose settings change, on their new settings', async () => {
    const next = { ...capture.cameras.settings(), door_1: { source: large, fps: 0, width: 0, height: 0, crop: '' } };
    await waitUntil(() => decodersOf(small).length === 1 && decodersOf(door).length === 1, 'both decoders running');
    const camera0Decoder = decodersOf(small);
    const change = await capture.cameras.prepare(next);
    expect(change.refused).toEqual([]);
    expect(capture.cameras.settings()).not.toEqual(next);
    await change.switch();

    expect(capture.cameras.settings()).toEqual(next);
    await waitUntil(() => sizes.get('door.1') === '96x72', 'frames of the new file from door.1');
    expect(decodersOf(small)).toEqual(camera0Decoder);
    expect(decodersOf(door)).toEqual([]);
    expect(capture.server.stats().map(({ state }) => state)).toEqual(['streaming', 'streaming']);
  });

  it("refuses a crop the running camera's picture does not hold, naming the camera, its twin key and the size, and leaves it running; a crop in percentages fits", async () => {
    await waitUntil(() => sizes.get('door.1') === '64x48', 'frames from door.1');
    const cropped = (crop: string) => ({ ...capture.cameras.settings(), door_1: { source: door, fps: 0, width: 0, height: 0, crop } });
    const past = await capture.cameras.prepare(cropped('0,0,96,72'));
    expect(past.refused).toEqual([
      `cameras.door_1: ${door}: cameras.door_1.crop=0,0,96,72 asks for 96x72 at 0,0, which is not inside the picture of 64x48: set cameras.door_1.crop to a region inside it (in percentages it fits any size); it runs on as it was`,
    ]);
    await past.switch();
    expect(capture.cameras.settings()['door_1'].crop).toBe('');
    expect(capture.server.stats()[1].state).toBe('streaming');
    expect(capture.server.stats()[1].switchPending).toBeUndefined();

    const percent = await capture.cameras.prepare(cropped('0,0,50%,50%'));
    expect(percent.refused).toEqual([]);
    await percent.switch();
    await waitUntil(() => sizes.get('door.1') === '32x24', "frames of door.1's top left quarter");
  });

  it('keeps a camera delivering while the stream the twin switched it to cannot be reached, saying so in stats() and the metrics', async () => {
    const typo = `rtsp://127.0.0.1:${await freePort()}/door`;
    await waitUntil(() => sizes.get('door.1') === '64x48', 'frames from door.1');
    const change = await capture.cameras.prepare({ ...capture.cameras.settings(), door_1: { source: typo, fps: 0, width: 0, height: 0, crop: '' } });
    expect(change.refused).toEqual([]);
    await change.switch();

    const doorStats = () => capture.server.stats()[1];
    await waitUntil(() => (doorStats().switchPending?.failures ?? 0) >= 1, () => `the switch to fail (${JSON.stringify(doorStats())})`);
    expect(doorStats()).toMatchObject({ sourceId: 'door.1', state: 'streaming', switchPending: { since: expect.any(Number), error: expect.stringContaining(typo) } });
    const decoded = doorStats().framesDecoded;
    await waitUntil(() => doorStats().framesDecoded > decoded, 'door.1 to decode on');
    expect(decodersOf(door)).toHaveLength(1);

    // Per camera, for a fleet to alert on a twin change that never takes.
    const series = async (name: string) => Object.fromEntries(((await registry.getSingleMetric(name)?.get())?.values ?? []).map(({ labels, value }) => [labels['source_id'], value]));
    const failures = await series('iev_inference_source_switch_failures_total');
    expect(Object.keys(failures)).toEqual(['door.1']);
    expect(failures['door.1']).toBeGreaterThanOrEqual(1);
    const pending = await series('iev_inference_source_switch_pending_seconds');
    expect(pending['camera0']).toBe(0);
    expect(pending['door.1']).toBeGreaterThan(0);
    expect(pending['door.1']).toBeLessThanOrEqual((Date.now() - (doorStats().switchPending?.since ?? 0)) / 1000);

    // The wall clock stepped an hour either way (NTP at the boot of a board without RTC) moves no duration.
    for (const stepMs of [3_600_000, -3_600_000]) {
      const wallNow = Date.now.bind(Date);
      const stepped = jest.spyOn(Date, 'now').mockImplementation(() => wallNow() + stepMs);
      try {
        const afterStep = (await series('iev_inference_source_switch_pending_seconds'))['door.1'];
        expect(afterStep).toBeGreaterThanOrEqual(pending['door.1']);
        expect(afterStep).toBeLessThan(pending['door.1'] + 60);
      } finally {
        stepped.mockRestore();
      }
    }
  });

  it('adds a camera the twin names with its source, its other settings inherited, and removes it with its decoder', async () => {
    const garage = makeVideo('garage.mp4', 64, 48);
    const told: string[] = [];
    capture.cameras.watch({ added: (sourceId) => told.push(`+${sourceId}`), removed: (sourceId) => told.push(`-${sourceId}`) });
    expect(capture.cameras.twinSpec.added?.defaults('garage')).toEqual({ fps: 8, width: 0, height: 0, crop: '' });
    const startup = capture.cameras.settings();
    const withGarage = { ...startup, garage: { source: garage, fps: 8, width: 32, height: 24, crop: '' } };
    await (await capture.cameras.prepare(withGarage)).switch();

    expect(capture.cameras.settings()).toEqual(withGarage);
    await waitUntil(() => sizes.get('garage') === '32x24', 'frames of the added camera');
    expect(capture.server.stats().map(({ sourceId }) => sourceId)).toEqual(['camera0', 'door.1', 'garage']);
    expect(decodersOf(garage)).toHaveLength(1);

    await (await capture.cameras.prepare(startup)).switch();
    expect(capture.cameras.settings()).toEqual(startup);
    expect(capture.server.stats().map(({ sourceId }) => sourceId)).toEqual(['camera0', 'door.1']);
    expect(decodersOf(garage)).toEqual([]);
    expect(told).toEqual(['+garage', '-garage']);
  });

  it('refuses each camera it cannot open, naming it, leaves it as it was, and switches and adds the others', async () => {
    const garage = makeVideo('garage-beside-missing.mp4', 64, 48);
    const next = {
      camera0: { source: large, fps: 0, width: 0, height: 0, crop: '' },
      door_1: { source: join(workDir, 'missing.mp4'), fps: 0, width: 0, height: 0, crop: '' },
      garage: { source: garage, fps: 8, width: 0, height: 0, crop: '' },
      typo: { source: 'foo://gate.local/x', fps: 8, width: 0, height: 0, crop: '' },
      // Added before with it, and failed at each start, retried for good.
      porch: { source: garage, fps: 8, width: 0, height: 0, crop: '0,0,96,72' },
      // The test pattern's picture, 640x480, is known as a file's is.
      lobby: { source: 'testsrc', fps: 8, width: 0, height: 0, crop: '0,400,640,100' },
    };
    const before = capture.cameras.settings();

    const change = await capture.cameras.prepare(next);
    expect(change.refused).toEqual([
      expect.stringMatching(/^cameras\.door_1: source: video file not found: .*missing\.mp4$/),
      expect.stringMatching(/^cameras\.typo: source: foo:\/\/gate\.local\/x is a URL of a protocol capture does not recognise/),
      `cameras.porch: ${garage}: cameras.porch.crop=0,0,96,72 asks for 96x72 at 0,0, which is not inside the picture of 64x48: set cameras.porch.crop to a region inside it (in percentages it fits any size)`,
      'cameras.lobby: test pattern: cameras.lobby.crop=0,400,640,100 asks for 640x100 at 0,400, which is not inside the picture of 640x480: set cameras.lobby.crop to a region inside it (in percentages it fits any size)',
    ]);
    expect(capture.cameras.settings()).toEqual(before);
    await change.switch();

    expect(capture.cameras.settings()).toEqual({ camera0: next.camera0, door_1: before['door_1'], garage: next.garage });
    await waitUntil(() => sizes.get('camera0') === '96x72' && sizes.has('garage'), 'frames of camera0 switched and of garage added');
    expect(capture.server.stats().map(({ sourceId, state }) => [sourceId, state])).toEqual([
      ['camera0', 'streaming'],
      ['door.1', 'streaming'],
      ['garage', 'streaming'],
    ]);
    expect(decodersOf(door)).toHaveLength(1);
  });

  it('waits for a camera device that is not there when the document at start-up names it, and still refuses a file that cannot be read, alone', async () => {
    const before = capture.cameras.settings();
    const unplugged = { source: '/dev/video99', fps: 0, width: 0, height: 0, crop: '' };
    const change = await capture.cameras.prepare({ ...before, garage: unplugged, door_1: { ...unplugged, source: join(workDir, 'missing.mp4') } }, { startup: true });
    expect(change.refused).toEqual([expect.stringMatching(/^cameras\.door_1: source: video file not found/)]);
    expect(capture.cameras.settings()).toEqual(before);
    await change.switch();
    expect(capture.cameras.settings()).toEqual({ ...before, garage: unplugged });
    // Retried with backoff as a camera of CAPTURE_SOURCES not plugged in at start-up is, while the others run on.
    await waitUntil(() => capture.server.stats().find(({ sourceId }) => sourceId === 'garage')?.state === 'retrying', 'the added camera retried');
    expect(capture.server.stats().map(({ sourceId, state }) => [sourceId, state])).toEqual([
      ['camera0', 'streaming'],
      ['door.1', 'streaming'],
      ['garage', 'retrying'],
    ]);
    // A later patch that leaves its source as it is does not ask for it to be plugged in; one that names another does.
    await (await capture.cameras.prepare({ ...before, garage: { ...unplugged, fps: 5 } })).switch();
    expect(capture.cameras.settings()['garage']).toEqual({ ...unplugged, fps: 5 });
    expect((await capture.cameras.prepare({ ...before, garage: { ...unplugged, source: '/dev/video98' } })).refused).toEqual([
      "cameras.garage: source: camera /dev/video98 does not exist on this device; in a container, pass it in with --device /dev/video98 (a deployment's createOptions HostConfig.Devices)",
    ]);
  });
});

describe('InProcessCameras offering their frames to the preview (real ffmpeg and ZeroMQ)', () => {
  it("lets go of a removed camera's frame that waited for the preview to ask, which a camera added and removed under new names would pile up", async () => {
    const client = new ClientZmqOnDemand({ endpoint: `ipc://${join(workDir, 'offered')}`, bind: true, codecs: { [FRAMES_TOPIC]: frameCodec } });
    await client.connect();
    const offer = new FairFrameOffer(client, (error) => {
      throw error;
    });
    const capture = await inProcessCapture([entry('camera0', makeVideo('offered.mp4', 64, 48))], addedConfig, pino({ level: 'silent' }), new Registry(), offer);
    const last = new Map<string, Frame>();
    capture.server.addHandler(
      FRAMES_TOPIC,
      (async (frame: Frame) => {
        last.set(frame.sourceId, frame);
        capture.server.release(frame.pixels);
      }) as MessageHandler,
      true,
    );
    try {
      await new Promise<void>((resolve, reject) => capture.server.listen((error) => (error ? reject(error) : resolve())));
      const startup = capture.cameras.settings();
      await (await capture.cameras.prepare({ ...startup, garage: { source: makeVideo('offered-garage.mp4', 64, 48), fps: 8, width: 0, height: 0, crop: '' } })).switch();
      await waitUntil(() => last.has('garage'), 'frames of the added camera');
      await (await capture.cameras.prepare(startup)).switch();

      // Nothing asked for frames here (no preview up): the camera's last frame waited for its turn.
      expect(offer.holds((last.get('garage') as Frame).pixels.buffer)).toBe(false);
    } finally {
      await capture.server.close();
      offer.close();
      await client.close();
    }
  });
});

describe('inProcessCapture at start-up (real ffmpeg)', () => {
  it('stops on a source that cannot be used (a file that is not there, a URL of no protocol it reads), naming its CAPTURE_SOURCES entry', async () => {
    const missing = join(workDir, 'gate.mp4');
    const start = (path: string) => inProcessCapture([entry('camera0', makeVideo('camera0.mp4', 64, 48)), entry('gate', path)], addedConfig, pino({ level: 'silent' }), new Registry());

    await expect(start(missing)).rejects.toThrow(`CAPTURE_SOURCES[1] CAMERA_PATH: video file not found: ${missing}`);
    await expect(start('foo://gate.local/x')).rejects.toThrow('CAPTURE_SOURCES[1] CAMERA_PATH: foo://gate.local/x is a URL of a protocol capture does not recognise (foo)');
  });

  // Before, the test pattern's was taken and retried at the longest wait for good (and a file's stopped the module
  // only once its decoder failed): its picture, 640x480, is known without opening anything.
  it("stops on a crop the test pattern's picture (or a file's) does not hold, naming the entry's CAPTURE_CROP and the size", async () => {
    const gate = makeVideo('gate-cropped.mp4', 64, 48);
    const start = (path: string, crop: string) =>
      inProcessCapture([entry('camera0', makeVideo('camera0.mp4', 64, 48)), readConfig(sourceConfigSpec, { SOURCE_ID: 'gate', CAMERA_PATH: path, CAPTURE_CROP: crop })], addedConfig, pino({ level: 'silent' }), new Registry());

    await expect(start('testsrc', '50%,0,400,100')).rejects.toThrow(
      'test pattern: CAPTURE_SOURCES[1] CAPTURE_CROP=50%,0,400,100 asks for 400x100 at 320,0, which is not inside the picture of 640x480: set CAPTURE_SOURCES[1] CAPTURE_CROP to a region inside it (in percentages it fits any size)',
    );
    await expect(start(gate, '0,0,96,72')).rejects.toThrow(
      `${gate}: CAPTURE_SOURCES[1] CAPTURE_CROP=0,0,96,72 asks for 96x72 at 0,0, which is not inside the picture of 64x48: set CAPTURE_SOURCES[1] CAPTURE_CROP to a region inside it (in percentages it fits any size)`,
    );
  });

  // The twin's document at start-up may give the camera the source the crop is for (review r4: capture's own case).
  it("takes a test pattern's crop it does not hold under IoT Edge, where the twin may replace the pattern", async () => {
    const edge = Object.fromEntries(IOTEDGE_VARIABLES.map((name) => [name, name === 'IOTEDGE_AUTHSCHEME' ? 'sasToken' : 'x']));
    const saved = { ...process.env };
    Object.assign(process.env, edge);
    try {
      const configs = [entry('camera0', makeVideo('camera0-edge.mp4', 64, 48)), readConfig(sourceConfigSpec, { SOURCE_ID: 'gate', CAMERA_PATH: 'testsrc', CAPTURE_CROP: '50%,0,400,100' })];
      const capture = await inProcessCapture(configs, addedConfig, pino({ level: 'silent' }), new Registry());
      await capture.server.close();
    } finally {
      for (const name of IOTEDGE_VARIABLES) if (saved[name] === undefined) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });
});

describe("InProcessCameras: a crop's errors name the setting that gave it (real ffmpeg)", () => {
  it("names the CAPTURE_SOURCES entry's CAPTURE_CROP, not the twin's key, where the twin switches the source and leaves the crop, and leaves the camera as it was", async () => {
    const door = makeVideo('cropped-door.mp4', 64, 48);
    const smaller = makeVideo('smaller-door.mp4', 32, 24);
    const configs = [readConfig(sourceConfigSpec, { SOURCE_ID: 'door', CAMERA_PATH: door, CAPTURE_REALTIME: 'false', CAPTURE_CROP: '0,0,64,48' })];
    const capture = await inProcessCapture(configs, addedConfig, pino({ level: 'silent' }), new Registry());
    capture.server.addHandler(FRAMES_TOPIC, (async (frame: Frame) => capture.server.release(frame.pixels)) as MessageHandler, true);
    await new Promise<void>((resolve, reject) => capture.server.listen((error) => (error ? reject(error) : resolve())));
    try {
      await waitUntil(() => capture.server.stats()[0].state === 'streaming', 'frames from door');
      const before = capture.cameras.settings();
      const change = await capture.cameras.prepare({ door: { ...before['door'], source: smaller } });
      // Before, taken: the switch to the smaller file then failed at each start, pending for good.
      expect(change.refused).toEqual([
        `cameras.door: ${smaller}: CAPTURE_SOURCES[0] CAPTURE_CROP=0,0,64,48 asks for 64x48 at 0,0, which is not inside the picture of 32x24: set CAPTURE_SOURCES[0] CAPTURE_CROP to a region inside it (in percentages it fits any size)`,
      ]);
      await change.switch();
      expect(capture.cameras.settings()).toEqual(before);
      expect(capture.server.stats()[0].state).toBe('streaming');
      expect(capture.server.stats()[0].switchPending).toBeUndefined();
    } finally {
      await capture.server.close();
    }
  });
});

describe('InProcessCameras: a camera that stalls (real gst-launch-1.0)', () => {
  // A slow rate makes the limit three of its frame intervals, longer than the stream timeout: the rate is what set it.
  it.each([
    [{}, 'no frame for 1.0 s (CAPTURE_SOURCES[0] CAPTURE_STREAM_TIMEOUT)'],
    [{ CAPTURE_FPS: '1' }, 'no frame for 3.0 s (three frame intervals at CAPTURE_SOURCES[0] CAPTURE_FPS)'],
  ])("restarts a pipeline that stops giving frames without exiting, naming its CAPTURE_SOURCES entry's setting that gave the limit (%j)", async (entry, stall) => {
    const camera = await startSilencingCamera();
    const failures: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void failures.push(JSON.parse(line).msg) });
    const configs = [readConfig(sourceConfigSpec, { SOURCE_ID: 'door', CAMERA_PATH: camera.pipeline, CAPTURE_STREAM_TIMEOUT: '1', ...entry })];
    const capture = await inProcessCapture(configs, addedConfig, logger, new Registry());
    capture.server.addHandler(FRAMES_TOPIC, (async (frame: Frame) => capture.server.release(frame.pixels)) as MessageHandler, true);
    await new Promise<void>((resolve, reject) => capture.server.listen((error) => (error ? reject(error) : resolve())));
    try {
      await waitUntil(() => failures.length > 0, 'the stalled pipeline to be restarted');
      expect(failures).toEqual([`source failed: GStreamer pipeline "${camera.pipeline}": ${stall}; retrying`]);
      await waitUntil(() => capture.server.stats()[0].state === 'streaming' && camera.connections() === 2, 'door started again');
    } finally {
      await capture.server.close();
      camera.close();
    }
  });
});

describe("InProcessCameras: a rate the twin sets is the switched camera's stall limit (real ffmpeg)", () => {
  it('gives a camera the twin slows down three of its new frame intervals, not the old rate\'s limit', async () => {
    const failures: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void failures.push(JSON.parse(line).msg) });
    // At 10 fps the limit is CAPTURE_STREAM_TIMEOUT's 1 s; at 0.5 fps, three intervals: 6 s.
    const configs = [readConfig(sourceConfigSpec, { SOURCE_ID: 'gate', CAMERA_PATH: 'testsrc', CAPTURE_STREAM_TIMEOUT: '1', CAPTURE_FPS: '10', CAPTURE_WIDTH: '64', CAPTURE_HEIGHT: '48' })];
    const capture = await inProcessCapture(configs, addedConfig, logger, new Registry());
    const arrivals: number[] = [];
    capture.server.addHandler(FRAMES_TOPIC, (async (frame: Frame) => {
      arrivals.push(performance.now());
      capture.server.release(frame.pixels);
    }) as MessageHandler, true);
    await new Promise<void>((resolve, reject) => capture.server.listen((error) => (error ? reject(error) : resolve())));
    try {
      const change = await capture.cameras.prepare({ gate: { ...capture.cameras.settings()['gate'], fps: 0.5 } });
      await change.switch();
      const switchedAt = arrivals.length;
      // Frames of the new rate come 2 s apart, twice the old rate's limit.
      await waitUntil(() => arrivals.length >= switchedAt + 3, 'three frames at the new rate', { timeoutMs: 20_000 });
      expect(failures).toEqual([]);
      expect(capture.server.stats()[0].state).toBe('streaming');
    } finally {
      await capture.server.close();
    }
  });
});
