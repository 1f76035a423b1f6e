import { readBgrImage } from '@iev/testing';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTextFrameSet } from '@iev/text-detection';
import { makeNode, OnnxGraph, OnnxRuntimeBackend, type InferenceBackend, type TensorData } from '@iev/inference-backends';
import { probeTensorRt, REC_MAX_WIDTH } from '@iev/tensorrt-backend';
import { CharacterSet, evaluateTextSpotting, type Corners, type SpottingFrame } from '@iev/text-recognition';
import { TextRecognizer } from './text-recognizer';

const ROOT = join(__dirname, '../../../..');
const REC_MODEL = join(ROOT, 'models/ch_PP-OCRv4_rec_infer.onnx');
const DICTIONARY = join(ROOT, 'models/ppocr_keys_v1.txt');

jest.setTimeout(60_000);

/** Given the true boxes of a frame set, recognition alone: nearly every line word for word, and 99 % of characters. */
async function expectTrueLinesRead(recognizer: TextRecognizer, set: string): Promise<void> {
  const frames = readTextFrameSet(join(ROOT, 'testdata/text-frames', set));
  const spotted: SpottingFrame[] = [];
  for (const frame of frames) {
    const reads = await recognizer.read(readBgrImage(frame.path, frame.width, frame.height), frame.truth as unknown as Corners[]);
    spotted.push({
      truth: frame.truth.map((quad, i) => ({ quad, text: frame.texts?.[i] ?? '' })),
      predictions: frame.truth.map((quad, i) => ({ quad, text: reads[i].text })),
    });
    expect(reads.every((read) => read.score > 0 && read.score <= 1)).toBe(true);
  }
  const scores = evaluateTextSpotting(spotted);
  expect(scores.recall).toBeGreaterThanOrEqual(0.95);
  expect(scores.characterAccuracy).toBeGreaterThanOrEqual(0.99);
}

describe('TextRecognizer (PP-OCRv4 recognition, real model)', () => {
  let recognizer: TextRecognizer;
  beforeAll(async () => {
    recognizer = await TextRecognizer.load({ modelPath: REC_MODEL, dictionaryPath: DICTIONARY, threads: 1 });
  });
  afterAll(() => recognizer.dispose());

  it.each(['dev-a', 'dev-b'])('reads the true lines of %s from their crops', (set) => expectTrueLinesRead(recognizer, set));

  it("tells O from 0 by their neighbours on this model, whose dictionary's models it was measured on, unless told not to", async () => {
    expect(recognizer.lookalikes).toBe(true);
    const plain = await TextRecognizer.load({ modelPath: REC_MODEL, dictionaryPath: DICTIONARY, threads: 1, lookalikes: 'off' });
    try {
      expect(plain.lookalikes).toBe(false);
    } finally {
      await plain.dispose();
    }
  });

  it('reads the quads it is given in their order, and nothing from a quad with no area', async () => {
    const [frame] = readTextFrameSet(join(ROOT, 'testdata/text-frames/dev-b'));
    const image = readBgrImage(frame.path, frame.width, frame.height);
    const quads = frame.truth.slice(0, 3) as unknown as Corners[];
    const reads = await recognizer.read(image, [quads[2], [[5, 5], [5, 5], [5, 5], [5, 5]], quads[0]]);
    const [third, , first] = await Promise.all([recognizer.read(image, [quads[2]]), recognizer.read(image, []), recognizer.read(image, [quads[0]])]);
    // A crop batched beside another is padded to the wider one, which moves its score in the fourth decimal.
    expect(reads.map((read) => read.text)).toEqual([third[0].text, '', first[0].text]);
    expect(reads[0].score).toBeCloseTo(third[0].score, 2);
    expect(reads[1].score).toBe(0);
  });
});

describe('TextRecognizer with a backend that takes batches up to a maximum width (a TensorRT engine\'s profile)', () => {
  let cpu: OnnxRuntimeBackend;
  beforeAll(async () => {
    cpu = new OnnxRuntimeBackend({ modelPath: REC_MODEL, intraOpThreads: 1 });
    await cpu.load();
  });
  afterAll(() => cpu.dispose());

  /** The real model, recording the input and output dims of each batch it runs. */
  function recording(): { backend: InferenceBackend; runs: { input: readonly number[]; output: readonly number[] }[] } {
    const runs: { input: readonly number[]; output: readonly number[] }[] = [];
    const backend: InferenceBackend = Object.assign(Object.create(cpu) as InferenceBackend, {
      run: async (input: TensorData) => {
        const output = await cpu.run(input);
        runs.push({ input: input.dims, output: output.dims });
        return output;
      },
    });
    return { backend, runs };
  }

  it('never asks for a wider batch, squashes a wider line into it, and decodes the time steps the output has', async () => {
    const [frame] = readTextFrameSet(join(ROOT, 'testdata/text-frames/dev-b'));
    const image = readBgrImage(frame.path, frame.width, frame.height);
    const quads = frame.truth as unknown as Corners[];
    const unlimited = recording();
    const limited = recording();
    const free = await new TextRecognizer(unlimited.backend, CharacterSet.fromFile(DICTIONARY)).read(image, quads);
    const narrowed = await new TextRecognizer(limited.backend, CharacterSet.fromFile(DICTIONARY), 160).read(image, quads);
    const widest = Math.max(...unlimited.runs.map((run) => run.input[3]));
    expect(widest).toBeGreaterThan(160);
    expect(limited.runs.map((run) => run.input[3])).toEqual(unlimited.runs.map((run) => Math.min(run.input[3], 160)));
    // The time steps follow the width: fewer for the narrowed batches, and each read from its own output.
    for (const run of limited.runs) expect(run.output).toEqual([run.input[0], expect.any(Number), 6625]);
    expect(limited.runs.map((run) => run.output[1])).not.toEqual(unlimited.runs.map((run) => run.output[1]));
    // Every line is still read, squashed ones too (if less well); lines in batches that fit read as before.
    expect(narrowed.every((read) => read.score > 0)).toBe(true);
    expect(narrowed.filter((read, i) => read.text === free[i].text).length).toBeGreaterThan(0);
  });
});

const tensorRt = probeTensorRt();
const needsTensorRt = tensorRt.available ? describe : describe.skip;

needsTensorRt(`TextRecognizer on TensorRT${tensorRt.available ? '' : ` (needs TensorRT, absent on this machine: ${tensorRt.error.message.split(':')[0]})`}`, () => {
  let recognizer: TextRecognizer;
  let cacheDir: string;
  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'iev-rec-trt-'));
    recognizer = await TextRecognizer.load({ modelPath: REC_MODEL, dictionaryPath: DICTIONARY, backend: 'tensorrt', tensorRtCacheDir: cacheDir, tensorRtPrecision: 'fp32' });
  }, 30 * 60_000);
  afterAll(async () => {
    await recognizer?.dispose();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('keeps its batches within the engine\'s width', () => expect(recognizer.maxWidth).toBe(REC_MAX_WIDTH));

  it.each(['dev-a', 'dev-b'])('reads the true lines of %s as well as on the CPU', (set) => expectTrueLinesRead(recognizer, set));
});

describe('TextRecognizer.load follows the detector\'s backend rules', () => {
  const noBinding = { modelPath: REC_MODEL, dictionaryPath: DICTIONARY, threads: 1, tensorRtAddonPath: '/nonexistent/tensorrt_addon.node' };

  it('refuses USE_TENSOR_RT=True without a usable TensorRT, saying what is missing', async () => {
    await expect(TextRecognizer.load({ ...noBinding, useTensorRt: true })).rejects.toThrow(/^TensorRT was requested \(USE_TENSOR_RT=True\) but the TensorRT binding is not built/);
  });

  it('falls back to the CPU for INFERENCE_BACKEND=auto, logging why, and reads with no width limit', async () => {
    const warnings: string[] = [];
    const recognizer = await TextRecognizer.load({ ...noBinding, backend: 'auto', log: { info: () => undefined, warn: (line) => warnings.push(line) } });
    try {
      expect(recognizer.backend).toBeInstanceOf(OnnxRuntimeBackend);
      expect(recognizer.maxWidth).toBe(Number.POSITIVE_INFINITY);
      expect(warnings).toEqual([expect.stringMatching(/^INFERENCE_BACKEND=auto: running the recognition model with ONNX Runtime on the CPU because TensorRT is not usable here/)]);
    } finally {
      await recognizer.dispose();
    }
  });
});

describe('TextRecognizer.load refuses files that are missing or do not fit, naming them', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'iev-rec-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing model names REC_MODEL_PATH', async () => {
    await expect(TextRecognizer.load({ modelPath: join(dir, 'none.onnx'), dictionaryPath: DICTIONARY })).rejects.toThrow(/none\.onnx.*no such file.*REC_MODEL_PATH/);
  });

  it('a missing dictionary names REC_DICT_PATH', async () => {
    await expect(TextRecognizer.load({ modelPath: REC_MODEL, dictionaryPath: join(dir, 'none.txt') })).rejects.toThrow(/recognition dictionary .*none\.txt.*REC_DICT_PATH/);
  });

  it('a dictionary of another size than the model was trained with names both files, their variables and the counts', async () => {
    const short = join(dir, 'short.txt');
    writeFileSync(short, readFileSync(DICTIONARY, 'utf8').split('\n').slice(0, 100).join('\n'));
    await expect(TextRecognizer.load({ modelPath: REC_MODEL, dictionaryPath: short })).rejects.toThrow(
      `the recognition model ${REC_MODEL} (REC_MODEL_PATH) predicts 6625 classes, but the dictionary ${short} (REC_DICT_PATH) has 100 characters (+ blank = 101, or + blank + space = 102)`,
    );
  });

  it('names the settings its caller says set the files (the CLI its flags) in each error and warning about them', async () => {
    const fileSettings = { model: '--rec-model', dictionary: '--rec-dict' };
    const short = join(dir, 'short-flag.txt');
    writeFileSync(short, readFileSync(DICTIONARY, 'utf8').split('\n').slice(0, 100).join('\n'));
    await expect(TextRecognizer.load({ modelPath: REC_MODEL, dictionaryPath: short, fileSettings })).rejects.toThrow(
      `the recognition model ${REC_MODEL} (--rec-model) predicts 6625 classes, but the dictionary ${short} (--rec-dict) has 100 characters`,
    );
    const gbk = join(dir, 'gbk-flag.txt');
    writeFileSync(gbk, Buffer.from([0xd6, 0xd0, 0x0a]));
    await expect(TextRecognizer.load({ modelPath: REC_MODEL, dictionaryPath: gbk, fileSettings })).rejects.toThrow(`the recognition dictionary ${gbk} (--rec-dict) is not UTF-8 text`);
    await expect(TextRecognizer.load({ modelPath: join(dir, 'none.onnx'), dictionaryPath: DICTIONARY, fileSettings })).rejects.toThrow(/none\.onnx: no such file \(set by --rec-model\)$/);

    const longer = join(dir, 'longer-flag.txt');
    writeFileSync(longer, `${readFileSync(DICTIONARY, 'utf8')}\nΩ`);
    const warnings: string[] = [];
    const recognizer = await TextRecognizer.load({ modelPath: REC_MODEL, dictionaryPath: longer, fileSettings, threads: 1, log: { info: () => undefined, warn: (line) => warnings.push(line) } });
    await recognizer.dispose();
    expect(warnings).toEqual([expect.stringContaining(`${REC_MODEL} (--rec-model) predicts 6625 classes: the 6624 characters of ${longer} (--rec-dict) + blank`)]);
  });

  it('a dictionary that fits only as a model without a space class is taken so, with a warning naming its last character', async () => {
    // One character too many fits the 6625 classes as 6624 + blank: the model's space class then reads as that character.
    const longer = join(dir, 'longer.txt');
    writeFileSync(longer, `${readFileSync(DICTIONARY, 'utf8')}\nΩ`);
    const warnings: string[] = [];
    const recognizer = await TextRecognizer.load({ modelPath: REC_MODEL, dictionaryPath: longer, threads: 1, log: { info: () => undefined, warn: (line) => warnings.push(line) } });
    await recognizer.dispose();
    expect(warnings).toEqual([
      `the recognition model ${REC_MODEL} (REC_MODEL_PATH) predicts 6625 classes: the 6624 characters of ${longer} (REC_DICT_PATH) + blank, no space class, ` +
        'so no space is read (a model trained without use_space_char); if the dictionary has a line too many, its last, "Ω", is read where the model sees a space',
    ]);
  });

  it('a model exported without its last softmax is refused: its scores would be logits, which REC_MIN_SCORE cannot filter', async () => {
    const graph = OnnxGraph.read(readFileSync(REC_MODEL));
    graph.nodes = graph.nodes.map((node) => (node.opType === 'Softmax' && graph.boundary.has(node.outputs[0]) ? makeNode('Identity', node.inputs, node.outputs) : node));
    const logits = join(dir, 'logits.onnx');
    writeFileSync(logits, graph.write());
    await expect(TextRecognizer.load({ modelPath: logits, dictionaryPath: DICTIONARY, threads: 1 })).rejects.toThrow(
      /^the recognition model .*logits\.onnx \(REC_MODEL_PATH\) outputs no probabilities: the 6625 classes of a time step sum to -?\d+\.\d\d, not 1/,
    );
    await expect(TextRecognizer.load({ modelPath: logits, dictionaryPath: DICTIONARY, threads: 1, fileSettings: { model: '--rec-model', dictionary: '--rec-dict' } })).rejects.toThrow(
      /^the recognition model .*logits\.onnx \(--rec-model\) outputs no probabilities/,
    );
  });

  it('a detection model where the recognition model should be says what it expected', async () => {
    await expect(TextRecognizer.load({ modelPath: join(ROOT, 'models/ch_pp_inf_dynamic.onnx'), dictionaryPath: DICTIONARY })).rejects.toThrow(/ch_pp_inf_dynamic\.onnx .*is it a PaddleOCR CTC recognition model\?/);
  });
});
