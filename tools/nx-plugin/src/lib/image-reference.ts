import { readJsonFile } from '@nx/devkit';
import { join } from 'node:path';

/** The CPU architectures the modules ship for, as container platforms name them (`linux/<arch>`). */
export const ARCHITECTURES = ['amd64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface TargetPlatform {
  arch: Architecture;
  /** NVIDIA GPU variant: TensorRT base image, `nvidia` runtime in the deployment. */
  cuda: boolean;
}

/**
 * The platform part of image tags and manifest names: `amd64`, `arm64`, `amd64.cuda`, `arm64.cuda`.
 * iotedgedev names platform variants the same way (`amd64.debug`), so tags read as it would write them.
 */
export function platformName({ arch, cuda }: TargetPlatform): string {
  return cuda ? `${arch}.cuda` : arch;
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

/** `<registry>/<module>:<version>-<platform>`, the reference iotedgedev gives a module image. */
export function imageReference(module: string, platform: TargetPlatform, { registry, version }: ImageNaming): string {
  const tag = `${version}-${platformName(platform)}`;
  if (!IMAGE_TAG.test(tag)) {
    throw new Error(`"${version}" cannot be part of an image tag: use letters, digits, '_', '.' and '-' (the tag "${tag}" is invalid).`);
  }
  return `${registry}/${module}:${tag}`;
}
