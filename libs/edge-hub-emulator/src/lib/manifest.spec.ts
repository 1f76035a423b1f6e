import { join } from 'node:path';
import { parseDeploymentManifest, readDeploymentManifest } from './manifest';

const WORKSPACE_ROOT = join(__dirname, '../../../..');

describe('deployment manifests', () => {
  it("reads the project's template: modules with env, desired properties and routes", () => {
    const manifest = readDeploymentManifest(join(WORKSPACE_ROOT, 'deployment/deployment.template.json'));
    expect(manifest.modules.map((m) => m.id)).toEqual(['capture', 'inference', 'telemetry', 'preview']);
    // The env sets each module's settings (inference's preset, telemetry's aggregation); no twin repeats them.
    expect(manifest.modules[1]).toMatchObject({ env: { FRAMES_CONNECT: 'tcp://capture:5555', DETECTION_PRESET: 'seed' }, image: '${MODULES.inference}', desired: {} });
    expect(manifest.modules[2]).toMatchObject({ env: { TELEMETRY_AGGREGATE_INTERVAL_MS: '10000' }, desired: {} });
    expect(Object.values(manifest.routes)).toContain('FROM /messages/modules/telemetry/outputs/* INTO $upstream');
  });

  it('names the file and every problem with its JSON path', () => {
    const text = JSON.stringify({
      modulesContent: {
        $edgeAgent: { 'properties.desired': { modules: { a: { env: { X: 'bare' } } } } },
        $edgeHub: { 'properties.desired': { routes: { r: 42 } } },
        b: { 'properties.desired': {} },
      },
    });
    expect(() => parseDeploymentManifest('m.json', text)).toThrow(
      'deployment manifest m.json is invalid:\n' +
        '  - modulesContent.$edgeHub["properties.desired"].routes.r must be a route string or { "route": "..." }\n' +
        '  - modulesContent.$edgeAgent["properties.desired"].modules.a.env.X must be { "value": "..." }\n' +
        '  - modulesContent.b holds a twin for a module the deployment does not run',
    );
    expect(() => parseDeploymentManifest('m.json', '{ nope')).toThrow(/m.json is invalid:\n {2}- not valid JSON/);
    expect(() => readDeploymentManifest('/no/such/manifest.json')).toThrow('deployment manifest /no/such/manifest.json is invalid:\n  - cannot read it: no such file');
  });
});
