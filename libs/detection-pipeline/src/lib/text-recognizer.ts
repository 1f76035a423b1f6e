import type { InferenceBackend } from '@iev/inference-backends';
import type { ImageView } from '@iev/text-detection';
import { CharacterSet, decodeCtc, perspectiveCrop, resolveLookalikes, planBatches, REC_HEIGHT, REC_MIN_WIDTH, writeRecognitionInput, type Corners, type ReadText } from '@iev/text-recognition';
import { selectRecognitionBackend, type RecognitionBackend, type RecognitionBackendSelection } from './backend-selection';

export interface TextRecognizerOptions extends Partial<Omit<RecognitionBackendSelection, 'modelPath' | 'threads'>> {
  /** REC_MODEL_PATH: a PaddleOCR CTC recognition model, input [N,3,48,W], output [N,T,classes]. */
  modelPath: string;
  /** REC_DICT_PATH: its character dictionary, one character per line. */
  dictionaryPath: string;
  /** ONNX Runtime threads; 0 = ONNX Runtime's default (one per core). */
  threads?: number;
}

/** What a line reads as when it could not be read: score 0, so below any minScore. */
export const NOTHING_READ: ReadText = { text: '', score: 0 };

/**
 * PaddleOCR text recognition (predict_rec): each quad cropped upright from the frame, crops batched by aspect
 * ratio, the model run off the main thread on the backend's worker, CTC greedy decoding with the dictionary, then
 * O/0 told apart by their neighbours (resolveLookalikes).
 */
export class TextRecognizer {
  private queue: Promise<void> = Promise.resolve();

  /**
   * `maxWidth`: the widest batch input the backend takes (a TensorRT engine's profile). A batch whose widest line
   * needs more is made that wide, and writeRecognitionInput squashes the line into it, as PaddleOCR's
   * resize_norm_img does for a line wider than its input: the line is still read, where the engine would refuse it.
   * `runCostColumns`: how lines are split into batches (BatchPlanning).
   */
  constructor(
    readonly backend: InferenceBackend,
    readonly characters: CharacterSet,
    readonly maxWidth = Number.POSITIVE_INFINITY,
    readonly runCostColumns?: number,
  ) {}

  /**
   * Loads the model and the dictionary and checks they fit each other (the model's class count is the
   * dictionary's size + blank, + space when it was trained with one); a missing file or a mismatch stops here, naming the file. The backend
   * follows the detector's rules (USE_TENSOR_RT, INFERENCE_BACKEND; ONNX Runtime on the CPU when neither is given).
   */
  static async load(options: TextRecognizerOptions, chosen: RecognitionBackend = selectRecognitionBackend({ useTensorRt: false, ...options, threads: options.threads ?? 0 })): Promise<TextRecognizer> {
    const { backend, maxWidth, runCostColumns } = chosen;
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
    return new TextRecognizer(backend, characters, maxWidth, runCostColumns);
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
    for (const batch of planBatches(present.map(({ crop }) => crop), { runCostColumns: this.runCostColumns })) {
      const width = Math.min(batch.width, this.maxWidth);
      const tensor = new Float32Array(batch.indices.length * 3 * REC_HEIGHT * width);
      batch.indices.forEach((cropIndex, row) => writeRecognitionInput(present[cropIndex].crop, tensor, row, width));
      const output = await this.backend.run({ data: tensor, dims: [batch.indices.length, 3, REC_HEIGHT, width] });
      // The time steps follow the width (about an eighth of it for PP-OCRv4: 40 at 320); read them from the output, never assume them.
      const [, timeSteps, classes] = output.dims;
      batch.indices.forEach((cropIndex, row) => {
        const { text, score } = decodeCtc(output.data, row * timeSteps * classes, timeSteps, this.characters, classes);
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
