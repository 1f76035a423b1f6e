import { logger, type ProjectConfiguration, readJsonFile, writeJsonFile } from '@nx/devkit';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '../../lib/deployment-manifest';
import { loadDeploymentValidators } from '../../lib/deployment-schemas';
import { executorContext, WORKSPACE_ROOT } from '../../testing/executor-context';
import { workspaceProjects } from '../../testing/workspace-projects';
import genconfigExecutor, { type GenconfigExecutorOptions } from './executor';

interface ModuleDefinition {
  env: Record<string, { value: string }>;
  settings: Record<string, string>;
}
interface Deployment {
  modulesContent: {
    $edgeAgent: { 'properties.desired': { modules: Record<string, ModuleDefinition> } };
    $edgeHub: { 'properties.desired': { routes: Record<string, string> } };
  } & Record<string, { 'properties.desired': Record<string, unknown> }>;
}

interface TemplateModule {
  env: Record<string, { value: string }>;
  settings: {
    image: string;
    createOptions: { ExposedPorts: Record<string, object>; HostConfig?: { PortBindings?: Record<string, { HostIp?: string; HostPort: string }[]> } };
  };
}
interface DeploymentTemplate {
  modulesContent: { $edgeAgent: { 'properties.desired': { modules: Record<string, TemplateModule> } } };
}

const MODULES = ['capture', 'inference', 'telemetry', 'preview'];
/** Docker keeps a container's log without bound unless told: 3 files of 10 MB at most per module. */
const CAPPED_LOGS = { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } };
const validators = loadDeploymentValidators(join(WORKSPACE_ROOT, 'schemas'));
const workspaceVersion = readJsonFile<{ version: string }>(join(WORKSPACE_ROOT, 'package.json')).version;
const deploymentProject = readJsonFile<ProjectConfiguration>(join(WORKSPACE_ROOT, 'deployment/project.json'));
const configuredOptions = deploymentProject.targets?.['genconfig']?.options as Omit<GenconfigExecutorOptions, 'arch'>;

/** The workspace's real projects, with the docker targets Nx infers. */
const projects = workspaceProjects();

const templateModulesOf = (template: DeploymentTemplate) => template.modulesContent.$edgeAgent['properties.desired'].modules;

function withoutDebugSettings(module: TemplateModule): TemplateModule {
  const { LOG_LEVEL: _logLevel, NODE_OPTIONS: nodeOptions, ...withoutOptions } = module.env;
  // The inspector is the debug template's; other Node.js options are the release's too.
  const releaseOptions = nodeOptions?.value.replace(/^--inspect=\S+\s*/, '');
  const env = releaseOptions ? { ...withoutOptions, NODE_OPTIONS: { value: releaseOptions } } : withoutOptions;
  const { ExposedPorts, HostConfig = {} } = module.settings.createOptions;
  const { '9229/tcp': _inspector, ...exposedPorts } = ExposedPorts;
  const { PortBindings: _published, ...hostConfig } = HostConfig;
  const createOptions = { ExposedPorts: exposedPorts, ...(Object.keys(hostConfig).length > 0 ? { HostConfig: hostConfig } : {}) };
  return { ...module, env, settings: { ...module.settings, createOptions } };
}

const modulesOf = (deployment: Deployment) => deployment.modulesContent.$edgeAgent['properties.desired'].modules;
const createOptionsOf = (module: ModuleDefinition) =>
  JSON.parse(
    Object.keys(module.settings)
      .filter((key) => key.startsWith('createOptions'))
      .sort()
      .map((key) => module.settings[key])
      .join(''),
  );

describe('nx genconfig deployment', () => {
  let outputPath: string;
  let errors: string[];

  beforeEach(() => {
    outputPath = mkdtempSync(join(tmpdir(), 'iev-genconfig-'));
    errors = [];
    jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    jest.spyOn(logger, 'error').mockImplementation((message: string) => void errors.push(message));
  });
  afterEach(() => jest.restoreAllMocks());

  async function genconfig(options: Partial<GenconfigExecutorOptions> & Pick<GenconfigExecutorOptions, 'arch'>) {
    return genconfigExecutor({ ...configuredOptions, outputPath, ...options }, executorContext(WORKSPACE_ROOT, 'deployment', projects));
  }
  const manifest = (name: string) => readJsonFile<Deployment>(join(outputPath, name));

  it.each(configuredOptions.templates)('%s is a valid template (template 4.0: edgeAgent 1.1, edgeHub 1.2), not yet a manifest', (template) => {
    const document = readJsonFile<JsonObject>(join(WORKSPACE_ROOT, template));
    expect(validators.template(document)).toEqual([]);
    expect(validators.manifest(document)).not.toEqual([]);
  });

  it.each([
    ['amd64', false, 'amd64'],
    ['arm64', false, 'arm64'],
    ['amd64', true, 'amd64.cuda'],
    ['arm64', true, 'arm64.cuda'],
  ] as const)('writes schema-valid manifests for --arch %s (cuda: %s) named <template>.%s.json', async (arch, cuda, platform) => {
    expect(await genconfig({ arch, cuda })).toEqual({ success: true });

    expect(readdirSync(outputPath).sort()).toEqual([`deployment.${platform}.json`, `deployment.debug.${platform}.json`]);
    for (const name of readdirSync(outputPath)) {
      expect(validators.manifest(manifest(name))).toEqual([]);
      for (const module of MODULES) {
        expect(modulesOf(manifest(name))[module].settings['image']).toBe(`localhost:5000/${module}:${workspaceVersion}-${platform}`);
      }
    }
  });

  it('with --jetpack 5 writes <template>.arm64.cuda.jp5.json referencing the .jp5 images; --jetpack 6 is the default', async () => {
    expect(await genconfig({ arch: 'arm64', cuda: true, jetpack: 5 })).toEqual({ success: true });
    expect(await genconfig({ arch: 'arm64', cuda: true, jetpack: 6 })).toEqual({ success: true });
    expect(readdirSync(outputPath).sort()).toEqual([
      'deployment.arm64.cuda.jp5.json',
      'deployment.arm64.cuda.json',
      'deployment.debug.arm64.cuda.jp5.json',
      'deployment.debug.arm64.cuda.json',
    ]);
    for (const [name, platform] of [['deployment.arm64.cuda.jp5.json', 'arm64.cuda.jp5'], ['deployment.arm64.cuda.json', 'arm64.cuda']]) {
      for (const module of MODULES) {
        expect(modulesOf(manifest(name))[module].settings['image']).toBe(`localhost:5000/${module}:${workspaceVersion}-${platform}`);
      }
    }
  });

  it('refuses --jetpack without --arch arm64 --cuda', async () => {
    expect(await genconfig({ arch: 'amd64', cuda: true, jetpack: 5 })).toEqual({ success: false });
    expect(errors).toEqual(["--jetpack chooses the Jetson images' JetPack: it goes with --arch arm64 --cuda (got --arch amd64 --cuda)."]);
    expect(readdirSync(outputPath)).toEqual([]);
  });

  it('caps the container log of every module, edgeAgent and edgeHub included, on IoT Edge 1.6', async () => {
    await genconfig({ arch: 'arm64', cuda: true });
    for (const name of readdirSync(outputPath)) {
      const desired = manifest(name).modulesContent.$edgeAgent['properties.desired'] as unknown as Record<'systemModules' | 'modules', Record<string, ModuleDefinition>>;
      const all = { ...desired.systemModules, ...desired.modules };
      expect(Object.keys(all).sort()).toEqual(['capture', 'edgeAgent', 'edgeHub', 'inference', 'preview', 'telemetry']);
      for (const module of Object.values(all)) expect(createOptionsOf(module).HostConfig.LogConfig).toEqual(CAPPED_LOGS);
      expect([desired.systemModules['edgeAgent'].settings['image'], desired.systemModules['edgeHub'].settings['image']]).toEqual([
        'mcr.microsoft.com/azureiotedge-agent:1.6',
        'mcr.microsoft.com/azureiotedge-hub:1.6',
      ]);
    }
  });

  it('uses the registry and tag it is given for every module image', async () => {
    expect(await genconfig({ arch: 'arm64', registry: 'myacr.azurecr.io', tag: '2.0.0-rc1' })).toEqual({ success: true });
    const images = Object.values(modulesOf(manifest('deployment.arm64.json'))).map((module) => module.settings['image']);
    expect(images).toEqual(MODULES.map((module) => `myacr.azurecr.io/${module}:2.0.0-rc1-arm64`));
  });

  it('gives inference the GPU (nvidia runtime, TensorRT, engine cache volume) only with --cuda', async () => {
    await genconfig({ arch: 'arm64', cuda: false });
    await genconfig({ arch: 'arm64', cuda: true });
    const cpu = modulesOf(manifest('deployment.arm64.json'));
    const gpu = modulesOf(manifest('deployment.arm64.cuda.json'));

    expect(createOptionsOf(cpu['inference']).HostConfig).toEqual({ LogConfig: CAPPED_LOGS });
    expect(cpu['inference'].env['USE_TENSOR_RT'].value).toBe('False');
    expect(createOptionsOf(gpu['inference']).HostConfig).toEqual({ LogConfig: CAPPED_LOGS, Runtime: 'nvidia', Binds: ['iev-tensorrt-cache:/var/cache/iev/tensorrt'] });
    expect(gpu['inference'].env['USE_TENSOR_RT'].value).toBe('True');
    expect(gpu['inference'].env['TENSORRT_CACHE_DIR'].value).toBe('/var/cache/iev/tensorrt');
    for (const module of ['capture', 'telemetry']) {
      expect({ ...gpu[module], settings: { ...gpu[module].settings, image: '' } }).toEqual({ ...cpu[module], settings: { ...cpu[module].settings, image: '' } });
    }
  });

  it('connects every module to the module that binds the endpoint, by module name on the IoT Edge network', async () => {
    await genconfig({ arch: 'amd64' });
    const modules = modulesOf(manifest('deployment.amd64.json'));
    const connections = Object.values(modules).flatMap((module) =>
      Object.entries(module.env).filter(([name]) => name.endsWith('_CONNECT')).map(([name, { value }]) => ({ name, value })),
    );

    // inference and the preview connect to capture's frames; telemetry and the preview to inference's detections.
    expect(connections.map(({ value }) => value).sort()).toEqual(['tcp://capture:5555', 'tcp://capture:5555', 'tcp://inference:5556', 'tcp://inference:5556']);
    for (const { name, value } of connections) {
      const [, host, port] = /^tcp:\/\/([^:]+):(\d+)$/.exec(value) ?? [];
      expect(modules[host].env[name.replace(/_CONNECT$/, '_BIND')].value).toBe(`tcp://*:${port}`);
    }
  });

  it('hands the camera to capture with cgroup permissions and sends telemetry upstream', async () => {
    await genconfig({ arch: 'amd64' });
    const deployment = manifest('deployment.amd64.json');

    expect(createOptionsOf(modulesOf(deployment)['capture']).HostConfig.Devices).toEqual([
      { PathOnHost: '/dev/video0', PathInContainer: '/dev/video0', CgroupPermissions: 'rwm' },
    ]);
    expect(Object.values(deployment.modulesContent.$edgeHub['properties.desired'].routes)).toEqual([
      'FROM /messages/modules/telemetry/outputs/* INTO $upstream',
    ]);
  });

  it("sets in no module twin what the module's env sets: env decides at start-up, the twin changes things live", async () => {
    await genconfig({ arch: 'amd64' });
    const deployment = manifest('deployment.amd64.json');
    const desired = (module: string) => deployment.modulesContent[module]['properties.desired'];

    // A twin value wins over the env at every connect: a source, size or rate there would undo CAMERA_PATH and
    // CAPTURE_*, a preset DETECTION_PRESET, and thresholds apply on top of whichever preset runs.
    expect(desired('capture')).toEqual({});
    expect(desired('inference')).toEqual({});
    // Telemetry's aggregation is in its env, so it aggregates from its first frame, before edgeHub is up and its twin read.
    expect(desired('telemetry')).toEqual({});
    expect(modulesOf(deployment)['telemetry'].env['TELEMETRY_AGGREGATE_INTERVAL_MS']).toEqual({ value: '10000' });
  });

  it('debug template = release template + debug logs, the inspector and the metrics ports published', () => {
    const read = (name: string) => readJsonFile<DeploymentTemplate>(join(WORKSPACE_ROOT, 'deployment', name));
    const release = read('deployment.template.json');
    const debug = read('deployment.debug.template.json');
    const debugModules = templateModulesOf(debug);

    const releaseModules = templateModulesOf(release);
    for (const [name, module] of Object.entries(debugModules)) {
      const metricsPort = module.env['METRICS_PORT'].value;
      expect(module.env['LOG_LEVEL'].value).toBe('debug');
      // The inspector, after the release's own Node.js options (telemetry's young generation size).
      const releaseOptions = releaseModules[name].env['NODE_OPTIONS']?.value;
      expect(module.env['NODE_OPTIONS'].value).toBe(['--inspect=0.0.0.0:9229', releaseOptions].filter(Boolean).join(' '));
      expect(module.settings.createOptions.HostConfig?.PortBindings?.[`${metricsPort}/tcp`]).toEqual([{ HostPort: metricsPort }]);
    }
    const inspectorHostPorts = Object.values(debugModules).map((module) => module.settings.createOptions.HostConfig?.PortBindings?.['9229/tcp']?.[0].HostPort);
    expect(new Set(inspectorHostPorts).size).toBe(Object.keys(debugModules).length);
    // An inspector runs any code it is sent: on the device's loopback only, reached through an SSH tunnel.
    const inspectorHosts = Object.values(debugModules).map((module) => module.settings.createOptions.HostConfig?.PortBindings?.['9229/tcp']?.[0].HostIp);
    expect(new Set(inspectorHosts)).toEqual(new Set(['127.0.0.1']));

    for (const [name, module] of Object.entries(debugModules)) debugModules[name] = withoutDebugSettings(module);
    expect(debug).toEqual(release);
  });

  it.each([false, true])('--cameras 4 (cuda: %s) writes schema-valid manifests beside the one-camera ones: four captures of the one image into one inference', async (cuda) => {
    expect(await genconfig({ arch: 'arm64', cuda, cameras: 4 })).toEqual({ success: true });

    const platform = cuda ? 'arm64.cuda' : 'arm64';
    expect(readdirSync(outputPath).sort()).toEqual([`deployment.4cameras.${platform}.json`, `deployment.debug.4cameras.${platform}.json`]);
    for (const name of readdirSync(outputPath)) {
      expect(validators.manifest(manifest(name))).toEqual([]);
      const modules = modulesOf(manifest(name));
      const captures = ['capture', 'capture1', 'capture2', 'capture3'];
      expect(Object.keys(modules)).toEqual([...captures, 'inference', 'telemetry', 'preview']);
      expect(captures.map((capture) => modules[capture].env['SOURCE_ID'].value)).toEqual(['camera0', 'camera1', 'camera2', 'camera3']);
      for (const capture of captures) expect(modules[capture].settings['image']).toBe(`localhost:5000/capture:${workspaceVersion}-${platform}`);
      expect(modules['inference'].env['FRAMES_CONNECT'].value).toBe('tcp://capture:5555,tcp://capture1:5565,tcp://capture2:5575,tcp://capture3:5585');
      expect(modules['inference'].env['USE_TENSOR_RT'].value).toBe(cuda ? 'True' : 'False');
    }
  });

  it('--camera-devices gives each camera the device named for it, one capture per device, in schema-valid manifests', async () => {
    expect(await genconfig({ arch: 'amd64', cameraDevices: ['/dev/video0', '/dev/video2'] })).toEqual({ success: true });

    expect(readdirSync(outputPath).sort()).toEqual(['deployment.2cameras.amd64.json', 'deployment.debug.2cameras.amd64.json']);
    for (const name of readdirSync(outputPath)) {
      expect(validators.manifest(manifest(name))).toEqual([]);
      const modules = modulesOf(manifest(name));
      expect(['capture', 'capture1'].map((capture) => modules[capture].env['CAMERA_PATH'].value)).toEqual(['/dev/video0', '/dev/video2']);
      expect(createOptionsOf(modules['capture1']).HostConfig.Devices).toEqual([{ PathOnHost: '/dev/video2', PathInContainer: '/dev/video2', CgroupPermissions: 'rwm' }]);
      expect(modules['inference'].env['FRAMES_CONNECT'].value).toBe('tcp://capture:5555,tcp://capture1:5565');
    }
  });

  it.each([false, true])('--in-process (cuda: %s) writes schema-valid manifests with no capture: inference decodes the cameras, with their devices', async (cuda) => {
    expect(await genconfig({ arch: 'amd64', cuda, cameraDevices: ['/dev/video0', '/dev/video2'], inProcess: true })).toEqual({ success: true });

    const platform = cuda ? 'amd64.cuda' : 'amd64';
    expect(readdirSync(outputPath).sort()).toEqual([`deployment.2cameras.inprocess.${platform}.json`, `deployment.debug.2cameras.inprocess.${platform}.json`]);
    for (const name of readdirSync(outputPath)) {
      expect(validators.manifest(manifest(name))).toEqual([]);
      const deployment = manifest(name);
      const modules = modulesOf(deployment);
      expect(Object.keys(modules)).toEqual(['inference', 'telemetry', 'preview']);
      expect(Object.keys(deployment.modulesContent)).not.toContain('capture');
      const sources = JSON.parse(modules['inference'].env['CAPTURE_SOURCES'].value);
      expect(sources.map((source: Record<string, string>) => [source['SOURCE_ID'], source['CAMERA_PATH']])).toEqual([
        ['camera0', '/dev/video0'],
        ['camera1', '/dev/video2'],
      ]);
      expect(modules['inference'].env['FRAMES_CONNECT']).toBeUndefined();
      expect(createOptionsOf(modules['inference']).HostConfig.Devices.map(({ PathOnHost }: { PathOnHost: string }) => PathOnHost)).toEqual(['/dev/video0', '/dev/video2']);
      expect(createOptionsOf(modules['inference']).HostConfig.Runtime).toBe(cuda ? 'nvidia' : undefined);
      expect(modules['preview'].env['FRAMES_CONNECT'].value).toBe('tcp://inference:5555');
      // The image with the decoders (nx docker inference --decoders); the others as ever.
      expect(modules['inference'].settings['image']).toBe(`localhost:5000/inference:${workspaceVersion}-${platform}.decoders`);
      expect(modules['telemetry'].settings['image']).toBe(`localhost:5000/telemetry:${workspaceVersion}-${platform}`);
    }
  });

  it('refuses --camera-devices that are not one per camera, saying so, and writes nothing', async () => {
    expect(await genconfig({ arch: 'amd64', cameras: 3, cameraDevices: ['/dev/video0', '/dev/video2'] })).toEqual({ success: false });
    expect(errors).toEqual(['--camera-devices names 2 devices for 3 cameras: one per camera.']);
    expect(readdirSync(outputPath)).toEqual([]);
  });

  it('refuses a camera count out of range, naming the option, and writes nothing', async () => {
    expect(await genconfig({ arch: 'amd64', cameras: 0 })).toEqual({ success: false });
    expect(errors).toEqual(['--cameras must be a whole number from 1 to 10, got 0.']);
    expect(readdirSync(outputPath)).toEqual([]);
  });

  it('fails, naming the known modules, when a template names an image no project builds', async () => {
    const template = readJsonFile<Deployment>(join(WORKSPACE_ROOT, 'deployment/deployment.template.json'));
    modulesOf(template)['capture'].settings['image'] = '${MODULES.camera}';
    const templatePath = join(outputPath, 'typo.template.json');
    writeJsonFile(templatePath, template);

    expect(await genconfig({ arch: 'amd64', templates: [templatePath], outputPath: join(outputPath, 'config') })).toEqual({ success: false });
    expect(errors).toEqual(['${MODULES.camera} names no project with a docker target (those are: capture, inference, preview, telemetry).']);
    expect(existsSync(join(outputPath, 'config'))).toBe(false);
  });

  it('fails with the schema violations of an invalid template and writes no manifest', async () => {
    const template = readJsonFile<Deployment>(join(WORKSPACE_ROOT, 'deployment/deployment.template.json'));
    (modulesOf(template)['telemetry'] as unknown as JsonObject)['restartPolicy'] = 'sometimes';
    const templatePath = join(outputPath, 'invalid.template.json');
    writeJsonFile(templatePath, template);

    expect(await genconfig({ arch: 'amd64', templates: [templatePath], outputPath: join(outputPath, 'config') })).toEqual({ success: false });
    expect(errors.join('\n')).toContain('is not a valid deployment template:\n  /modulesContent/$edgeAgent/properties.desired/modules/telemetry/restartPolicy: must be equal to one of the allowed values');
    expect(existsSync(join(outputPath, 'config'))).toBe(false);
  });
});
