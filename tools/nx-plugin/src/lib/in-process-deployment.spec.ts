import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '../testing/executor-context';
import { withCameras } from './camera-modules';
import { withInProcessCapture } from './in-process-deployment';

interface Module {
  env: Record<string, { value: string }>;
  settings: { createOptions: { ExposedPorts: Record<string, object>; HostConfig: Record<string, unknown> } };
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Template = any;

const read = (name: string): Template => JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'deployment', name), 'utf8'));
const modulesOf = (template: Template): Record<string, Module> => template.modulesContent.$edgeAgent['properties.desired'].modules;
const sourcesOf = (template: Template) => JSON.parse(modulesOf(template)['inference'].env['CAPTURE_SOURCES'].value);

describe('withInProcessCapture', () => {
  const release = read('deployment.template.json');

  it("folds capture into inference: its camera a CAPTURE_SOURCES entry, its device inference's, its frames port inference's offer to the preview", () => {
    const deployment: Template = withInProcessCapture(release);
    const modules = modulesOf(deployment);

    expect(Object.keys(modules)).toEqual(['inference', 'telemetry', 'preview']);
    expect(Object.keys(deployment.modulesContent)).toEqual(['$edgeAgent', '$edgeHub', 'inference', 'telemetry']);
    expect(sourcesOf(deployment)).toEqual([{ SOURCE_ID: 'camera0', CAMERA_PATH: '/dev/video0', CAPTURE_WIDTH: '640', CAPTURE_HEIGHT: '480', CAPTURE_FPS: '15' }]);
    const inference = modules['inference'];
    expect(inference.env['FRAMES_CONNECT']).toBeUndefined();
    expect(inference.env['FRAMES_BIND'].value).toBe('tcp://*:5555');
    expect(inference.settings.createOptions.ExposedPorts).toEqual({ '5556/tcp': {}, '9102/tcp': {}, '5555/tcp': {} });
    expect(inference.settings.createOptions.HostConfig['Devices']).toEqual([{ PathOnHost: '/dev/video0', PathInContainer: '/dev/video0', CgroupPermissions: 'rwm' }]);
    expect(modules['preview'].env['FRAMES_CONNECT'].value).toBe('tcp://inference:5555');
    expect(modules['preview'].env['HEALTH_URLS'].value).toBe('inference=http://inference:9102/health,telemetry=http://telemetry:9103/health');
    // The template is left as it was.
    expect(Object.keys(modulesOf(release))).toContain('capture');
  });

  it('gives inference one entry per camera, in order, each device once', () => {
    const deployment: Template = withInProcessCapture(withCameras(release, 3, ['/dev/video0', '/dev/video2', '/dev/video0']));

    expect(sourcesOf(deployment).map(({ SOURCE_ID, CAMERA_PATH }: Record<string, string>) => [SOURCE_ID, CAMERA_PATH])).toEqual([
      ['camera0', '/dev/video0'],
      ['camera1', '/dev/video2'],
      ['camera2', '/dev/video0'],
    ]);
    expect((modulesOf(deployment)['inference'].settings.createOptions.HostConfig['Devices'] as Array<{ PathOnHost: string }>).map(({ PathOnHost }) => PathOnHost)).toEqual(['/dev/video0', '/dev/video2']);
    expect(modulesOf(deployment)['preview'].env['PREVIEW_SOURCES'].value).toBe('camera0,camera1,camera2');
  });

  it("carries capture's own crop (CAPTURE_CROP in its env) into the camera's entry", () => {
    const template = structuredClone(release);
    modulesOf(template)['capture'].env['CAPTURE_CROP'] = { value: '0,50%,100%,50%' };

    expect(sourcesOf(withInProcessCapture(template))).toEqual([expect.objectContaining({ CAMERA_PATH: '/dev/video0', CAPTURE_CROP: '0,50%,100%,50%' })]);
  });

  it("takes what capture's twin sets over its env, as the capture module would, and drops routes from capture", () => {
    const template = structuredClone(release);
    template.modulesContent.capture['properties.desired'] = { source: 'rtsp://door.local/stream', fps: 5, crop: '50%,50%,50%,50%' };
    template.modulesContent.$edgeHub['properties.desired'].routes.captureState = 'FROM /messages/modules/capture/outputs/* INTO $upstream';

    const deployment: Template = withInProcessCapture(template);

    expect(sourcesOf(deployment)).toEqual([{ SOURCE_ID: 'camera0', CAMERA_PATH: 'rtsp://door.local/stream', CAPTURE_WIDTH: '640', CAPTURE_HEIGHT: '480', CAPTURE_FPS: '5', CAPTURE_CROP: '50%,50%,50%,50%' }]);
    expect(Object.keys(deployment.modulesContent.$edgeHub['properties.desired'].routes)).toEqual(['telemetryToIoTHub']);
  });

  it("carries the camera's devices and mounts, and moves the preview's CURVE server key for the frames to inference's", () => {
    const template = structuredClone(release);
    const modules = modulesOf(template);
    modules['capture'].env['CAPTURE_NOT_A_SETTING'] = { value: 'ignored by capture too' };
    modules['capture'].settings.createOptions.HostConfig['Binds'] = ['/tmp/argus_socket:/tmp/argus_socket'];
    modules['preview'].env['FRAMES_CURVE_SERVER_KEY'] = { value: 'capture-public-key' };
    modules['preview'].env['DETECTIONS_CURVE_SERVER_KEY'] = { value: 'inference-public-key' };
    modules['inference'].env['FRAMES_CURVE_SERVER_KEY'] = { value: 'capture-public-key' };

    const deployment: Template = withInProcessCapture(template);

    const inference = modulesOf(deployment)['inference'];
    expect(inference.settings.createOptions.HostConfig['Binds']).toEqual(['/tmp/argus_socket:/tmp/argus_socket']);
    expect(inference.env['FRAMES_CURVE_SERVER_KEY']).toBeUndefined();
    expect(Object.keys(sourcesOf(deployment)[0])).not.toContain('CAPTURE_NOT_A_SETTING');
    expect(modulesOf(deployment)['preview'].env['FRAMES_CURVE_SERVER_KEY'].value).toBe('inference-public-key');
  });

  it.each([
    ['capture names no camera', (modules: Record<string, Module>) => delete modules['capture'].env['CAMERA_PATH'], '--in-process: capture names no camera (CAMERA_PATH, or its twin\'s source), which inference needs for each.'],
    [
      "capture's container has settings inference's may need",
      (modules: Record<string, Module>) => (modules['capture'].settings.createOptions.HostConfig['GroupAdd'] = ['dialout']),
      "--in-process: capture's createOptions set HostConfig.GroupAdd, which inference's container may need in its place: set it on inference in the template.",
    ],
    [
      'inference also takes frames from elsewhere',
      (modules: Record<string, Module>) => (modules['inference'].env['FRAMES_CONNECT'].value = 'tcp://capture:5555,tcp://10.0.0.5:5555'),
      '--in-process: inference also takes frames from tcp://10.0.0.5:5555, which are no capture module here to fold in.',
    ],
    [
      'the preview has CURVE for capture but no key for inference',
      (modules: Record<string, Module>) => (modules['preview'].env['FRAMES_CURVE_SERVER_KEY'] = { value: 'capture-public-key' }),
      "--in-process: preview has capture's FRAMES_CURVE_SERVER_KEY but not inference's public key (DETECTIONS_CURVE_SERVER_KEY) to take the frames from inference.",
    ],
  ])('refuses a template where %s, saying so', (_, change, error) => {
    const template = structuredClone(release);
    change(modulesOf(template));
    expect(() => withInProcessCapture(template)).toThrow(error);
  });

  it('refuses a template without capture or inference, saying which', () => {
    const withoutCapture = structuredClone(release);
    delete modulesOf(withoutCapture)['capture'];
    expect(() => withInProcessCapture(withoutCapture)).toThrow('--in-process: the template has no capture module to fold into inference.');
    const withoutInference = structuredClone(release);
    delete modulesOf(withoutInference)['inference'];
    expect(() => withInProcessCapture(withoutInference)).toThrow('--in-process: the template has no "inference" module to decode the cameras.');
  });
});
