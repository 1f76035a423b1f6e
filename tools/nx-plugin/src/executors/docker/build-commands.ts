import type { TargetPlatform } from '../../lib/image-reference';

export const CONTAINER_ENGINES = ['docker', 'podman', 'buildah'] as const;
export type ContainerEngine = (typeof CONTAINER_ENGINES)[number];

export interface ImageBuild {
  engine: ContainerEngine;
  platform: TargetPlatform;
  /** Relative to the build context (the workspace root), with forward slashes. */
  dockerfile: string;
  image: string;
  push: boolean;
  baseImage?: string;
}

/** The Dockerfile's own ignore file, next to it: BuildKit picks it up by name, podman and buildah are told. */
export function ignoreFileOf(dockerfile: string): string {
  return `${dockerfile}.dockerignore`;
}

/** The commands (argv arrays) that build, and with `push` publish, one image; the context is the workspace root. */
export function buildCommands(build: ImageBuild): string[][] {
  const { engine, platform, dockerfile, image, push, baseImage } = build;
  const buildArgs = [
    ['CUDA_SUPPORT', platform.cuda ? 'cuda' : 'nocuda'],
    ...(baseImage ? [['BASE_IMAGE', baseImage]] : []),
  ].flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]);

  if (engine === 'docker') {
    // BuildKit sets TARGETARCH from --platform; --load puts the image in the local store when it is not pushed.
    return [['docker', 'buildx', 'build', '--platform', `linux/${platform.arch}`, ...buildArgs, '-f', dockerfile, '-t', image, push ? '--push' : '--load', '.']];
  }
  const buildCommand = engine === 'podman' ? ['podman', 'build'] : ['buildah', 'bud'];
  return [
    [
      ...buildCommand,
      '--os', 'linux',
      '--arch', platform.arch,
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
