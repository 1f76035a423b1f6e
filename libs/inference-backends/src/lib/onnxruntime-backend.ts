import * as ort from 'onnxruntime-node';
import type { InferenceBackend, TensorData } from './inference-backend';
import { readModelFile, type ModelFile } from './model-file';

export interface OnnxRuntimeBackendOptions {
  modelPath: string;
  /** Threads for one operator; 0 lets ONNX Runtime choose (one per core). */
  intraOpThreads?: number;
  /** Threads across independent operators; the DB model is a chain, so 1 is right. */
  interOpThreads?: number;
}

/** The CPU backend: onnxruntime-node's default execution provider. */
export class OnnxRuntimeBackend implements InferenceBackend {
  readonly name = 'onnxruntime-cpu';
  private session?: ort.InferenceSession;
  private model?: ModelFile;

  constructor(private readonly options: OnnxRuntimeBackendOptions) {}

  get modelId(): string {
    return this.loaded().model.modelId;
  }

  get modelSha256(): string {
    return this.loaded().model.sha256;
  }

  async load(): Promise<void> {
    if (this.session) return;
    const model = await readModelFile(this.options.modelPath);
    this.session = await ort.InferenceSession.create(model.bytes, {
      intraOpNumThreads: this.options.intraOpThreads ?? 0,
      interOpNumThreads: this.options.interOpThreads ?? 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    this.model = model;
  }

  async run(input: TensorData): Promise<TensorData> {
    const { session } = this.loaded();
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) };
    const outputs = await session.run(feeds);
    const output = outputs[session.outputNames[0]];
    return { data: output.data as Float32Array, dims: output.dims };
  }

  async dispose(): Promise<void> {
    await this.session?.release();
    this.session = undefined;
  }

  private loaded(): { session: ort.InferenceSession; model: ModelFile } {
    if (!this.session || !this.model) throw new Error(`${this.name}: load() has not completed`);
    return { session: this.session, model: this.model };
  }
}
