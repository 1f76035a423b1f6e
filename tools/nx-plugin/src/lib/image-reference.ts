import { readJsonFile } from '@nx/devkit';
import { join } from 'node:path';

/** The CPU architectures the modules ship for, as container platforms name them (`linux/<arch>`). */
export const ARCHITECTURES = ['amd64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** The JetPack releases the Jetson (arm64 CUDA) images are built for: 6 (Orin; L4T R36.4, TensorRT 10.3), 5 (5.1, Xavier too; TensorRT 8.5). */
export const JETPACKS = [5, 6] as const;
export type JetPack = (typeof JETPACKS)[number];
export const DEFAULT_JETPACK: JetPack = 6;

export interface TargetPlatform {
  arch: Architecture;
  /** NVIDIA GPU variant: TensorRT base image, `nvidia` runtime in the deployment. */
  cuda: boolean;
  /** arm64 CUDA (Jetson) only: the JetPack the images are built for; absent means DEFAULT_JETPACK. */
  jetpack?: JetPack;
}

/** The platform of `--arch`, `--cuda` and `--jetpack`, refusing a JetPack for anything but a Jetson. */
export function targetPlatform({ arch, cuda = false, jetpack }: { arch: Architecture; cuda?: boolean; jetpack?: JetPack }): TargetPlatform {
  if (jetpack === undefined) return { arch, cuda };
  if (arch !== 'arm64' || !cuda) {
    throw new Error(`--jetpack chooses the Jetson images' JetPack: it goes with --arch arm64 --cuda (got --arch ${arch}${cuda ? ' --cuda' : ''}).`);
  }
  return { arch, cuda, jetpack };
}

/**
 * The platform part of image tags and manifest names: `amd64`, `arm64`, `amd64.cuda`, `arm64.cuda`, and
 * `arm64.cuda.jp5` for a JetPack other than the default. iotedgedev names platform variants the same way
 * (`amd64.debug`), so tags read as it would write them.
 */
export function platformName({ arch, cuda, jetpack = DEFAULT_JETPACK }: TargetPlatform): string {
  const name = cuda ? `${arch}.cuda` : arch;
  // Images for different JetPacks must not share a tag (the later push would replace the other); the default's
  // tag stays unsuffixed because existing deployments reference it.
  return jetpack === DEFAULT_JETPACK ? name : `${name}.jp${jetpack}`;
}

/** iotedgedev's default CONTAINER_REGISTRY_SERVER: a local registry, so nothing leaves the machine by accident. */
export const DEFAULT_REGISTRY = 'localhost:5000';

export interface ImageNaming {
  registry: string;
  version: string;
}

/**
 * Registry and version for every image of a build or deployment. The version defaults to the root
 * package.json's, so the three modules and their deployment manifest always agree on it.
 */
export function imageNaming(workspaceRoot: string, overrides: { registry?: string; version?: string }): ImageNaming {
  return {
    registry: overrides.registry ?? DEFAULT_REGISTRY,
    version: overrides.version ?? workspaceVersion(workspaceRoot),
  };
}

function workspaceVersion(workspaceRoot: string): string {
  const { version } = readJsonFile<{ version?: string }>(join(workspaceRoot, 'package.json'));
  if (!version) throw new Error('The root package.json has no "version": give the image version explicitly.');
  return version;
}

// Docker's tag grammar: a word character, then up to 127 word characters, dots or dashes.
const IMAGE_TAG = /^\w[\w.-]{0,127}$/;

/**
 * What an image carries beyond its module's default: `decoders`, inference with capture's ffmpeg and GStreamer, for
 * decoding its cameras itself (`nx docker inference --decoders`, `nx genconfig deployment --in-process`).
 */
export type ImageVariant = 'decoders';

/**
 * `<registry>/<module>:<version>-<platform>`, the reference iotedgedev gives a module image; a variant adds itself
 * after the platform (`1.2.3-arm64.cuda.decoders`).
 */
export function imageReference(module: string, platform: TargetPlatform, { registry, version }: ImageNaming, variant?: ImageVariant): string {
  const tag = `${version}-${platformName(platform)}${variant ? `.${variant}` : ''}`;
  if (!IMAGE_TAG.test(tag)) {
    throw new Error(`"${version}" cannot be part of an image tag: use letters, digits, '_', '.' and '-' (the tag "${tag}" is invalid).`);
  }
  return `${registry}/${module}:${tag}`;
}
