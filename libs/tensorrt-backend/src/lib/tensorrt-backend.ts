import { resolve } from 'node:path';
import { readModelFile, type BackendLog, type ImagePreprocessing, type InferenceBackend, type ModelFile, type TensorData } from '@iev/inference-backends';
import { detResizeShape, type ImageView } from '@iev/text-detection';
import { engineBuildProgressLog } from './engine-build-progress';
import { EngineCache, type EngineCacheKey } from './engine-cache';
import type { TensorRtModelInput } from './model-input';
import { openTensorRt, type NativeEngine, type NativePreprocessPlan, type NativeShape, type TensorRtRuntime } from './tensorrt-addon';
import type { InputSize } from './tensorrt-profile';
import { resolvePrecision, resolveWorkspace, type TensorRtSettings } from './tensorrt-settings';

export interface TensorRtBackendOptions extends Omit<TensorRtSettings, 'tensorRtProfile'> {
  /** The model's input and the profile its engine is built with: detectionInput(profile) or recognitionInput(). */
  modelInput: TensorRtModelInput;
  modelPath: string;
  /** modelPath's file already read (to check its input first); read at load() otherwise. */
  modelFile?: ModelFile;
  /** The variable that set modelPath, named when the file cannot be read (default MODEL_PATH). */
  modelVariable?: string;
  log: BackendLog;
  /** The binding already opened (by selection's probe); opened in load() otherwise. */
  runtime?: TensorRtRuntime;
  /** What a slow load is busy with ('building engine'), for the module's health; undefined once it is done. */
  onActivity?: (activity: string | undefined) => void;
}

const elements = (dims: readonly number[]) => dims.reduce((product, dim) => product * dim, 1);

/**
 * The GPU plan for a frame: the preset's squash to a fixed size (as bytes, like the CPU path) when it has one and
 * the frame is not already that size, then DetResizeForTest's size with normalization. A DetResize to the size the
 * frame already has is an exact copy on the GPU, so unlike the CPU path it is not skipped.
 */
export function devicePreprocessPlan(frame: InputSize, preprocessing: ImagePreprocessing): NativePreprocessPlan {
  const { preResize, resize, normalize } = preprocessing;
  const squashed = preResize && (preResize.width !== frame.width || preResize.height !== frame.height) ? preResize : undefined;
  const base = preResize ?? frame;
  const input = detResizeShape(base.height, base.width, resize);
  return {
    ...(squashed && { intermediate: [squashed.width, squashed.height] }),
    input: [input.width, input.height],
    scale: normalize.scale,
    mean: normalize.mean,
    std: normalize.std,
  };
}

/**
 * Inference with TensorRT through the native binding (native/): the engine is built from the ONNX model on first
 * start (FP16 where the GPU supports it, on TensorRT 8.5 to 10) and cached by model, TensorRT and CUDA versions,
 * GPU, precision, profile and workspace; later starts load it. Inference runs on a CUDA stream with buffers
 * allocated once; runImage() preprocesses on the GPU (detection). An input the profile does not cover is refused
 * before the engine sees it (options.modelInput).
 */
export class TensorRtBackend implements InferenceBackend {
  readonly name = 'tensorrt';
  private model?: ModelFile;
  private engine?: NativeEngine;
  private readonly spareOutputs: Float32Array[] = [];

  constructor(private readonly options: TensorRtBackendOptions) {}

  get modelId(): string {
    return this.loadedModel().modelId;
  }

  get modelSha256(): string {
    return this.loadedModel().sha256;
  }

  async load(): Promise<void> {
    if (this.engine) return;
    const { options } = this;
    const runtime = options.runtime ?? openTensorRt(options.tensorRtAddonPath);
    const model = options.modelFile ?? (await readModelFile(options.modelPath, options.modelVariable));
    const { device, tensorRtVersion, cudaRuntimeVersion } = runtime;
    const precision = resolvePrecision(options.tensorRtPrecision, device.computeCapability, tensorRtVersion);
    const key: EngineCacheKey = {
      modelSha256: model.sha256,
      tensorRtVersion,
      cudaRuntimeVersion,
      gpuName: device.name,
      computeCapability: device.computeCapability,
      multiprocessors: device.multiprocessors,
      totalMemoryBytes: device.totalMemoryBytes,
      workspaceBytes: resolveWorkspace(options.tensorRtWorkspace, device.totalMemoryBytes),
      precision: options.tensorRtPrecision,
      profile: options.modelInput.profile,
    };
    const cache = new EngineCache(options.tensorRtCacheDir, options.log);
    const cached = await cache.read(key);
    if (cached.plan) {
      try {
        this.engine = new runtime.addon.Engine(cached.plan);
        this.checkEngineProfile(this.engine);
        options.log.info(`TensorRT engine loaded from ${cache.paths(key).engine} (${cached.builtWith.precision})`);
      } catch (error) {
        this.engine?.dispose();
        this.engine = undefined;
        options.log.warn(`cached TensorRT engine ${cache.paths(key).engine} cannot be used (${(error as Error).message}); rebuilding it`);
      }
    } else {
      options.log.info(`building a TensorRT engine: ${cached.reason}`);
    }
    this.engine ??= await this.buildEngine(runtime, model, key, precision, cache);
    this.model = model;
  }

  /**
   * Builds, loads and caches the engine, logging its progress, the time it took and where it was cached. Built from
   * the bytes hashed for the key: a model file replaced meanwhile must not be cached under the old model's key.
   */
  private async buildEngine(runtime: TensorRtRuntime, model: ModelFile, key: EngineCacheKey, precision: 'fp16' | 'fp32', cache: EngineCache): Promise<NativeEngine> {
    const { log, modelPath, onActivity } = this.options;
    const { device } = runtime;
    const mib = (bytes: number) => `${Math.round(bytes / 1024 ** 2)} MiB`;
    log.info(
      `building the TensorRT ${key.tensorRtVersion} engine for ${modelPath} on ${device.name} (${device.computeCapability}, ${device.multiprocessors} SMs, ` +
        `${mib(device.totalMemoryBytes)}), ${precision}, profile ${this.options.modelInput.describe()}, workspace ${mib(key.workspaceBytes)}; ` +
        'this takes minutes on a Jetson and happens once per device',
    );
    const started = performance.now();
    onActivity?.('building engine');
    let plan: Uint8Array;
    try {
      plan = await runtime.addon.buildEngine(model.bytes, {
        modelPath: resolve(modelPath),
        fp16: precision === 'fp16',
        profile: key.profile,
        workspaceBytes: key.workspaceBytes,
        onProgress: engineBuildProgressLog(log),
      });
    } finally {
      onActivity?.(undefined);
    }
    const engine = new runtime.addon.Engine(plan);
    const took = `${((performance.now() - started) / 1000).toFixed(1)} s`;
    const cached = await cache.write(key, plan, { precision });
    log.info(`TensorRT engine built in ${took}${cached ? `, cached at ${cache.paths(key).engine}` : ', not cached (see the warning before)'}`);
    return engine;
  }

  /** The input may be reused as soon as this returns its promise: the binding copies it before then. */
  async run(input: TensorData): Promise<TensorData> {
    const engine = this.loadedEngine();
    const { dims, data } = input;
    this.options.modelInput.check(dims);
    if (data.length !== elements(dims)) throw new RangeError(`${this.name}: input [${dims.join(', ')}] needs ${elements(dims)} values, got ${data.length}`);
    const output = this.outputFor(engine, dims);
    return { data: output, dims: await engine.inferTensor(data, dims, output) };
  }

  /** The frame may be reused as soon as this returns its promise, as run()'s input. */
  async runImage(image: ImageView, preprocessing: ImagePreprocessing): Promise<TensorData> {
    const engine = this.loadedEngine();
    const plan = devicePreprocessPlan(image, preprocessing);
    const [width, height] = plan.input;
    const dims = [1, 3, height, width];
    this.options.modelInput.check(dims);
    const output = this.outputFor(engine, dims);
    const geometry = { width: image.width, height: image.height, stride: image.stride };
    return { data: output, dims: await engine.inferImage(image.data, geometry, plan, output) };
  }

  recycle(output: TensorData): void {
    // Keep two: one being postprocessed while the next frame is in the model, one spare.
    if (this.spareOutputs.length < 2) this.spareOutputs.push(output.data);
  }

  async dispose(): Promise<void> {
    this.engine?.dispose();
    this.engine = undefined;
    this.model = undefined;
    this.spareOutputs.length = 0;
  }

  /**
   * An output array for an input shape, sized by the engine (the DB model's map is [1, 1, H, W], the recognition
   * model's time steps follow the input's width): a recycled one of that size, or a new one.
   */
  private outputFor(engine: NativeEngine, dims: NativeShape): Float32Array {
    const length = elements(engine.outputDims(dims));
    const index = this.spareOutputs.findIndex((spare) => spare.length === length);
    return index >= 0 ? this.spareOutputs.splice(index, 1)[0] : new Float32Array(length);
  }

  /** An engine whose own profile is not the configured one is stale, whatever its sidecar says. */
  private checkEngineProfile(engine: NativeEngine): void {
    const actual = engine.profile();
    const wanted = this.options.modelInput.profile;
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) {
      throw new Error(`its profile ${JSON.stringify(actual)} is not the configured ${JSON.stringify(wanted)}`);
    }
  }

  private loadedEngine(): NativeEngine {
    if (!this.engine) throw new Error(`${this.name}: load() has not completed`);
    return this.engine;
  }

  private loadedModel(): ModelFile {
    if (!this.model) throw new Error(`${this.name}: load() has not completed`);
    return this.model;
  }
}
