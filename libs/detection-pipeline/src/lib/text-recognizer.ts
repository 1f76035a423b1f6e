import { OnnxRuntimeBackend, type InferenceBackend } from '@iev/inference-backends';
import type { ImageView } from '@iev/text-detection';
import { CharacterSet, decodeCtc, perspectiveCrop, resolveLookalikes, planBatches, REC_HEIGHT, REC_MIN_WIDTH, writeRecognitionInput, type Corners, type ReadText } from '@iev/text-recognition';

export interface TextRecognizerOptions {
  /** REC_MODEL_PATH: a PaddleOCR CTC recognition model, input [N,3,48,W], output [N,T,classes]. */
  modelPath: string;
  /** REC_DICT_PATH: its character dictionary, one character per line. */
  dictionaryPath: string;
  /** ONNX Runtime threads; 0 = ONNX Runtime's default (one per core). */
  threads?: number;
}

const NOTHING_READ: ReadText = { text: '', score: 0 };

/**
 * PaddleOCR text recognition (predict_rec): each quad cropped upright from the frame, crops batched by aspect
 * ratio, the model run off the main thread on the backend's worker, CTC greedy decoding with the dictionary, then
 * O/0 told apart by their neighbours (resolveLookalikes).
 */
export class TextRecognizer {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly backend: InferenceBackend,
    readonly characters: CharacterSet,
  ) {}

  /**
   * Loads the model and the dictionary and checks they fit each other (the model's class count is the
   * dictionary's size + blank + space); a missing file or a mismatch stops here, naming the file.
   */
  static async load(options: TextRecognizerOptions, backend: InferenceBackend = new OnnxRuntimeBackend({ modelPath: options.modelPath, modelVariable: 'REC_MODEL_PATH', intraOpThreads: options.threads ?? 0 })): Promise<TextRecognizer> {
    const characters = CharacterSet.fromFile(options.dictionaryPath);
    await backend.load();
    try {
      // One blank line through the model: its class count, and the session warmed up before the first frame.
      const probe = await backend.run({ data: new Float32Array(3 * REC_HEIGHT * REC_MIN_WIDTH), dims: [1, 3, REC_HEIGHT, REC_MIN_WIDTH] }).catch((error: Error) => {
        throw new Error(`the recognition model ${options.modelPath} cannot read a 48-pixel-high line image (${error.message.trim()}): is it a PaddleOCR CTC recognition model?`);
      });
      if (probe.dims.length !== 3) throw new Error(`the recognition model ${options.modelPath} outputs [${probe.dims.join(',')}], expected [N, time steps, classes]: is it a PaddleOCR CTC recognition model?`);
      characters.assertFits(probe.dims[2], options.modelPath, options.dictionaryPath);
    } catch (error) {
      await backend.dispose();
      throw error;
    }
    return new TextRecognizer(backend, characters);
  }

  get modelId(): string {
    return this.backend.modelId;
  }

  /**
   * Reads each quad (clockwise from top-left, in the image's pixels); a quad with no area reads as ''. Calls
   * queue behind each other: the backend runs one batch at a time.
   */
  read(image: ImageView, quads: readonly Corners[]): Promise<ReadText[]> {
    return this.readCrops(quads.map((quad) => perspectiveCrop(image, quad)));
  }

  /**
   * Reads crops already cut from a frame (perspectiveCrop; undefined, a quad with no area, reads as ''), e.g.
   * while the frame itself moves on; queues like read().
   */
  readCrops(crops: readonly (ImageView | undefined)[]): Promise<ReadText[]> {
    const reading = this.queue.then(() => this.readNow(crops));
    this.queue = reading.then(
      () => undefined,
      () => undefined,
    );
    return reading;
  }

  private async readNow(crops: readonly (ImageView | undefined)[]): Promise<ReadText[]> {
    const reads: ReadText[] = crops.map(() => NOTHING_READ);
    const present = crops.flatMap((crop, index) => (crop ? [{ crop, index }] : []));
    for (const batch of planBatches(present.map(({ crop }) => crop))) {
      const tensor = new Float32Array(batch.indices.length * 3 * REC_HEIGHT * batch.width);
      batch.indices.forEach((cropIndex, row) => writeRecognitionInput(present[cropIndex].crop, tensor, row, batch.width));
      const output = await this.backend.run({ data: tensor, dims: [batch.indices.length, 3, REC_HEIGHT, batch.width] });
      const [, timeSteps, classes] = output.dims;
      batch.indices.forEach((cropIndex, row) => {
        const { text, score } = decodeCtc(output.data, row * timeSteps * classes, timeSteps, this.characters);
        reads[present[cropIndex].index] = { text: resolveLookalikes(text), score };
      });
      this.backend.recycle?.(output);
    }
    return reads;
  }

  dispose(): Promise<void> {
    return this.backend.dispose();
  }
}
