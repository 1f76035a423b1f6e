import type { CreateNodesContext } from '@nx/devkit';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodes, DOCKERFILE_PATTERN } from './docker-target';

describe('the docker target, inferred from docker/<app>.Dockerfile', () => {
  let workspaceRoot: string;
  let context: CreateNodesContext;
  beforeEach(() => {
    workspaceRoot = mkdtempSync(join(tmpdir(), 'docker-target-'));
    mkdirSync(join(workspaceRoot, 'apps/capture'), { recursive: true });
    writeFileSync(join(workspaceRoot, 'apps/capture/project.json'), '{ "name": "capture" }');
    context = { workspaceRoot, nxJsonConfiguration: {} };
  });
  afterEach(() => rmSync(workspaceRoot, { recursive: true, force: true }));

  const [pattern, infer] = createNodes;

  it('looks at the Dockerfiles in docker/', () => {
    expect(pattern).toBe(DOCKERFILE_PATTERN);
    expect(DOCKERFILE_PATTERN).toBe('docker/*.Dockerfile');
  });

  it("gives the app the Dockerfile is named after a docker target running this plugin's executor, uncached", async () => {
    const results = await infer(['docker/capture.Dockerfile'], undefined, context);
    expect(results).toEqual([
      [
        'docker/capture.Dockerfile',
        {
          projects: {
            'apps/capture': {
              targets: { docker: expect.objectContaining({ executor: './tools/nx-plugin:docker', cache: false }) },
            },
          },
        },
      ],
    ]);
  });

  it('refuses a Dockerfile whose app does not exist, naming both', async () => {
    // Nx gathers each file's error into one, which it reports file by file.
    await expect(infer(['docker/camera.Dockerfile'], undefined, context)).rejects.toMatchObject({
      errors: [['docker/camera.Dockerfile', new Error('docker/camera.Dockerfile names no app: apps/camera/project.json does not exist (docker/<app>.Dockerfile builds apps/<app>).')]],
    });
  });
});
