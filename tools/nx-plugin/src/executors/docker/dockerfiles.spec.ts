import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { freePort } from '@iev/testing';
import { ARCHITECTURES, DEFAULT_JETPACK, JETPACKS } from '../../lib/image-reference';
import { WORKSPACE_ROOT } from '../../testing/executor-context';
import { buildCommands, CONTAINER_ENGINES, ignoreFileOf } from './build-commands';

// No container engine on the development machines: these checks stand in for a build, so that what the
// docker executor asks of the Dockerfiles is there.

interface Instruction {
  keyword: string;
  args: string[];
}

function instructionsOf(dockerfile: string): Instruction[] {
  return readFileSync(join(WORKSPACE_ROOT, dockerfile), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...args] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args };
    });
}

/** `*` within one path segment; everything else literal. */
function globSegmentToRegex(glob: string): string {
  return glob
    .split('*')
    .map((literal) => literal.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*');
}

/** Whether a .dockerignore keeps `path` out of the context: the last pattern matching it or a parent decides. */
function isIgnored(path: string, ignoreFile: string): boolean {
  const patterns = readFileSync(join(WORKSPACE_ROOT, ignoreFile), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const ancestorsAndSelf = path.split('/').map((_, index, parts) => parts.slice(0, index + 1).join('/'));
  let ignored = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const glob = pattern.replace(/^!/, '').replace(/\/$/, '');
    const regex = new RegExp(`^${glob.split('**/').map(globSegmentToRegex).join('(?:.*/)?')}$`);
    if (ancestorsAndSelf.some((candidate) => regex.test(candidate))) ignored = !negated;
  }
  return ignored;
}

// Every Dockerfile here gives its app a docker target (plugins/docker-target.ts).
const modulesWithImages = readdirSync(join(WORKSPACE_ROOT, 'docker'))
  .filter((file) => file.endsWith('.Dockerfile'))
  .map((file) => file.replace(/\.Dockerfile$/, ''));

describe.each(modulesWithImages)('docker/%s.Dockerfile', (module) => {
  const dockerfile = `docker/${module}.Dockerfile`;
  const instructions = instructionsOf(dockerfile);
  const declaredArgs = instructions.filter(({ keyword }) => keyword === 'ARG').map(({ args }) => args[0].split('=')[0]);

  it('has a base stage for every architecture with and without CUDA, picked by TARGETARCH and CUDA_SUPPORT', () => {
    const stages = instructions.filter(({ keyword, args }) => keyword === 'FROM' && args[1]?.toUpperCase() === 'AS').map(({ args }) => args[2]);
    for (const arch of ARCHITECTURES) {
      expect(stages).toEqual(expect.arrayContaining([`base-${arch}-nocuda`, `base-${arch}-cuda`]));
    }
    expect(instructions).toContainEqual({ keyword: 'FROM', args: ['base-${TARGETARCH}-${CUDA_SUPPORT}', 'AS', 'base'] });
    expect(instructions).toContainEqual({ keyword: 'ARG', args: ['CUDA_SUPPORT=nocuda'] });
  });

  it('starts its Jetson (arm64 CUDA) stages from a stage per JetPack the executor offers, JetPack 6 by default', () => {
    expect(instructions).toContainEqual({ keyword: 'ARG', args: [`JETPACK=${DEFAULT_JETPACK}`] });
    const stages = instructions.filter(({ keyword, args }) => keyword === 'FROM' && args[1]?.toUpperCase() === 'AS').map(({ args }) => ({ from: args[0], name: args[2] }));
    for (const { from } of stages.filter(({ from }) => from.includes('${JETPACK}'))) {
      for (const jetpack of JETPACKS) expect(stages.map(({ name }) => name)).toContain(from.replace('${JETPACK}', String(jetpack)));
    }
    const jetsonBase = stages.find(({ name }) => name === 'base-arm64-cuda');
    const sharesCpuBase = jetsonBase?.from === '${BASE_IMAGE}';
    expect(sharesCpuBase || jetsonBase?.from.includes('${JETPACK}')).toBe(true);
  });

  it('declares every build argument the docker executor passes', () => {
    const passed = CONTAINER_ENGINES.flatMap((engine) =>
      buildCommands({ engine, platform: { arch: 'arm64', cuda: true }, dockerfile, image: 'image', push: false, baseImage: 'base', nodeImage: 'node' }),
    )
      .flatMap((command) => command.flatMap((arg, index) => (command[index - 1] === '--build-arg' ? [arg.split('=')[0]] : [])));
    expect(declaredArgs).toEqual(expect.arrayContaining([...new Set(passed)]));
  });

  it('lets through its ignore file everything it copies from the build context', () => {
    const copiedFromContext = instructions
      .filter(({ keyword, args }) => keyword === 'COPY' && !args[0].startsWith('--from='))
      .flatMap(({ args }) => args.slice(0, -1));
    expect(copiedFromContext.length).toBeGreaterThan(0);
    expect(copiedFromContext.filter((path) => isIgnored(path, ignoreFileOf(dockerfile)))).toEqual([]);
  });

  it("installs the app's production dependencies, then drops other platforms' binaries (prune-node-modules.mjs)", () => {
    const installs = instructions.filter(({ keyword, args }) => keyword === 'RUN' && args.join(' ').includes('npm ci --omit=dev'));
    expect(installs.map(({ args }) => args.join(' '))).toEqual([
      'npm ci --omit=dev --no-audit --no-fund && node /usr/local/lib/iev/prune-node-modules.mjs node_modules',
    ]);
    expect(instructions).toContainEqual({ keyword: 'COPY', args: ['docker/prune-node-modules.mjs', '/usr/local/lib/iev/'] });
  });

  it('runs as a non-root user with a HEALTHCHECK on the module /live endpoint', () => {
    const users = instructions.filter(({ keyword }) => keyword === 'USER').map(({ args }) => args[0]);
    expect(users.at(-1)).not.toMatch(/^(root|0)$/);
    const healthcheck = instructions.find(({ keyword }) => keyword === 'HEALTHCHECK');
    expect(healthcheck?.args.join(' ')).toContain('/usr/local/lib/iev/healthcheck.mjs');
    expect(instructions).toContainEqual({ keyword: 'COPY', args: ['docker/healthcheck.mjs', '/usr/local/lib/iev/healthcheck.mjs'] });
  });
});

describe('docker/healthcheck.mjs', () => {
  function healthcheckExitCode(port: number): Promise<number> {
    return new Promise((resolve) => {
      execFile(process.execPath, [join(WORKSPACE_ROOT, 'docker/healthcheck.mjs')], { env: { ...process.env, METRICS_PORT: String(port) } }, (error) =>
        resolve(error ? Number(error.code) : 0),
      );
    });
  }

  it('is healthy while /live answers 200, unhealthy on 503 or when nothing listens', async () => {
    let liveStatus = 200;
    const server = createServer((request, response) => response.writeHead(request.url === '/live' ? liveStatus : 404).end());
    // A port of its own, outside the ephemeral range: once closed, nothing else may take it before the last check.
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

    expect(await healthcheckExitCode(port)).toBe(0);
    liveStatus = 503;
    expect(await healthcheckExitCode(port)).toBe(1);
    await new Promise((resolve) => server.close(resolve));
    expect(await healthcheckExitCode(port)).toBe(1);
  });
});
