import { DEFAULT_JETPACK, type TargetPlatform } from '../../lib/image-reference';

export const CONTAINER_ENGINES = ['docker', 'podman', 'buildah'] as const;
export type ContainerEngine = (typeof CONTAINER_ENGINES)[number];

/** How podman and buildah isolate RUN steps; `chroot` needs no OCI runtime (runc, crun), only root. */
export const ISOLATIONS = ['oci', 'chroot', 'rootless'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

export interface ImageBuild {
  engine: ContainerEngine;
  platform: TargetPlatform;
  /** Relative to the build context (the workspace root), with forward slashes. */
  dockerfile: string;
  image: string;
  push: boolean;
  /** Build arg BASE_IMAGE: the runtime's base. */
  baseImage?: string;
  /** Build arg NODE_IMAGE: the build stages' image and the source of the runtime's `node`. */
  nodeImage?: string;
  /** podman and buildah only. */
  isolation?: Isolation;
  /** podman and buildah only: `host-dir:container-dir[:options]` mounted into every RUN step (e.g. an npm cache). */
  volumes?: string[];
  /** Build arg DECODERS=ffmpeg: the image with capture's decoders (a Dockerfile that has the argument). */
  decoders?: boolean;
}

/** The Dockerfile's own ignore file, next to it: BuildKit picks it up by name, podman and buildah are told. */
export function ignoreFileOf(dockerfile: string): string {
  return `${dockerfile}.dockerignore`;
}

/** The commands (argv arrays) that build, and with `push` publish, one image; the context is the workspace root. */
export function buildCommands(build: ImageBuild): string[][] {
  const { engine, platform, dockerfile, image, push, baseImage, nodeImage, isolation, volumes = [], decoders = false } = build;
  const jetson = platform.arch === 'arm64' && platform.cuda;
  const buildArgs = [
    ['CUDA_SUPPORT', platform.cuda ? 'cuda' : 'nocuda'],
    // Build arg JETPACK: which JetPack's L4T images the Jetson stages start from.
    ...(jetson ? [['JETPACK', String(platform.jetpack ?? DEFAULT_JETPACK)]] : []),
    ...(baseImage ? [['BASE_IMAGE', baseImage]] : []),
    ...(nodeImage ? [['NODE_IMAGE', nodeImage]] : []),
    ...(decoders ? [['DECODERS', 'ffmpeg']] : []),
  ].flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]);

  if (engine === 'docker') {
    if (isolation) throw new Error(`--isolation is for podman and buildah; docker buildx isolates with BuildKit (got --isolation ${isolation}).`);
    if (volumes.length > 0) throw new Error('--volume is for podman and buildah; docker buildx mounts nothing into RUN steps from the command line.');
    // BuildKit sets TARGETARCH from --platform; --load puts the image in the local store when it is not pushed.
    return [['docker', 'buildx', 'build', '--platform', `linux/${platform.arch}`, ...buildArgs, '-f', dockerfile, '-t', image, push ? '--push' : '--load', '.']];
  }
  const buildCommand = engine === 'podman' ? ['podman', 'build'] : ['buildah', 'bud'];
  return [
    [
      ...buildCommand,
      '--os', 'linux',
      '--arch', platform.arch,
      // Docker's image format: the OCI format has no HEALTHCHECK, and these engines would drop it.
      '--format', 'docker',
      // What docker and podman do by default: keep each step as a cached layer, and remove every intermediate
      // container (buildah 1.28 leaves those of FROM-only stages and failed builds behind without --force-rm).
      ...(engine === 'buildah' ? ['--layers', '--force-rm'] : []),
      ...(isolation ? ['--isolation', isolation] : []),
      ...volumes.flatMap((volume) => ['--volume', volume]),
      // Older buildah releases do not derive TARGETARCH from --arch (containers/buildah#5478).
      '--build-arg', `TARGETARCH=${platform.arch}`,
      ...buildArgs,
      '--ignorefile', ignoreFileOf(dockerfile),
      '-f', dockerfile,
      '-t', image,
      '.',
    ],
    ...(push ? [[engine, 'push', image]] : []),
  ];
}
