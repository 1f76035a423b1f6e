// `npm start`'s cameras (tools/scripts/lib/cameras.mjs, a plain ES module run in its own Node.js, as the script is)
// and their agreement with genconfig's: the same source ids and ports for the same camera.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '../testing/executor-context';
import { withCameras } from './camera-modules';

const CAMERAS_MODULE = join(WORKSPACE_ROOT, 'tools/scripts/lib/cameras.mjs');

interface Capture {
  name: string;
  sourceId: string;
  cameraPath?: string;
  env: Record<string, string>;
}
type Started = { captures: Capture[]; framesConnect?: string } | { error: string };

/** What start.mjs would run for these arguments and this environment. */
function start(argv: string[], env: Record<string, string> = {}): Started {
  const script = `
    import { captureProcesses, parseCameras } from ${JSON.stringify(CAMERAS_MODULE)};
    const [argv, env] = JSON.parse(process.argv[1]);
    try { console.log(JSON.stringify(captureProcesses(parseCameras(argv, env), env))); }
    catch (error) { console.log(JSON.stringify({ error: error.message })); }`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify([argv, env])], { encoding: 'utf8' }));
}

interface Plan {
  captures: Capture[];
  inferenceEnv: Record<string, string>;
  previewEnv: Record<string, string>;
}

/** Everything start.mjs would run for these arguments and this environment (startPlan). */
function plan(argv: string[], env: Record<string, string> = {}): Plan | { error: string } {
  const script = `
    import { startPlan } from ${JSON.stringify(CAMERAS_MODULE)};
    const [argv, env] = JSON.parse(process.argv[1]);
    try { console.log(JSON.stringify(startPlan(argv, env))); }
    catch (error) { console.log(JSON.stringify({ error: error.message })); }`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify([argv, env])], { encoding: 'utf8' }));
}

describe('npm start with several cameras (tools/scripts/lib/cameras.mjs)', () => {
  it('runs one capture as before when no camera is named: its source alone, inference as configured', () => {
    expect(start([])).toEqual({ captures: [{ name: 'capture', sourceId: 'camera0', env: {} }] });
    expect(start([], { CAMERA_PATH: 'my.mp4', SOURCE_ID: 'gate' })).toEqual({ captures: [{ name: 'capture', sourceId: 'gate', cameraPath: 'my.mp4', env: { CAMERA_PATH: 'my.mp4' } }] });
    expect(start(['--camera', 'my.mp4'])).toEqual({ captures: [{ name: 'capture', sourceId: 'camera0', cameraPath: 'my.mp4', env: { CAMERA_PATH: 'my.mp4' } }] });
  });

  it('CAMERAS=3 runs the demo video (or CAMERA_PATH) as camera0..camera2, each capture on ports of its own', () => {
    const started = start([], { CAMERAS: '3' });
    expect(started).toEqual({
      captures: [0, 1, 2].map((k) =>
        expect.objectContaining({
          name: k === 0 ? 'capture' : `capture${k}`,
          sourceId: `camera${k}`,
          env: { SOURCE_ID: `camera${k}`, FRAMES_BIND: `tcp://127.0.0.1:${5555 + 10 * k}`, METRICS_PORT: `${9101 + 10 * k}` },
        }),
      ),
      framesConnect: 'tcp://127.0.0.1:5555,tcp://127.0.0.1:5565,tcp://127.0.0.1:5575',
    });
    expect(start([], { CAMERAS: '2', CAMERA_PATH: 'gate.mp4' })).toMatchObject({ captures: [{ env: { CAMERA_PATH: 'gate.mp4' } }, { env: { CAMERA_PATH: 'gate.mp4' } }] });
  });

  it('takes each --camera whole, commas and all (a GStreamer pipeline), as a source of its own', () => {
    const pipeline = 'videotestsrc ! video/x-raw,format=BGR,width=640,height=480 ! appsink';
    const started = start(['--camera', pipeline, `--camera=rtsp://dock/stream?a=1,2`]);
    expect(started).toMatchObject({ captures: [{ sourceId: 'camera0', env: { CAMERA_PATH: pipeline } }, { sourceId: 'camera1', env: { CAMERA_PATH: 'rtsp://dock/stream?a=1,2' } }] });
  });

  it('listens where LISTEN_HOST says and connects inference over the loopback', () => {
    expect(start([], { CAMERAS: '2', LISTEN_HOST: '0.0.0.0' })).toMatchObject({
      captures: [{ env: { FRAMES_BIND: 'tcp://0.0.0.0:5555' } }, { env: { FRAMES_BIND: 'tcp://0.0.0.0:5565' } }],
      framesConnect: 'tcp://127.0.0.1:5555,tcp://127.0.0.1:5565',
    });
  });

  it('gives an IPv6 LISTEN_HOST in brackets, as the modules take an endpoint, and the health panel where the modules listen', () => {
    expect(plan([], { CAMERAS: '2', LISTEN_HOST: '::1' })).toMatchObject({
      captures: [{ env: { FRAMES_BIND: 'tcp://[::1]:5555' } }, { env: { FRAMES_BIND: 'tcp://[::1]:5565' } }],
      inferenceEnv: { FRAMES_CONNECT: 'tcp://[::1]:5555,tcp://[::1]:5565' },
      previewEnv: { HEALTH_URLS: 'capture=http://[::1]:9101/health,capture1=http://[::1]:9111/health,inference=http://[::1]:9102/health,telemetry=http://[::1]:9103/health' },
    });
    // Every IPv6 address: the others connect on 127.0.0.1, which a listen on :: takes too, where ::1 would not answer
    // on a host with IPv6 switched off (Docker's containers by default).
    expect(plan(['--in-process'], { LISTEN_HOST: '::' })).toMatchObject({
      inferenceEnv: { FRAMES_BIND: 'tcp://[::]:5555' },
      previewEnv: { FRAMES_CONNECT: 'tcp://127.0.0.1:5555', HEALTH_URLS: 'inference=http://127.0.0.1:9102/health,telemetry=http://127.0.0.1:9103/health' },
    });
  });

  it('connects telemetry and the preview to the detections where an IPv6 LISTEN_HOST puts them, and with one camera inference and the preview to its frames and health', () => {
    const v6 = { LISTEN_HOST: '::1' };
    const health = 'capture=http://[::1]:9101/health,inference=http://[::1]:9102/health,telemetry=http://[::1]:9103/health';
    expect(plan([], v6)).toEqual({
      captures: [{ name: 'capture', sourceId: 'camera0', env: {} }],
      inferenceEnv: { FRAMES_CONNECT: 'tcp://[::1]:5555' },
      telemetryEnv: { DETECTIONS_CONNECT: 'tcp://[::1]:5556' },
      previewEnv: { FRAMES_CONNECT: 'tcp://[::1]:5555', DETECTIONS_CONNECT: 'tcp://[::1]:5556', HEALTH_URLS: health },
    });
    for (const argv of [[], ['--in-process']]) {
      expect(plan(argv, { ...v6, CAMERAS: '2' })).toMatchObject({ telemetryEnv: { DETECTIONS_CONNECT: 'tcp://[::1]:5556' }, previewEnv: { DETECTIONS_CONNECT: 'tcp://[::1]:5556' } });
    }
    // What the user set stands; every address (0.0.0.0, ::) is reached over the loopback, the modules' defaults.
    expect(plan([], { ...v6, DETECTIONS_BIND: 'tcp://[::1]:6000', DETECTIONS_CONNECT: 'tcp://[::1]:6000', FRAMES_CONNECT: 'tcp://[::1]:6001' })).toEqual({
      captures: [{ name: 'capture', sourceId: 'camera0', env: {} }],
      inferenceEnv: {},
      telemetryEnv: {},
      previewEnv: { HEALTH_URLS: health },
    });
    for (const host of ['0.0.0.0', '127.0.0.1']) {
      expect(plan([], { LISTEN_HOST: host })).toEqual({ captures: [{ name: 'capture', sourceId: 'camera0', env: {} }], inferenceEnv: {}, telemetryEnv: {}, previewEnv: {} });
    }
  });

  it("connects the modules to a FRAMES_BIND or DETECTIONS_BIND set in front, with one camera as with several, unless its _CONNECT is set", () => {
    const oneCamera = [{ name: 'capture', sourceId: 'camera0', env: {} }];
    expect(plan([], { FRAMES_BIND: 'tcp://127.0.0.1:17155', DETECTIONS_BIND: 'tcp://127.0.0.1:17156' })).toEqual({
      captures: oneCamera,
      inferenceEnv: { FRAMES_CONNECT: 'tcp://127.0.0.1:17155' },
      telemetryEnv: { DETECTIONS_CONNECT: 'tcp://127.0.0.1:17156' },
      previewEnv: { FRAMES_CONNECT: 'tcp://127.0.0.1:17155', DETECTIONS_CONNECT: 'tcp://127.0.0.1:17156' },
    });
    // Every address (IPv6's :: too) on 127.0.0.1, an IPv6 host in brackets, ipc:// as it is.
    const connects = (bind: string) => plan([], { FRAMES_BIND: bind, DETECTIONS_BIND: bind.replace('17155', '17156') });
    expect(connects('tcp://0.0.0.0:17155')).toMatchObject({ inferenceEnv: { FRAMES_CONNECT: 'tcp://127.0.0.1:17155' }, telemetryEnv: { DETECTIONS_CONNECT: 'tcp://127.0.0.1:17156' } });
    expect(connects('tcp://*:17155')).toMatchObject({ inferenceEnv: { FRAMES_CONNECT: 'tcp://127.0.0.1:17155' }, telemetryEnv: { DETECTIONS_CONNECT: 'tcp://127.0.0.1:17156' } });
    expect(connects('tcp://[::]:17155')).toMatchObject({ inferenceEnv: { FRAMES_CONNECT: 'tcp://127.0.0.1:17155' }, telemetryEnv: { DETECTIONS_CONNECT: 'tcp://127.0.0.1:17156' } });
    expect(connects('tcp://[fd00::7]:17155')).toMatchObject({ inferenceEnv: { FRAMES_CONNECT: 'tcp://[fd00::7]:17155' }, previewEnv: { DETECTIONS_CONNECT: 'tcp://[fd00::7]:17156' } });
    expect(connects('ipc:///tmp/iev-17155')).toMatchObject({ previewEnv: { FRAMES_CONNECT: 'ipc:///tmp/iev-17155', DETECTIONS_CONNECT: 'ipc:///tmp/iev-17156' } });
    // The bind wins over LISTEN_HOST's; no endpoint at all is the module's to refuse by its name.
    expect(plan([], { LISTEN_HOST: '::1', FRAMES_BIND: 'tcp://127.0.0.1:5555' })).toMatchObject({ inferenceEnv: {}, telemetryEnv: { DETECTIONS_CONNECT: 'tcp://[::1]:5556' } });
    expect(plan([], { DETECTIONS_BIND: 'udp://127.0.0.1:17156' })).toMatchObject({ telemetryEnv: {}, previewEnv: {} });
    // Several cameras and --in-process: the detections too.
    for (const argv of [[], ['--in-process']]) {
      expect(plan(argv, { CAMERAS: '2', DETECTIONS_BIND: 'tcp://0.0.0.0:17156' })).toMatchObject({
        telemetryEnv: { DETECTIONS_CONNECT: 'tcp://127.0.0.1:17156' },
        previewEnv: { DETECTIONS_CONNECT: 'tcp://127.0.0.1:17156' },
      });
    }
    // A _CONNECT set too stands (a proxy between them, another host's name).
    expect(plan([], { FRAMES_BIND: 'tcp://0.0.0.0:17155', FRAMES_CONNECT: 'tcp://gate.local:17155', DETECTIONS_BIND: 'tcp://*:17156', DETECTIONS_CONNECT: 'tcp://gate.local:17156' })).toEqual({
      captures: oneCamera,
      inferenceEnv: {},
      telemetryEnv: {},
      previewEnv: {},
    });
  });

  it("numbers every module's metrics port from a METRICS_PORT set in front, as from their defaults, the preview's health panel with them", () => {
    const health = (...entries: string[]) => entries.map((entry) => `${entry.split(':')[0]}=http://127.0.0.1:${entry.split(':')[1]}/health`).join(',');
    expect(plan([], { METRICS_PORT: '17501' })).toEqual({
      captures: [{ name: 'capture', sourceId: 'camera0', env: { METRICS_PORT: '17501' } }],
      inferenceEnv: { METRICS_PORT: '17502' },
      telemetryEnv: { METRICS_PORT: '17503' },
      previewEnv: { METRICS_PORT: '17504', HEALTH_URLS: health('capture:17501', 'inference:17502', 'telemetry:17503') },
    });
    // A health panel of one's own stands.
    expect(plan([], { METRICS_PORT: '17501', HEALTH_URLS: 'capture=http://cam:1/health' })).toMatchObject({ previewEnv: { METRICS_PORT: '17504' } });
    expect(plan([], { METRICS_PORT: '17501', HEALTH_URLS: 'capture=http://cam:1/health' })).not.toHaveProperty('previewEnv.HEALTH_URLS');
    expect(plan([], { METRICS_PORT: '17501', CAMERAS: '2' })).toMatchObject({
      captures: [{ env: { METRICS_PORT: '17501' } }, { env: { METRICS_PORT: '17511' } }],
      inferenceEnv: { METRICS_PORT: '17502' },
      telemetryEnv: { METRICS_PORT: '17503' },
      previewEnv: { METRICS_PORT: '17504', HEALTH_URLS: health('capture:17501', 'capture1:17511', 'inference:17502', 'telemetry:17503') },
    });
    expect(plan(['--in-process'], { METRICS_PORT: '17501' })).toMatchObject({
      inferenceEnv: { METRICS_PORT: '17502' },
      telemetryEnv: { METRICS_PORT: '17503' },
      previewEnv: { METRICS_PORT: '17504', HEALTH_URLS: health('inference:17502', 'telemetry:17503') },
    });
  });

  it('refuses ports of its own numbering that land on another of its ports, naming both, before any module starts', () => {
    const clash = (a: string, b: string, port: number) => ({ error: `${a} and ${b} would both be port ${port}: move one (npm start -- --help)` });
    expect(plan([], { METRICS_PORT: '8078' })).toEqual(clash("telemetry's METRICS_PORT", "the preview's PREVIEW_PORT", 8080));
    expect(plan([], { METRICS_PORT: '17710', PREVIEW_PORT: '17712' })).toEqual(clash("telemetry's METRICS_PORT", "the preview's PREVIEW_PORT", 17712));
    expect(plan([], { CAMERAS: '2', METRICS_PORT: '17710', FRAMES_BIND: 'tcp://127.0.0.1:17711' })).toEqual(clash("capture's FRAMES_BIND", "inference's METRICS_PORT", 17711));
    expect(plan([], { CAMERAS: '2', FRAMES_BIND: 'tcp://127.0.0.1:5546' })).toEqual(clash("capture1's FRAMES_BIND", "inference's DETECTIONS_BIND", 5556));
    expect(plan(['--in-process'], { METRICS_PORT: '5554' })).toEqual(clash("inference's FRAMES_BIND", "inference's METRICS_PORT", 5555));
    expect(plan([], { METRICS_PORT: '5552', FRAMES_BIND: 'tcp://0.0.0.0:5555' })).toEqual(clash("capture's FRAMES_BIND", "the preview's METRICS_PORT", 5555));
    // Other hosts, a port picked at random, an ipc endpoint: no clash.
    expect(plan([], { METRICS_PORT: '8078', PREVIEW_PORT: '0' })).not.toHaveProperty('error');
    expect(plan([], { METRICS_PORT: '5552', FRAMES_BIND: 'ipc:///tmp/frames' })).not.toHaveProperty('error');
    expect(plan([], { METRICS_PORT: '8078', PREVIEW_HOST: '::1' })).not.toHaveProperty('error');
    expect(plan([], { CAMERAS: '10' })).not.toHaveProperty('error');
    // The highest METRICS_PORT whose numbering fits: the last camera's capture at 65535.
    expect(plan([], { CAMERAS: '3', METRICS_PORT: '65515' })).toMatchObject({ captures: [{}, {}, { env: { METRICS_PORT: '65535' } }] });
  });

  it("numbers the cameras' frames ports from a FRAMES_BIND set in front, connecting to it over the loopback", () => {
    expect(plan([], { CAMERAS: '2', FRAMES_BIND: 'tcp://*:17555' })).toMatchObject({
      captures: [{ env: { FRAMES_BIND: 'tcp://*:17555' } }, { env: { FRAMES_BIND: 'tcp://*:17565' } }],
      inferenceEnv: { FRAMES_CONNECT: 'tcp://127.0.0.1:17555,tcp://127.0.0.1:17565' },
      previewEnv: { FRAMES_CONNECT: 'tcp://127.0.0.1:17555,tcp://127.0.0.1:17565' },
    });
    expect(plan(['--in-process'], { FRAMES_BIND: 'tcp://[::1]:17555' })).toMatchObject({
      inferenceEnv: { FRAMES_BIND: 'tcp://[::1]:17555' },
      previewEnv: { FRAMES_CONNECT: 'tcp://[::1]:17555' },
    });
  });

  it.each([
    [[], { CAMERAS: '0' }, 'CAMERAS must be a whole number from 1 to 10, got "0"'],
    [[], { CAMERAS: 'four' }, 'CAMERAS must be a whole number from 1 to 10, got "four"'],
    [['--camera'], {}, '--camera needs a source after it'],
    [['--camera', 'a.mp4'], { CAMERAS: '2' }, 'CAMERAS and --camera both name the cameras: use one'],
    [['a.mp4'], {}, 'unknown argument "a.mp4"'],
    [[], { METRICS_PORT: '0' }, 'METRICS_PORT must be a whole number from 1 to 65532, got "0": npm start gives capture that port and the other modules the next ones (README, Commands)'],
    [[], { CAMERAS: '3', METRICS_PORT: '65516' }, 'METRICS_PORT must be a whole number from 1 to 65515, got "65516": npm start gives capture that port and the other modules the next ones (README, Commands)'],
    [[], { CAMERAS: '2', SOURCE_ID: 'gate', FRAMES_CONNECT: 'tcp://127.0.0.1:6000' }, 'SOURCE_ID, FRAMES_CONNECT are set, but npm start gives each module its own: unset them (in the shell or .env)'],
    [[], { CAMERAS: '2', FRAMES_BIND: 'ipc:///tmp/frames.sock' }, 'FRAMES_BIND must be tcp://host:port with a port from 1 to 65525, got "ipc:///tmp/frames.sock": npm start offers camera0\'s frames there and camera k\'s at the port + 10 × k'],
  ])('refuses %p with %p: %s', (argv, env, error) => {
    expect(start(argv, env)).toEqual({ error });
  });

  it("numbers the cameras' source ids and ports as genconfig does", () => {
    const template = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'deployment/deployment.template.json'), 'utf8'));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const modules: Record<string, { env: Record<string, { value: string }> }> = (withCameras(template, 4) as any).modulesContent.$edgeAgent['properties.desired'].modules;
    const started = start([], { CAMERAS: '4' }) as { captures: Capture[] };
    const port = (endpoint: string) => endpoint.split(':').pop();
    for (const capture of started.captures) {
      const deployed = modules[capture.name].env;
      expect([capture.env['SOURCE_ID'], port(capture.env['FRAMES_BIND']), capture.env['METRICS_PORT']]).toEqual([
        deployed['SOURCE_ID'].value,
        port(deployed['FRAMES_BIND'].value),
        deployed['METRICS_PORT'].value,
      ]);
    }
  });
});

describe('npm start -- --in-process (tools/scripts/lib/cameras.mjs)', () => {
  const health = 'inference=http://127.0.0.1:9102/health,telemetry=http://127.0.0.1:9103/health';

  it('runs no capture: inference decodes the demo video itself and offers its frames to the preview', () => {
    expect(plan(['--in-process'])).toEqual({
      captures: [],
      inferenceEnv: { CAPTURE_SOURCES: JSON.stringify([{ SOURCE_ID: 'camera0', CAMERA_PATH: 'assets/demo/demo.mp4' }]), FRAMES_BIND: 'tcp://127.0.0.1:5555' },
      telemetryEnv: {},
      previewEnv: { FRAMES_CONNECT: 'tcp://127.0.0.1:5555', PREVIEW_SOURCES: 'camera0', HEALTH_URLS: health },
    });
    expect(plan(['--in-process'], { CAMERA_PATH: 'gate.mp4', SOURCE_ID: 'gate' })).toMatchObject({
      inferenceEnv: { CAPTURE_SOURCES: JSON.stringify([{ SOURCE_ID: 'gate', CAMERA_PATH: 'gate.mp4' }]) },
      previewEnv: { PREVIEW_SOURCES: 'gate' },
    });
  });

  it('gives inference every camera named, wherever the flag stands, and listens where LISTEN_HOST says', () => {
    const pipeline = 'videotestsrc ! video/x-raw,format=BGR,width=640,height=480 ! appsink';
    expect(plan(['--camera', pipeline, '--in-process', '--camera', 'rtsp://dock/stream'], { LISTEN_HOST: '0.0.0.0' })).toEqual({
      captures: [],
      inferenceEnv: {
        CAPTURE_SOURCES: JSON.stringify([
          { SOURCE_ID: 'camera0', CAMERA_PATH: pipeline },
          { SOURCE_ID: 'camera1', CAMERA_PATH: 'rtsp://dock/stream' },
        ]),
        FRAMES_BIND: 'tcp://0.0.0.0:5555',
      },
      telemetryEnv: {},
      previewEnv: { FRAMES_CONNECT: 'tcp://127.0.0.1:5555', PREVIEW_SOURCES: 'camera0,camera1', HEALTH_URLS: health },
    });
    expect(plan(['--in-process'], { CAMERAS: '3' })).toMatchObject({ previewEnv: { PREVIEW_SOURCES: 'camera0,camera1,camera2' } });
  });

  it.each([
    [{ CAPTURE_SOURCES: '[{"CAMERA_PATH": "a.mp4"}]' }, 'CAPTURE_SOURCES is set, but npm start gives each module its own: unset it (in the shell or .env)'],
    [{ FRAMES_CONNECT: 'tcp://127.0.0.1:5555', PREVIEW_SOURCES: 'gate' }, 'FRAMES_CONNECT, PREVIEW_SOURCES are set, but npm start gives each module its own: unset them (in the shell or .env)'],
    [{ CAMERAS: '2', SOURCE_ID: 'gate' }, 'SOURCE_ID is set, but npm start gives each module its own: unset it (in the shell or .env)'],
  ])('refuses %p', (env, error) => {
    expect(plan(['--in-process'], env)).toEqual({ error });
  });

  it('runs capture processes without the flag, with what inference and the preview take from them', () => {
    expect(plan([])).toMatchObject({ captures: [{ name: 'capture' }], inferenceEnv: {}, previewEnv: {} });
    expect(plan([], { CAMERAS: '2' })).toMatchObject({
      inferenceEnv: { FRAMES_CONNECT: 'tcp://127.0.0.1:5555,tcp://127.0.0.1:5565' },
      previewEnv: { FRAMES_CONNECT: 'tcp://127.0.0.1:5555,tcp://127.0.0.1:5565', PREVIEW_SOURCES: 'camera0,camera1', HEALTH_URLS: `capture=http://127.0.0.1:9101/health,capture1=http://127.0.0.1:9111/health,${health}` },
    });
  });
});
