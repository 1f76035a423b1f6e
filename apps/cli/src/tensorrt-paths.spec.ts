import { join } from 'node:path';
import { readTensorRtSettings } from '@iev/tensorrt-backend';
import { rootTensorRtPaths } from './tensorrt-paths';

describe('rootTensorRtPaths', () => {
  const root = '/work/iev';

  it("takes TensorRT's engine cache, by default and when given relative, and its binding from the workspace root", () => {
    const unset: NodeJS.ProcessEnv = {};
    rootTensorRtPaths(root, unset);
    expect(readTensorRtSettings(unset)).toMatchObject({ tensorRtCacheDir: join(root, 'tmp/tensorrt-engines'), tensorRtAddonPath: undefined });

    const relative: NodeJS.ProcessEnv = { TENSORRT_CACHE_DIR: 'cache/engines', TENSORRT_ADDON_PATH: 'native/tensorrt_addon.node' };
    rootTensorRtPaths(root, relative);
    expect(relative).toEqual({ TENSORRT_CACHE_DIR: join(root, 'cache/engines'), TENSORRT_ADDON_PATH: join(root, 'native/tensorrt_addon.node') });
  });

  it('leaves absolute paths as they are', () => {
    const absolute: NodeJS.ProcessEnv = { TENSORRT_CACHE_DIR: '/var/cache/iev/tensorrt', TENSORRT_ADDON_PATH: '/opt/iev/tensorrt_addon.node' };
    rootTensorRtPaths(root, absolute);
    expect(absolute).toEqual({ TENSORRT_CACHE_DIR: '/var/cache/iev/tensorrt', TENSORRT_ADDON_PATH: '/opt/iev/tensorrt_addon.node' });
  });
});
