import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordingLog } from '@iev/testing';
import { EngineCache, engineCacheKeyId, type EngineCacheKey } from './engine-cache';

const KEY: EngineCacheKey = {
  modelSha256: '7ceb8792a0f1e3c9d1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718',
  tensorRtVersion: '10.3.0.30',
  cudaRuntimeVersion: '12.6',
  gpuName: 'Orin',
  computeCapability: '8.7',
  multiprocessors: 16,
  totalMemoryBytes: 64 * 1024 ** 3,
  workspaceBytes: 2 * 1024 ** 3,
  precision: 'auto',
  profile: { min: [1, 3, 960, 960], opt: [1, 3, 1280, 1280], max: [1, 3, 1536, 1536] },
};

describe('engine cache key', () => {
  it('is a stable, filesystem-safe name whatever the order of the fields', () => {
    const reordered = Object.fromEntries(Object.entries(KEY).reverse()) as unknown as EngineCacheKey;
    expect(Object.keys(reordered)).not.toEqual(Object.keys(KEY));
    expect(engineCacheKeyId(reordered)).toBe(engineCacheKeyId(KEY));
    expect(engineCacheKeyId(KEY)).toMatch(/^7ceb8792-[0-9a-f]{32}$/);
  });

  it.each<[string, Partial<EngineCacheKey>]>([
    ['model', { modelSha256: `${'0'.repeat(63)}1` }],
    ['TensorRT version', { tensorRtVersion: '10.3.1.30' }],
    ['TensorRT build', { tensorRtVersion: '10.3.0.31' }],
    ['CUDA runtime', { cudaRuntimeVersion: '12.2' }],
    ['GPU name', { gpuName: 'NVIDIA GeForce RTX 3060' }],
    ['compute capability', { computeCapability: '8.6' }],
    // Jetson AGX Orin 64GB (16 SMs) against Orin NX 16GB (8 SMs): both "Orin", 8.7.
    ['SM count', { multiprocessors: 8 }],
    ['GPU memory', { totalMemoryBytes: 16 * 1024 ** 3 }],
    ['workspace', { workspaceBytes: 1024 ** 3 }],
    ['precision', { precision: 'fp32' }],
    ['profile min', { profile: { ...KEY.profile, min: [1, 3, 480, 640] } }],
    ['profile opt', { profile: { ...KEY.profile, opt: [1, 3, 960, 960] } }],
    ['profile max', { profile: { ...KEY.profile, max: [1, 3, 1024, 1536] } }],
    // A recognition engine's batch range: an engine for batches of one cannot run six.
    ['profile batch', { profile: { ...KEY.profile, max: [6, 3, 1536, 1536] } }],
  ])('changes with the %s', (_field, change) => {
    expect(engineCacheKeyId({ ...KEY, ...change })).not.toBe(engineCacheKeyId(KEY));
  });
});

describe('EngineCache', () => {
  let dir: string;
  // The cache stores a serialized engine as opaque bytes; these stand in for one.
  const plan = randomBytes(4096);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'iev-engines-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands back what was written for the same key, with the precision it was built with', async () => {
    const log = recordingLog();
    const cache = new EngineCache(join(dir, 'engines'), log);
    expect(await cache.read(KEY)).toEqual({ reason: `no cached engine at ${cache.paths(KEY).engine}` });
    expect(await cache.write(KEY, plan, { precision: 'fp16' })).toBe(true);
    const cached = await cache.read(KEY);
    expect(cached.plan && Buffer.from(cached.plan).equals(plan)).toBe(true);
    expect(cached).toMatchObject({ builtWith: { precision: 'fp16' } });
    expect(readdirSync(join(dir, 'engines')).sort()).toEqual([`${engineCacheKeyId(KEY)}.engine`, `${engineCacheKeyId(KEY)}.json`]);
    expect(log.lines).toEqual([]);
  });

  it('never hands out an engine whose sidecar was written for another key (a copied or renamed file)', async () => {
    const cache = new EngineCache(dir, recordingLog());
    const foreign = { ...KEY, gpuName: 'Xavier', computeCapability: '7.2' };
    await cache.write(foreign, plan, { precision: 'fp16' });
    // The foreign engine and sidecar put under the wanted key's names.
    for (const kind of ['engine', 'sidecar'] as const) writeFileSync(cache.paths(KEY)[kind], readFileSync(cache.paths(foreign)[kind]));
    const cached = await cache.read(KEY);
    expect(cached.plan).toBeUndefined();
    expect(cached).toMatchObject({ reason: expect.stringContaining('was built for something else (gpuName: "Xavier" → "Orin", computeCapability: "7.2" → "8.7")') });
  });

  it('never hands out an engine that does not match its checksum', async () => {
    const cache = new EngineCache(dir, recordingLog());
    await cache.write(KEY, plan, { precision: 'fp32' });
    writeFileSync(cache.paths(KEY).engine, plan.subarray(0, 1000));
    expect(await cache.read(KEY)).toEqual({ reason: `cached engine ${cache.paths(KEY).engine} does not match its sidecar's checksum (truncated or replaced)` });
  });

  it('replaces a stale entry when it is rebuilt', async () => {
    const cache = new EngineCache(dir, recordingLog());
    await cache.write(KEY, plan, { precision: 'fp16' });
    const rebuilt = randomBytes(2048);
    await cache.write(KEY, rebuilt, { precision: 'fp16' });
    const cached = await cache.read(KEY);
    expect(cached.plan && Buffer.from(cached.plan).equals(rebuilt)).toBe(true);
  });

  it('reports a folder it cannot write, without failing, and leaves no partial files', async () => {
    const log = recordingLog();
    const notAFolder = join(dir, 'file');
    writeFileSync(notAFolder, '');
    const cache = new EngineCache(join(notAFolder, 'engines'), log);
    await expect(cache.write(KEY, plan, { precision: 'fp16' })).resolves.toBe(false);
    expect(log.lines).toEqual([
      expect.stringMatching(
        /^warn: cannot write the TensorRT engine cache in .*file\/engines \(ENOTDIR.*\); the engine stays in memory and is rebuilt on the next start\. .*TENSORRT_CACHE_DIR/,
      ),
    ]);
    expect(readdirSync(dir)).toEqual(['file']);
  });
});
