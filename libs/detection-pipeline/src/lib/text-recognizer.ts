import { checkedModelInput, formatDims, processWarnings, readModelFile, type BackendLog, type InferenceBackend, type ModelFile, type TensorData } from '@iev/inference-backends';
import type { ImageView } from '@iev/text-detection';
import {
  CharacterSet,
  decodeCtc,
  describeLineInput,
  DYNAMIC_LINE_INPUT,
  perspectiveCrop,
  planBatches,
  RECOGNITION_FILE_VARIABLES,
  REC_BATCH_SIZE,
  REC_HEIGHT,
  inWritingOrder,
  resolveLookalikes,
  resolvesLookalikes,
  writeRecognitionInput,
  type Corners,
  type LineInput,
  type LookalikesSetting,
  type ReadText,
  type RecognitionFileSettings,
} from '@iev/text-recognition';
import { selectRecognitionBackend, type RecognitionBackendSelection } from './backend-selection';

export interface TextRecognizerOptions extends Partial<Omit<RecognitionBackendSelection, 'modelPath' | 'modelVariable' | 'threads' | 'lineInput'>> {
  /**
   * REC_MODEL_PATH: a PaddleOCR CTC recognition model, input [N,3,48,W] (a static-shape export may fix N, H and W),
   * output [N,T,classes].
   */
  modelPath: string;
  /** REC_DICT_PATH: its character dictionary, one character per line. */
  dictionaryPath: string;
  /** The settings that set modelPath and dictionaryPath, named in the errors about them (default REC_MODEL_PATH, REC_DICT_PATH; the CLI's flags). */
  fileSettings?: RecognitionFileSettings;
  /** ONNX Runtime threads; 0 = ONNX Runtime's default (one per core). */
  threads?: number;
  /** REC_LOOKALIKES: whether reads go through resolveLookalikes (resolvesLookalikes); default auto. */
  lookalikes?: LookalikesSetting;
}

/** What a line reads as when it could not be read: score 0, so below any minScore. */
export const NOTHING_READ: ReadText = { text: '', score: 0 };

/**
 * PaddleOCR text recognition (predict_rec): each quad cropped upright from the frame, crops batched by aspect
 * ratio, the model run off the main thread on the backend's worker, CTC greedy decoding with the dictionary, a line
 * of right-to-left script turned round (inWritingOrder), then, for the model it was measured on, O/0 told apart by
 * their neighbours (resolveLookalikes).
 */
export class TextRecognizer {
  private queue: Promise<void> = Promise.resolve();

  /**
   * `maxWidth`: the widest batch input the backend takes (a TensorRT engine's profile). A batch whose widest line
   * needs more is made that wide, and writeRecognitionInput squashes the line into it, as PaddleOCR's
   * resize_norm_img does for a line wider than its input: the line is still read, where the engine would refuse it.
   * `runCostColumns`: how lines are split into batches (BatchPlanning). `lineInput`: the height, and the width and
   * batch where the model fixes them, that every batch is made to. `lookalikes`: reads go through resolveLookalikes
   * (by default as REC_LOOKALIKES=auto has it for the dictionary).
   */
  constructor(
    readonly backend: InferenceBackend,
    readonly characters: CharacterSet,
    readonly maxWidth = Number.POSITIVE_INFINITY,
    readonly runCostColumns?: number,
    readonly lineInput: LineInput = DYNAMIC_LINE_INPUT,
    readonly lookalikes = resolvesLookalikes('auto', characters.sha256),
  ) {}

  /**
   * Loads the model and the dictionary and checks they fit each other (the model's class count is the
   * dictionary's size + blank, + space when it was trained with one); a missing file or a mismatch stops here, naming the file, and a
   * model without a space class is warned of (a dictionary with one line too many looks the same). The backend
   * follows the detector's rules (USE_TENSOR_RT, INFERENCE_BACKEND; ONNX Runtime on the CPU when neither is given).
   * The model's input is read from its file first: lines are made to the size it fixes (checkedLineInput).
   */
  static async load(options: TextRecognizerOptions): Promise<TextRecognizer> {
    const { fileSettings = RECOGNITION_FILE_VARIABLES } = options;
    const characters = CharacterSet.fromFile(options.dictionaryPath, fileSettings.dictionary);
    const log = options.log ?? processWarnings;
    // Read once: its input is checked here, and the backend loads the same bytes.
    const modelFile = await readModelFile(options.modelPath, fileSettings.model);
    const lineInput = checkedLineInput(modelFile, log);
    const { backend, maxWidth, runCostColumns } = selectRecognitionBackend({ useTensorRt: false, ...options, modelFile, modelVariable: fileSettings.model, lineInput, threads: options.threads ?? 0 });
    const { height, width = height, batch = 1 } = lineInput;
    await backend.load();
    try {
      // One blank run through the model: its class count, and the session warmed up before the first frame.
      const probe = await backend.run({ data: new Float32Array(batch * 3 * height * width), dims: [batch, 3, height, width] }).catch((error: Error) => {
        throw new Error(`the recognition model ${options.modelPath} cannot read a ${height}-pixel-high line image (${error.message.trim()}): is it a PaddleOCR CTC recognition model?`);
      });
      if (probe.dims.length !== 3) throw new Error(`the recognition model ${options.modelPath} outputs [${probe.dims.join(',')}], expected [N, time steps, classes]: is it a PaddleOCR CTC recognition model?`);
      assertProbabilities(probe, options.modelPath, fileSettings.model);
      characters.assertFits(probe.dims[2], options.modelPath, options.dictionaryPath, fileSettings);
      // The class count cannot tell such a model from a dictionary with one character too many: say which was taken.
      if (!characters.readsSpaces) {
        log.warn(
          `the recognition model ${options.modelPath} (${fileSettings.model}) predicts ${probe.dims[2]} classes: the ${characters.classCount - 1} characters of ${options.dictionaryPath} (${fileSettings.dictionary}) + blank, no space class, ` +
            `so no space is read (a model trained without use_space_char); if the dictionary has a line too many, its last, "${characters.characters.at(-1)}", is read where the model sees a space`,
        );
      }
    } catch (error) {
      await backend.dispose();
      throw error;
    }
    return new TextRecognizer(backend, characters, maxWidth, runCostColumns, lineInput, resolvesLookalikes(options.lookalikes ?? 'auto', characters.sha256));
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
    const { height, batch: fixedBatch } = this.lineInput;
    for (const batch of planBatches(present.map(({ crop }) => crop), { runCostColumns: this.runCostColumns, lineInput: this.lineInput })) {
      const width = Math.min(batch.width, this.maxWidth);
      // The rows past the batch's lines, where the model fixes more, stay zero: blank lines whose reads are not decoded.
      const rows = fixedBatch ?? batch.indices.length;
      const tensor = new Float32Array(rows * 3 * height * width);
      batch.indices.forEach((cropIndex, row) => writeRecognitionInput(present[cropIndex].crop, tensor, row, width, height));
      const output = await this.backend.run({ data: tensor, dims: [rows, 3, height, width] });
      // The time steps follow the width (about an eighth of it for PP-OCRv4: 40 at 320); read them from the output, never assume them.
      const [, timeSteps, classes] = output.dims;
      batch.indices.forEach((cropIndex, row) => {
        const { text, score } = decodeCtc(output.data, row * timeSteps * classes, timeSteps, this.characters, classes);
        const written = inWritingOrder(text);
        reads[present[cropIndex].index] = { text: this.lookalikes ? resolveLookalikes(written) : written, score };
      });
      this.backend.recycle?.(output);
    }
    return reads;
  }

  dispose(): Promise<void> {
    return this.backend.dispose();
  }
}

/**
 * Refuses a model whose output is not a softmax (its first time step's classes do not sum to 1): its reads would be
 * right, but their scores, the mean of the characters' outputs, would be logits, which REC_MIN_SCORE cannot filter.
 */
function assertProbabilities(output: TensorData, modelPath: string, modelSetting: string): void {
  const classes = output.dims[2];
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += output.data[c];
  // Written so that a NaN (a broken FP16 engine) fails it too.
  if (!(Math.abs(sum - 1) <= 0.01)) {
    throw new Error(
      `the recognition model ${modelPath} (${modelSetting}) outputs no probabilities: the ${classes} classes of a time step sum to ${sum.toFixed(2)}, not 1 ` +
        '(exported without its last softmax?); the scores of its reads would not be scores',
    );
  }
}

/**
 * The recognition model's input as its file declares it, read before the model loads: float32 with 3 channels, or
 * refused naming the file and its shape (every run would fail otherwise). Its height is the line height (48, PaddleOCR's
 * rec_image_shape, where it is open); a width or batch it fixes is the one every run is made to, said once here.
 */
function checkedLineInput(modelFile: ModelFile, log: BackendLog): LineInput {
  const input = checkedModelInput(modelFile, { batch: REC_BATCH_SIZE, fitsFixedBatch: true });
  const { path: modelPath } = modelFile;
  const [batch, , height = REC_HEIGHT, width] = input.dims;
  const lineInput: LineInput = { height, ...(width !== undefined && { width }), ...(batch !== undefined && { batch }) };
  if (height !== REC_HEIGHT || width !== undefined || batch !== undefined) {
    log.info(`${modelPath}: its input ${input.name} is fixed at ${formatDims(input.dims)}, so ${describeLineInput(lineInput)}`);
  }
  return lineInput;
}
