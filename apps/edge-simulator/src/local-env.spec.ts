import type { ManifestModule } from '@iev/edge-hub-emulator';
import { localizeModule } from './local-env';

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

  it("keeps a camera that exists, and lets the simulator's environment win", () => {
    const { env } = localizeModule(capture, ['capture'], { demoVideo: '/demo.mp4', environment: { LOG_LEVEL: 'debug' }, deviceExists: () => true });
    expect(env).toMatchObject({ CAMERA_PATH: '/dev/video0', LOG_LEVEL: 'debug' });
  });
});
