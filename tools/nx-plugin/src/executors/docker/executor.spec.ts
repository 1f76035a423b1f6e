import { logger } from '@nx/devkit';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executorContext } from '../../testing/executor-context';
import { buildCommands } from './build-commands';
import dockerExecutor, { type DockerExecutorOptions } from './executor';

describe('buildCommands', () => {
  const build = { dockerfile: 'docker/inference.Dockerfile', image: 'localhost:5000/inference:1.2.3-arm64.cuda', push: false };

  it.each([
    ['amd64', false, ['CUDA_SUPPORT=nocuda']],
    ['arm64', false, ['CUDA_SUPPORT=nocuda']],
    ['amd64', true, ['CUDA_SUPPORT=cuda']],
    ['arm64', true, ['CUDA_SUPPORT=cuda', 'JETPACK=6']],
  ] as const)('docker: buildx for linux/%s, cuda %s -> %j, loaded into the local store', (arch, cuda, args) => {
    expect(buildCommands({ ...build, engine: 'docker', platform: { arch, cuda } })).toEqual([
      ['docker', 'buildx', 'build', '--platform', `linux/${arch}`, ...args.flatMap((arg) => ['--build-arg', arg]), '-f', 'docker/inference.Dockerfile', '-t', build.image, '--load', '.'],
    ]);
  });

  it('builds the Jetson images for JetPack 6 by default and for JetPack 5 when asked', () => {
    const jetson = { ...build, engine: 'docker', platform: { arch: 'arm64', cuda: true } } as const;
    expect(buildCommands({ ...jetson, platform: { ...jetson.platform, jetpack: 5 } })[0]).toEqual(expect.arrayContaining(['--build-arg', 'JETPACK=5']));
    expect(buildCommands({ ...jetson, platform: { ...jetson.platform, jetpack: 6 } })).toEqual(buildCommands(jetson));
  });

  it('docker: pushes from buildx and hands in a base image', () => {
    expect(buildCommands({ ...build, engine: 'docker', platform: { arch: 'amd64', cuda: false }, push: true, baseImage: 'localhost/debian:bookworm' })).toEqual([
      [
        'docker', 'buildx', 'build', '--platform', 'linux/amd64',
        '--build-arg', 'CUDA_SUPPORT=nocuda', '--build-arg', 'BASE_IMAGE=localhost/debian:bookworm',
        '-f', 'docker/inference.Dockerfile', '-t', build.image, '--push', '.',
      ],
    ]);
  });

  it.each([
    ['podman', ['podman', 'build', '--os', 'linux', '--arch', 'arm64', '--format', 'docker']],
    ['buildah', ['buildah', 'bud', '--os', 'linux', '--arch', 'arm64', '--format', 'docker', '--layers', '--force-rm']],
  ] as const)('%s: Docker format (keeps HEALTHCHECK), --arch and the Dockerfile ignore file, then pushes separately', (engine, buildCommand) => {
    expect(buildCommands({ ...build, engine, platform: { arch: 'arm64', cuda: true }, push: true })).toEqual([
      [
        ...buildCommand,
        '--build-arg', 'TARGETARCH=arm64', '--build-arg', 'CUDA_SUPPORT=cuda', '--build-arg', 'JETPACK=6',
        '--ignorefile', 'docker/inference.Dockerfile.dockerignore',
        '-f', 'docker/inference.Dockerfile', '-t', build.image, '.',
      ],
      [engine, 'push', build.image],
    ]);
  });

  it('buildah without a Docker engine or registry: chroot isolation, an npm cache mounted, local base and node images', () => {
    expect(
      buildCommands({
        ...build,
        engine: 'buildah',
        platform: { arch: 'amd64', cuda: false },
        baseImage: 'localhost/iev-base:bookworm-amd64',
        nodeImage: 'localhost/iev-node:bookworm-amd64',
        isolation: 'chroot',
        volumes: ['/root/.npm:/root/.npm', '/var/cache/x:/x:ro'],
      }),
    ).toEqual([
      [
        'buildah', 'bud', '--os', 'linux', '--arch', 'amd64', '--format', 'docker', '--layers', '--force-rm',
        '--isolation', 'chroot', '--volume', '/root/.npm:/root/.npm', '--volume', '/var/cache/x:/x:ro',
        '--build-arg', 'TARGETARCH=amd64', '--build-arg', 'CUDA_SUPPORT=nocuda',
        '--build-arg', 'BASE_IMAGE=localhost/iev-base:bookworm-amd64', '--build-arg', 'NODE_IMAGE=localhost/iev-node:bookworm-amd64',
        '--ignorefile', 'docker/inference.Dockerfile.dockerignore',
        '-f', 'docker/inference.Dockerfile', '-t', build.image, '.',
      ],
    ]);
  });

  it('docker: hands in a node image; refuses podman/buildah-only options instead of dropping them', () => {
    const docker = { ...build, engine: 'docker', platform: { arch: 'amd64', cuda: false } } as const;
    expect(buildCommands({ ...docker, nodeImage: 'mirror.example/node:24-bookworm-slim' })[0]).toEqual(
      expect.arrayContaining(['--build-arg', 'NODE_IMAGE=mirror.example/node:24-bookworm-slim']),
    );
    expect(() => buildCommands({ ...docker, isolation: 'chroot' })).toThrow('--isolation is for podman and buildah');
    expect(() => buildCommands({ ...docker, volumes: ['/a:/b'] })).toThrow('--volume is for podman and buildah');
  });
});

describe('nx docker <module>', () => {
  let root: string;
  let binDir: string;
  let recordFile: string;
  let printed: string[];
  let errors: string[];
  const originalPath = process.env['PATH'];

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'iev-docker-'));
    mkdirSync(join(root, 'docker'));
    writeFileSync(join(root, 'docker/capture.Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'workspace', version: '1.2.3' }));
    binDir = join(root, 'bin');
    mkdirSync(binDir);
    recordFile = join(root, 'engine-calls.txt');
    process.env['PATH'] = binDir;
    printed = [];
    errors = [];
    jest.spyOn(logger, 'info').mockImplementation((message: string) => void printed.push(message));
    jest.spyOn(logger, 'error').mockImplementation((message: string) => void errors.push(message));
  });
  afterEach(() => {
    process.env['PATH'] = originalPath;
    jest.restoreAllMocks();
  });

  /** A stand-in engine on PATH that records how it was called and exits with `exitCode`. */
  function installFakeEngine(name: string, exitCode = 0) {
    const script = join(binDir, name);
    writeFileSync(script, `#!/bin/sh\necho "${name} $*" >> "${recordFile}"\nexit ${exitCode}\n`);
    chmodSync(script, 0o755);
  }
  const engineCalls = () => (existsSync(recordFile) ? readFileSync(recordFile, 'utf8').trim().split('\n') : []);
  const docker = (options: DockerExecutorOptions) => dockerExecutor(options, executorContext(root, 'capture'));

  it('tags <registry>/<module>:<version>-<platform> with the root package.json version by default', async () => {
    installFakeEngine('docker');
    expect(await docker({ arch: 'arm64', cuda: true })).toEqual({ success: true });
    expect(engineCalls()).toEqual([
      'docker buildx build --platform linux/arm64 --build-arg CUDA_SUPPORT=cuda --build-arg JETPACK=6 -f docker/capture.Dockerfile -t localhost:5000/capture:1.2.3-arm64.cuda --load .',
    ]);
    expect(printed).toEqual(engineCalls());
  });

  it('with --jetpack 5 --dry-run prints the JetPack 5.1 build of the Jetson image, tagged .jp5; --jetpack without arm64 --cuda fails', async () => {
    expect(await docker({ arch: 'arm64', cuda: true, jetpack: 5, dryRun: true })).toEqual({ success: true });
    expect(printed).toEqual([
      'docker buildx build --platform linux/arm64 --build-arg CUDA_SUPPORT=cuda --build-arg JETPACK=5 -f docker/capture.Dockerfile -t localhost:5000/capture:1.2.3-arm64.cuda.jp5 --load .',
      '(dry run: nothing was executed)',
    ]);
    expect(await docker({ arch: 'amd64', cuda: true, jetpack: 5, dryRun: true })).toEqual({ success: false });
    expect(errors).toEqual(["--jetpack chooses the Jetson images' JetPack: it goes with --arch arm64 --cuda (got --arch amd64 --cuda)."]);
  });

  it('gives JetPack 5 and JetPack 6 images distinct references, JetPack 6 keeping the default one', async () => {
    const imageOf = (command: string) => command.match(/ -t (\S+)/)?.[1];
    for (const jetpack of [undefined, 6, 5] as const) await docker({ arch: 'arm64', cuda: true, jetpack, push: true, dryRun: true });
    expect(printed.filter((line) => line.includes(' -t ')).map(imageOf)).toEqual([
      'localhost:5000/capture:1.2.3-arm64.cuda',
      'localhost:5000/capture:1.2.3-arm64.cuda',
      'localhost:5000/capture:1.2.3-arm64.cuda.jp5',
    ]);
  });

  it('with --decoders builds the variant a Dockerfile with ARG DECODERS has, tagged .decoders; refuses it for another', async () => {
    writeFileSync(join(root, 'docker/inference.Dockerfile'), 'ARG DECODERS=none\nFROM scratch\n');
    expect(await dockerExecutor({ arch: 'amd64', decoders: true, dryRun: true }, executorContext(root, 'inference'))).toEqual({ success: true });
    expect(printed[0]).toBe(
      'docker buildx build --platform linux/amd64 --build-arg CUDA_SUPPORT=nocuda --build-arg DECODERS=ffmpeg -f docker/inference.Dockerfile -t localhost:5000/inference:1.2.3-amd64.decoders --load .',
    );
    expect(await docker({ arch: 'amd64', decoders: true, dryRun: true })).toEqual({ success: false });
    expect(errors).toEqual(["--decoders: docker/capture.Dockerfile builds no variant with decoders (no ARG DECODERS); inference's does."]);
  });

  it('takes the registry and the version part of the tag from --registry and --tag', async () => {
    installFakeEngine('docker');
    expect(await docker({ arch: 'amd64', registry: 'myacr.azurecr.io', tag: '2.0.0-rc1', push: true })).toEqual({ success: true });
    expect(engineCalls()).toEqual([
      'docker buildx build --platform linux/amd64 --build-arg CUDA_SUPPORT=nocuda -f docker/capture.Dockerfile -t myacr.azurecr.io/capture:2.0.0-rc1-amd64 --push .',
    ]);
  });

  it('runs the build and then the push with podman, printing each command before it runs', async () => {
    installFakeEngine('podman');
    expect(await docker({ arch: 'arm64', engine: 'podman', push: true })).toEqual({ success: true });
    expect(engineCalls()).toEqual([
      'podman build --os linux --arch arm64 --format docker --build-arg TARGETARCH=arm64 --build-arg CUDA_SUPPORT=nocuda --ignorefile docker/capture.Dockerfile.dockerignore -f docker/capture.Dockerfile -t localhost:5000/capture:1.2.3-arm64 .',
      'podman push localhost:5000/capture:1.2.3-arm64',
    ]);
    expect(printed).toEqual(engineCalls());
  });

  it('with --dry-run prints the commands and runs nothing, engine or not', async () => {
    installFakeEngine('buildah');
    expect(await docker({ arch: 'amd64', engine: 'buildah', push: true, dryRun: true })).toEqual({ success: true });
    expect(engineCalls()).toEqual([]);
    expect(printed).toEqual([
      'buildah bud --os linux --arch amd64 --format docker --layers --force-rm --build-arg TARGETARCH=amd64 --build-arg CUDA_SUPPORT=nocuda --ignorefile docker/capture.Dockerfile.dockerignore -f docker/capture.Dockerfile -t localhost:5000/capture:1.2.3-amd64 .',
      'buildah push localhost:5000/capture:1.2.3-amd64',
      '(dry run: nothing was executed)',
    ]);

    expect(await docker({ arch: 'arm64', dryRun: true })).toEqual({ success: true });
  });

  it('fails with a clear message, before running anything, when the engine is not on PATH', async () => {
    installFakeEngine('docker');
    expect(await docker({ arch: 'amd64', engine: 'podman' })).toEqual({ success: false });
    expect(errors).toEqual([
      'Cannot build the capture image: "podman" is not on PATH. Install it, choose another engine with --engine docker|podman|buildah, or add --dry-run to only print the commands.',
    ]);
    expect(engineCalls()).toEqual([]);
  });

  it('passes --isolation, every --volume (one given is a string) and --node-image to buildah', async () => {
    installFakeEngine('buildah');
    const options = { arch: 'amd64', engine: 'buildah', isolation: 'chroot', nodeImage: 'localhost/iev-node:bookworm-amd64' } as const;
    expect(await docker({ ...options, volume: '/root/.npm:/root/.npm' })).toEqual({ success: true });
    expect(await docker({ ...options, volume: ['/a:/a', '/b:/b:ro'] })).toEqual({ success: true });
    expect(engineCalls()).toEqual([
      'buildah bud --os linux --arch amd64 --format docker --layers --force-rm --isolation chroot --volume /root/.npm:/root/.npm --build-arg TARGETARCH=amd64 --build-arg CUDA_SUPPORT=nocuda --build-arg NODE_IMAGE=localhost/iev-node:bookworm-amd64 --ignorefile docker/capture.Dockerfile.dockerignore -f docker/capture.Dockerfile -t localhost:5000/capture:1.2.3-amd64 .',
      'buildah bud --os linux --arch amd64 --format docker --layers --force-rm --isolation chroot --volume /a:/a --volume /b:/b:ro --build-arg TARGETARCH=amd64 --build-arg CUDA_SUPPORT=nocuda --build-arg NODE_IMAGE=localhost/iev-node:bookworm-amd64 --ignorefile docker/capture.Dockerfile.dockerignore -f docker/capture.Dockerfile -t localhost:5000/capture:1.2.3-amd64 .',
    ]);
  });

  it('fails before running anything when docker is given a podman/buildah-only option', async () => {
    installFakeEngine('docker');
    expect(await docker({ arch: 'amd64', volume: '/root/.npm:/root/.npm' })).toEqual({ success: false });
    expect(errors).toEqual(['--volume is for podman and buildah; docker buildx mounts nothing into RUN steps from the command line.']);
    expect(engineCalls()).toEqual([]);
  });

  it('stops at the first command that fails', async () => {
    installFakeEngine('podman', 3);
    expect(await docker({ arch: 'amd64', engine: 'podman', push: true })).toEqual({ success: false });
    expect(engineCalls()).toHaveLength(1);
    expect(errors).toEqual(['podman build exited with code 3.']);
  });

  it('fails when the module has no Dockerfile', async () => {
    expect(await dockerExecutor({ arch: 'amd64', dryRun: true }, executorContext(root, 'telemetry'))).toEqual({ success: false });
    expect(errors).toEqual(['docker/telemetry.Dockerfile does not exist: every project with a docker target needs one.']);
  });
});
