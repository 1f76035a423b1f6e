import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendLog } from '@iev/inference-backends';
import type { TensorRtPrecision } from './tensorrt-settings';
import type { NativeProfile } from './tensorrt-addon';

/**
 * Everything a serialized engine depends on. TensorRT refuses an engine from another TensorRT version and may
 * misbehave on another GPU model or CUDA runtime, and the model, precision, profile and the workspace its tactics
 * were chosen within are baked in; so any change is a new key.
 */
export interface EngineCacheKey {
  modelSha256: string;
  /** With the build number, e.g. "10.3.0.30". */
  tensorRtVersion: string;
  cudaRuntimeVersion: string;
  gpuName: string;
  computeCapability: string;
  /** Orin modules all report "Orin" 8.7: SM count and memory tell them apart. */
  multiprocessors: number;
  totalMemoryBytes: number;
  /** The builder's workspace limit, which bounds the tactics it can choose. */
  workspaceBytes: number;
  /** As asked for: `auto` resolves the same way for the same GPU and TensorRT, which are in the key. */
  precision: TensorRtPrecision;
  /** The optimization profile, NCHW shapes: [N,3,H,W] for detection (N up to INFERENCE_BATCH), [N,3,48,W] for recognition. */
  profile: NativeProfile;
}

/** What is written beside an engine: its key, so a renamed, copied or stale file is recognised, and its checksum. */
interface EngineSidecar {
  format: typeof SIDECAR_FORMAT;
  key: EngineCacheKey;
  engineSha256: string;
  engineBytes: number;
  builtWith: { precision: 'fp16' | 'fp32' };
  createdAt: string;
}

const SIDECAR_FORMAT = 1;

/** JSON with object keys sorted at every level, so equal keys serialize to equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, field]) => `${JSON.stringify(name)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A stable, filesystem-safe name for a key: the model's short hash, then the key's (e.g. "7ceb8792-3f0a...c1"). */
export function engineCacheKeyId(key: EngineCacheKey): string {
  return `${key.modelSha256.slice(0, 8)}-${sha256(canonicalJson(key)).slice(0, 32)}`;
}

/** The key fields that differ, as "field: cached → wanted", for the log line that says why an engine is rebuilt. */
function keyDifferences(cached: EngineCacheKey, wanted: EngineCacheKey): string {
  const fields = Object.keys(wanted) as (keyof EngineCacheKey)[];
  return fields
    .filter((field) => canonicalJson(cached?.[field]) !== canonicalJson(wanted[field]))
    .map((field) => `${field}: ${canonicalJson(cached?.[field])} → ${canonicalJson(wanted[field])}`)
    .join(', ');
}

export type CachedEngine = { plan: Uint8Array; builtWith: EngineSidecar['builtWith'] } | { plan?: undefined; reason: string };

/**
 * Serialized engines in a folder, as `<id>.engine` with a `<id>.json` sidecar. An engine is handed out only when
 * its sidecar's key equals the wanted key and its bytes match the sidecar's checksum; anything else is a reason to
 * rebuild, never an engine to load. A folder that cannot be written is logged, not fatal: the engine then lives
 * in memory and is rebuilt on the next start.
 */
export class EngineCache {
  constructor(
    readonly dir: string,
    private readonly log: BackendLog,
  ) {}

  paths(key: EngineCacheKey): { engine: string; sidecar: string } {
    const id = engineCacheKeyId(key);
    return { engine: join(this.dir, `${id}.engine`), sidecar: join(this.dir, `${id}.json`) };
  }

  async read(key: EngineCacheKey): Promise<CachedEngine> {
    const paths = this.paths(key);
    let sidecar: EngineSidecar;
    try {
      sidecar = JSON.parse(await readFile(paths.sidecar, 'utf8')) as EngineSidecar;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { reason: code === 'ENOENT' ? `no cached engine at ${paths.engine}` : `unreadable sidecar ${paths.sidecar} (${(error as Error).message})` };
    }
    if (sidecar.format !== SIDECAR_FORMAT) return { reason: `sidecar ${paths.sidecar} has format ${sidecar.format}, not ${SIDECAR_FORMAT}` };
    if (canonicalJson(sidecar.key) !== canonicalJson(key)) {
      return { reason: `cached engine ${paths.engine} was built for something else (${keyDifferences(sidecar.key, key)})` };
    }
    let plan: Buffer;
    try {
      plan = await readFile(paths.engine);
    } catch (error) {
      return { reason: `cannot read cached engine ${paths.engine} (${(error as Error).message})` };
    }
    if (plan.length !== sidecar.engineBytes || sha256(plan) !== sidecar.engineSha256) {
      return { reason: `cached engine ${paths.engine} does not match its sidecar's checksum (truncated or replaced)` };
    }
    return { plan, builtWith: sidecar.builtWith };
  }

  /** Writes engine then sidecar, each through a temporary file and a rename, so a reader never sees half a file. */
  async write(key: EngineCacheKey, plan: Uint8Array, builtWith: EngineSidecar['builtWith']): Promise<boolean> {
    const paths = this.paths(key);
    const sidecar: EngineSidecar = {
      format: SIDECAR_FORMAT,
      key,
      engineSha256: sha256(plan),
      engineBytes: plan.length,
      builtWith,
      createdAt: new Date().toISOString(),
    };
    // Not the pid alone: in a container Node.js is pid 1, and two inference containers may share the cache volume.
    const writer = randomUUID();
    const temporary = (path: string) => `${path}.${writer}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(temporary(paths.engine), plan);
      await rename(temporary(paths.engine), paths.engine);
      await writeFile(temporary(paths.sidecar), `${JSON.stringify(sidecar, null, 2)}\n`);
      await rename(temporary(paths.sidecar), paths.sidecar);
      return true;
    } catch (error) {
      await Promise.all([paths.engine, paths.sidecar].map((path) => rm(temporary(path), { force: true }).catch(() => undefined)));
      this.log.warn(
        `cannot write the TensorRT engine cache in ${this.dir} (${(error as Error).message}); the engine stays in memory and is ` +
          'rebuilt on the next start. Make the folder writable or point TENSORRT_CACHE_DIR at one that is.',
      );
      return false;
    }
  }
}
