import type { ManifestModule } from '@iev/edge-hub-emulator';
import { imageProject, localizeModule, moduleApps } from './local-env';

const capture: ManifestModule = {
  id: 'capture',
  env: { CAMERA_PATH: '/dev/video0', FRAMES_BIND: 'tcp://*:5555', PEER: 'tcp://inference:5556', LOG_LEVEL: 'info', NOTE: 'capture the flag' },
  desired: { source: '/dev/video0', fps: 15 },
};

describe('localizeModule', () => {
  it('makes module hosts local, binds on 127.0.0.1 instead of every interface, and swaps a missing camera for the demo video, saying so', () => {
    const { env, desired, substitutions } = localizeModule(capture, ['capture', 'inference'], { demoVideo: '/demo.mp4', environment: {}, deviceExists: () => false });
    expect(env).toEqual({ CAMERA_PATH: '/demo.mp4', FRAMES_BIND: 'tcp://127.0.0.1:5555', PEER: 'tcp://127.0.0.1:5556', LOG_LEVEL: 'info', NOTE: 'capture the flag' });
    expect(desired).toEqual({ source: '/demo.mp4', fps: 15 });
    expect(substitutions.map((s) => `${s.what}: ${s.from} → ${s.to}`)).toEqual([
      'CAMERA_PATH: /dev/video0 → /demo.mp4',
      'FRAMES_BIND: tcp://*:5555 → tcp://127.0.0.1:5555',
      'PEER: tcp://inference:5556 → tcp://127.0.0.1:5556',
      'desired.source: /dev/video0 → /demo.mp4',
    ]);
  });

  it('moves each module\'s inspector to the host port the debug manifest publishes it on, so each has its own', () => {
    const debugInference: ManifestModule = {
      id: 'inference',
      env: { NODE_OPTIONS: '--inspect=0.0.0.0:9229', FRAMES_CONNECT: 'tcp://capture:5555' },
      desired: {},
      createOptions: { ExposedPorts: { '9229/tcp': {} }, HostConfig: { PortBindings: { '9102/tcp': [{ HostPort: '9102' }], '9229/tcp': [{ HostPort: '9230' }] } } },
    };
    const { env, substitutions } = localizeModule(debugInference, ['capture', 'inference'], { demoVideo: '/demo.mp4', environment: {} });
    expect(env).toEqual({ NODE_OPTIONS: '--inspect=127.0.0.1:9230', FRAMES_CONNECT: 'tcp://127.0.0.1:5555' });
    expect(substitutions[0]).toMatchObject({ what: 'NODE_OPTIONS', why: 'the inspector on the host port the manifest publishes it on' });
    // Not published: left as the manifest says.
    expect(localizeModule({ ...debugInference, createOptions: {} }, [], { demoVideo: '/demo.mp4', environment: {} }).env['NODE_OPTIONS']).toBe('--inspect=0.0.0.0:9229');
  });

  it("keeps a camera that exists, and lets the simulator's environment win", () => {
    const { env } = localizeModule(capture, ['capture'], { demoVideo: '/demo.mp4', environment: { LOG_LEVEL: 'debug' }, deviceExists: () => true });
    expect(env).toMatchObject({ CAMERA_PATH: '/dev/video0', LOG_LEVEL: 'debug' });
  });
});

describe('localizeModule with inference decoding the cameras (genconfig --in-process)', () => {
  it("swaps each CAPTURE_SOURCES entry's missing camera for the demo video, keeping the rest of the entry", () => {
    const inference: ManifestModule = {
      id: 'inference',
      env: { CAPTURE_SOURCES: JSON.stringify([{ SOURCE_ID: 'camera0', CAMERA_PATH: '/dev/video0', CAPTURE_FPS: '15' }, { SOURCE_ID: 'door', CAMERA_PATH: 'rtsp://door.local/stream' }]) },
      desired: {},
    };

    const { env, substitutions } = localizeModule(inference, ['inference'], { demoVideo: '/demo.mp4', environment: {}, deviceExists: () => false });

    expect(JSON.parse(env['CAPTURE_SOURCES'])).toEqual([{ SOURCE_ID: 'camera0', CAMERA_PATH: '/demo.mp4', CAPTURE_FPS: '15' }, { SOURCE_ID: 'door', CAMERA_PATH: 'rtsp://door.local/stream' }]);
    expect(substitutions.map((s) => `${s.what}: ${s.from} → ${s.to}`)).toEqual(['CAPTURE_SOURCES[0].CAMERA_PATH: /dev/video0 → /demo.mp4']);
    // Not a list: inference says what is wrong with it.
    expect(localizeModule({ ...inference, env: { CAPTURE_SOURCES: '/dev/video0' } }, [], { demoVideo: '/demo.mp4', environment: {}, deviceExists: () => false }).env).toEqual({ CAPTURE_SOURCES: '/dev/video0' });
  });
});

describe('imageProject', () => {
  it.each([
    ['${MODULES.capture}', 'capture'],
    ['localhost:5000/capture:1.0.0-amd64', 'capture'],
    ['myacr.azurecr.io/team/inference:2.0.0-rc1-arm64.cuda', 'inference'],
    ['telemetry@sha256:0123abcd', 'telemetry'],
    ['mcr.microsoft.com/azureiotedge-hub:1.6', 'azureiotedge-hub'],
    [undefined, undefined],
  ])('%s runs the bundle of %s', (image, project) => expect(imageProject(image)).toBe(project));
});

describe('moduleApps', () => {
  it("lists each module's image's project, then its own name, once each", () => {
    const modules = [
      { id: 'capture', image: '${MODULES.capture}' },
      { id: 'capture1', image: 'localhost:5000/capture:1.0.0-amd64' },
      { id: 'preview' },
    ];
    expect(moduleApps(modules)).toEqual(['capture', 'capture1', 'preview']);
  });
});

describe('localizeModule with several cameras', () => {
  it("points inference's list of capture endpoints at the local captures, each on its own port", () => {
    const inference: ManifestModule = { id: 'inference', env: { FRAMES_CONNECT: 'tcp://capture:5555,tcp://capture1:5565,tcp://capture12:5675' }, desired: {} };
    const { env } = localizeModule(inference, ['capture', 'capture1', 'capture12', 'inference'], { demoVideo: '/demo.mp4', environment: {} });
    expect(env['FRAMES_CONNECT']).toBe('tcp://127.0.0.1:5555,tcp://127.0.0.1:5565,tcp://127.0.0.1:5675');
  });
});
