import { resolve } from 'node:path';
import { readTensorRtSettings } from '@iev/tensorrt-backend';

/**
 * Makes TensorRT's paths in the environment absolute from the workspace root: TENSORRT_CACHE_DIR (its default,
 * tmp/tensorrt-engines, included) and TENSORRT_ADDON_PATH. The CLI runs in the caller's folder (run-cli.mjs), the
 * modules `npm start` and the bench start in the root: so every command, from any folder, and the bench's modules
 * share the engines built once.
 */
export function rootTensorRtPaths(root: string, env: NodeJS.ProcessEnv = process.env): void {
  // Only these two read: another TensorRT variable set wrong is told by the command that uses TensorRT.
  const { tensorRtCacheDir, tensorRtAddonPath } = readTensorRtSettings({ TENSORRT_CACHE_DIR: env.TENSORRT_CACHE_DIR, TENSORRT_ADDON_PATH: env.TENSORRT_ADDON_PATH });
  env.TENSORRT_CACHE_DIR = resolve(root, tensorRtCacheDir);
  if (tensorRtAddonPath !== undefined) env.TENSORRT_ADDON_PATH = resolve(root, tensorRtAddonPath);
}
