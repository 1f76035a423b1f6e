import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '../testing/executor-context';
import { MAX_CAMERAS, parseCameraCount, parseCameraDevices, withCameras } from './camera-modules';
import type { JsonObject } from './deployment-manifest';

interface Module {
  env: Record<string, { value: string }>;
  settings: { image: string; createOptions: { ExposedPorts: Record<string, object>; HostConfig: Record<string, unknown> } };
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Template = any;

const read = (name: string): Template => JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'deployment', name), 'utf8'));
const modulesOf = (template: Template): Record<string, Module> => template.modulesContent.$edgeAgent['properties.desired'].modules;
const env = (module: Module) => Object.fromEntries(Object.entries(module.env).map(([name, { value }]) => [name, value]));

describe('withCameras', () => {
  const release = read('deployment.template.json');

  it('leaves the template as it is for one camera', () => {
    expect(withCameras(release, 1)).toBe(release);
  });

  it('makes one capture module per camera, in order where the one was, each with its source id, device and ports', () => {
    const modules = modulesOf(withCameras(release, 3));

    expect(Object.keys(modules)).toEqual(['capture', 'capture1', 'capture2', 'inference', 'telemetry', 'preview']);
    expect(env(modules['capture'])).toEqual({ ...env(modulesOf(release)['capture']), SOURCE_ID: 'camera0' });
    expect(env(modules['capture2'])).toMatchObject({ SOURCE_ID: 'camera2', CAMERA_PATH: '/dev/video2', FRAMES_BIND: 'tcp://*:5575', METRICS_PORT: '9121' });
    expect(Object.keys(modules['capture2'].settings.createOptions.ExposedPorts)).toEqual(['5575/tcp', '9121/tcp']);
    expect(modules['capture2'].settings.createOptions.HostConfig['Devices']).toEqual([{ PathOnHost: '/dev/video2', PathInContainer: '/dev/video2', CgroupPermissions: 'rwm' }]);
    expect(modules['capture2'].settings.image).toBe('${MODULES.capture}');
    expect(modules['capture2'].settings.createOptions.HostConfig['LogConfig']).toEqual(modules['capture'].settings.createOptions.HostConfig['LogConfig']);
  });

  it("sets every frames consumer's FRAMES_CONNECT to all the captures, by module name", () => {
    const modules = modulesOf(withCameras(release, 3));
    expect(modules['inference'].env['FRAMES_CONNECT'].value).toBe('tcp://capture:5555,tcp://capture1:5565,tcp://capture2:5575');
    expect(modules['preview'].env['FRAMES_CONNECT'].value).toBe('tcp://capture:5555,tcp://capture1:5565,tcp://capture2:5575');
    expect(env(modules['telemetry'])).toEqual(env(modulesOf(release)['telemetry']));
  });

  it('has the preview show every camera from the start, and every capture in its health panel', () => {
    const preview = env(modulesOf(withCameras(release, 2))['preview']);
    expect(preview['PREVIEW_SOURCES']).toBe('camera0,camera1');
    expect(preview['HEALTH_URLS'].split(',')).toEqual([
      'capture=http://capture:9101/health',
      'capture1=http://capture1:9111/health',
      'inference=http://inference:9102/health',
      'telemetry=http://telemetry:9103/health',
    ]);
  });

  it("gives each camera a twin of its own, capture's copied", () => {
    const content = withCameras(release, 2)['modulesContent'] as Template;
    expect(Object.keys(content)).toEqual(['$edgeAgent', '$edgeHub', 'capture', 'capture1', 'inference', 'telemetry']);
    expect(content.capture1).toEqual(release.modulesContent.capture);
    expect(content.capture).toEqual(release.modulesContent.capture);
  });

  it("has a twin `source` naming the template's camera name each camera's own device", () => {
    const template = structuredClone(release);
    template.modulesContent.capture['properties.desired'] = { source: '/dev/video0', fps: 10 };
    const content = withCameras(template, 2, ['/dev/video0', '/dev/video2'])['modulesContent'] as Template;
    expect(content.capture['properties.desired']).toEqual({ source: '/dev/video0', fps: 10 });
    expect(content.capture1['properties.desired']).toEqual({ source: '/dev/video2', fps: 10 });
  });

  it('gives each camera the device named for it (two UVC webcams: /dev/video0 and /dev/video2, each with a metadata node)', () => {
    const modules = modulesOf(withCameras(release, 2, ['/dev/video0', '/dev/video2']));
    const devices = (module: Module) => module.settings.createOptions.HostConfig['Devices'];
    expect(env(modules['capture'])).toEqual({ ...env(modulesOf(release)['capture']), SOURCE_ID: 'camera0' });
    expect(devices(modules['capture'])).toEqual(devices(modulesOf(release)['capture']));
    expect(env(modules['capture1'])).toMatchObject({ SOURCE_ID: 'camera1', CAMERA_PATH: '/dev/video2', FRAMES_BIND: 'tcp://*:5565' });
    expect(devices(modules['capture1'])).toEqual([{ PathOnHost: '/dev/video2', PathInContainer: '/dev/video2', CgroupPermissions: 'rwm' }]);
  });

  it('gives even one camera the device named for it, a stable /dev/v4l/by-id name', () => {
    const webcam = '/dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920-video-index0';
    const modules = modulesOf(withCameras(release, 1, [webcam]));
    expect(Object.keys(modules)).toEqual(['capture', 'inference', 'telemetry', 'preview']);
    expect(env(modules['capture'])).toEqual({ ...env(modulesOf(release)['capture']), SOURCE_ID: 'camera0', CAMERA_PATH: webcam });
    expect(modules['capture'].settings.createOptions.HostConfig['Devices']).toEqual([{ PathOnHost: webcam, PathInContainer: webcam, CgroupPermissions: 'rwm' }]);
    expect(env(modules['inference'])['FRAMES_CONNECT']).toBe('tcp://capture:5555');
  });

  it('refuses devices that are not one per camera, or a template whose camera is not a device to replace', () => {
    expect(() => withCameras(release, 3, ['/dev/video0', '/dev/video2'])).toThrow('--camera-devices names 2 devices for 3 cameras: one per camera.');
    const stream = structuredClone(release);
    modulesOf(stream)['capture'].env['CAMERA_PATH'] = { value: 'rtsp://gate/stream' };
    expect(() => withCameras(stream, 2, ['/dev/video0', '/dev/video2'])).toThrow("--camera-devices: capture's CAMERA_PATH (rtsp://gate/stream) is not the camera device /dev/video0 to replace.");
  });

  it('publishes each debug capture on host ports of its own (metrics, inspector), none taken by another module', () => {
    const modules = modulesOf(withCameras(read('deployment.debug.template.json'), 4));
    const hostPorts = Object.values(modules).flatMap((module) =>
      Object.values((module.settings.createOptions.HostConfig['PortBindings'] ?? {}) as Record<string, { HostPort: string }[]>).map(([binding]) => binding.HostPort),
    );
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    expect(modules['capture3'].settings.createOptions.HostConfig['PortBindings']).toEqual({ '9131/tcp': [{ HostPort: '9131' }], '9229/tcp': [{ HostIp: '127.0.0.1', HostPort: '9259' }] });
    expect(env(modules['capture3'])['NODE_OPTIONS']).toBe('--inspect=0.0.0.0:9229');
  });

  it('keeps a camera that is not a V4L2 device as it is, for the user to change per camera', () => {
    const template = structuredClone(release);
    modulesOf(template)['capture'].env['CAMERA_PATH'] = { value: 'rtsp://gate/stream' };
    expect(env(modulesOf(withCameras(template, 2))['capture1'])['CAMERA_PATH']).toBe('rtsp://gate/stream');
  });

  it('fails, saying why, without a capture module to copy, a frames port to number from or a module taking its frames', () => {
    const noCapture = structuredClone(release);
    delete modulesOf(noCapture)['capture'];
    expect(() => withCameras(noCapture as JsonObject, 2)).toThrow('--cameras needs a "capture" module in the template');
    const noPort = structuredClone(release);
    modulesOf(noPort)['capture'].env['FRAMES_BIND'] = { value: 'ipc:///tmp/frames' };
    expect(() => withCameras(noPort, 2)).toThrow("capture's FRAMES_BIND (ipc:///tmp/frames) names no TCP port");
    const noConsumer = structuredClone(release);
    for (const consumer of ['inference', 'preview']) modulesOf(noConsumer)[consumer].env['FRAMES_CONNECT'] = { value: 'tcp://elsewhere:5555' };
    expect(() => withCameras(noConsumer, 2)).toThrow('--cameras: no module takes frames from tcp://capture:5555 (FRAMES_CONNECT)');
  });
});

describe('parseCameraDevices', () => {
  it('takes a device path under /dev per camera, or none', () => {
    expect(parseCameraDevices(['/dev/video0', '/dev/video2', '/dev/v4l/by-path/pci-0000:00:14.0-usb-0:2:1.0-video-index0'])).toEqual([
      '/dev/video0',
      '/dev/video2',
      '/dev/v4l/by-path/pci-0000:00:14.0-usb-0:2:1.0-video-index0',
    ]);
    expect(parseCameraDevices(undefined)).toBeUndefined();
  });

  it.each([[[]], [['/dev/video0', '']], [['video2']], [['/tmp/video0']], ['/dev/video0']])('refuses %p, naming the option', (value) => {
    expect(() => parseCameraDevices(value)).toThrow('--camera-devices must list one device path under /dev per camera');
  });

  it('refuses a device named twice', () => {
    expect(() => parseCameraDevices(['/dev/video0', '/dev/video0'])).toThrow('--camera-devices names /dev/video0 twice: each camera needs a device of its own.');
  });
});

describe('parseCameraCount', () => {
  it.each([
    [1, 1],
    ['4', 4],
    [MAX_CAMERAS, MAX_CAMERAS],
  ])('takes %p as %p', (value, count) => expect(parseCameraCount(value)).toBe(count));

  it.each([0, -1, 2.5, MAX_CAMERAS + 1, 'two', '', undefined])('refuses %p, naming the option', (value) => {
    expect(() => parseCameraCount(value)).toThrow(`--cameras must be a whole number from 1 to ${MAX_CAMERAS}`);
  });
});
