// What this machine has for the native tests: they compile, run or skip (saying why) on what is found.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The nvcc on PATH, else the CUDA toolkit's usual places. */
export function findNvcc(): string | undefined {
  if (spawnSync('nvcc', ['--version']).status === 0) return 'nvcc';
  const homes = [process.env['CUDA_HOME'], process.env['CUDA_PATH'], '/usr/local/cuda'].filter((home): home is string => !!home);
  return homes.map((home) => join(home, 'bin/nvcc')).find((path) => existsSync(path));
}

/** An NVIDIA GPU with its driver: nvidia-smi lists one, or the device nodes exist (Jetson has no nvidia-smi before JetPack 6). */
export function hasCudaGpu(): boolean {
  if (spawnSync('nvidia-smi', ['-L']).status === 0) return true;
  return ['/dev/nvidia0', '/dev/nvhost-ctrl-gpu'].some((node) => existsSync(node));
}

export function hasCompiler(command: string): boolean {
  return spawnSync(command, ['--version']).status === 0;
}

/**
 * Node.js headers for the build: the running Node.js's, where its package installed them (Debian, NodeSource, the
 * official images), else the system's (Node-API is ABI-stable; build.mjs makes the same choice).
 */
export function nodeIncludeDir(): string | undefined {
  return [join(process.execPath, '../../include/node'), '/usr/include/node', '/usr/local/include/node'].find((dir) => existsSync(join(dir, 'node_api.h')));
}

export const NATIVE_DIR = join(__dirname, '../../native');
export const WORKSPACE_ROOT = join(__dirname, '../../../..');

/**
 * NVIDIA's public TensorRT headers, one folder per version (10.16, 11.1), where the workspace sits beside the
 * project's shared folder: ../shared/third_party/tensorrt relative to the workspace root. A user's clone has none.
 */
export const TENSORRT_HEADERS_DIR = join(WORKSPACE_ROOT, '../shared/third_party/tensorrt');

export function tensorRtHeaderSets(): { version: string; include: string }[] {
  if (!existsSync(TENSORRT_HEADERS_DIR)) return [];
  return readdirSync(TENSORRT_HEADERS_DIR)
    .map((version) => ({ version, include: join(TENSORRT_HEADERS_DIR, version, 'include') }))
    .filter(({ include }) => existsSync(join(include, 'NvInfer.h')))
    .sort((a, b) => a.version.localeCompare(b.version, 'en', { numeric: true }));
}

/** The CUDA toolkit's headers beside an nvcc found by findNvcc. */
export function cudaIncludeDir(nvcc: string): string {
  return join(nvcc === 'nvcc' ? '/usr/local/cuda' : join(nvcc, '../..'), 'include');
}
