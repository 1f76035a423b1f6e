import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFixedInputDims } from '@iev/inference-backends';
import { readBgrImage, recordingLog } from '@iev/testing';
import { readTextFrameSet, type ImageView } from '@iev/text-detection';
import { editDistance, normalizeText, perspectiveCrop, type Corners } from '@iev/text-recognition';
import { TextRecognizer, type TextRecognizerOptions } from './text-recognizer';

const ROOT = join(__dirname, '../../../..');
/** REC_MODEL_PATH's default, whose input is [N, 3, 48, W] with N and W dynamic. */
const DYNAMIC_MODEL = join(ROOT, 'models/ch_PP-OCRv4_rec_infer.onnx');
const DICTIONARY = join(ROOT, 'models/ppocr_keys_v1.txt');
const quiet = { info: () => undefined, warn: () => undefined };

jest.setTimeout(60_000);

/** Models whose input is fixed as a static-shape export's is: the dynamic model's dims rewritten in its protobuf. */
const dir = mkdtempSync(join(tmpdir(), 'fixed-rec-model-'));
function modelWithInput(name: string, dims: ReadonlyArray<number | undefined>): string {
  const path = join(dir, name);
  writeFileSync(path, withFixedInputDims(readFileSync(DYNAMIC_MODEL), dims));
  return path;
}
/** PaddleOCR's rec_image_shape 3,48,320 exported with a dynamic batch. */
const FIXED_WIDTH = modelWithInput('rec-w320.onnx', [undefined, undefined, 48, 320]);
const ONE_LINE_RUNS = modelWithInput('rec-1x320.onnx', [1, 3, 48, 320]);
const FOUR_LINE_RUNS = modelWithInput('rec-4x320.onnx', [4, 3, 48, 320]);
const GREY = modelWithInput('rec-grey.onnx', [undefined, 1, 48, 320]);

/** A true line of testdata/text-frames: its crop, its width at height 48, and the text gt.json gives it. */
interface Line {
  crop: ImageView;
  naturalWidth: number;
  text: string;
}
const lines: Line[] = ['dev-a', 'dev-b'].flatMap((set) =>
  readTextFrameSet(join(ROOT, 'testdata/text-frames', set)).flatMap((frame) => {
    const image = readBgrImage(frame.path, frame.width, frame.height);
    return frame.truth.flatMap((quad, i) => {
      const crop = perspectiveCrop(image, quad as unknown as Corners);
      const text = frame.texts?.[i];
      return crop && text ? [{ crop, naturalWidth: Math.ceil((48 * crop.width) / crop.height), text }] : [];
    });
  }),
);
const fitting = lines.filter((line) => line.naturalWidth <= 320);
const longer = lines.filter((line) => line.naturalWidth > 320);

const loaded: TextRecognizer[] = [];
async function load(modelPath: string, options: Partial<TextRecognizerOptions> = {}): Promise<TextRecognizer> {
  const recognizer = await TextRecognizer.load({ modelPath, dictionaryPath: DICTIONARY, threads: 1, log: quiet, ...options });
  loaded.push(recognizer);
  return recognizer;
}
/** The input dims of each run the recognizer's backend makes from now on (the real backend, run as it is). */
function recordRuns(recognizer: TextRecognizer): number[][] {
  const runs: number[][] = [];
  const run = recognizer.backend.run.bind(recognizer.backend);
  jest.spyOn(recognizer.backend, 'run').mockImplementation((input) => {
    runs.push([...input.dims]);
    return run(input);
  });
  return runs;
}
const textsOf = async (recognizer: TextRecognizer, of: readonly Line[]) => (await recognizer.readCrops(of.map((line) => line.crop))).map((read) => read.text);

let dynamic: TextRecognizer;
let fixedWidth: TextRecognizer;
beforeAll(async () => {
  [dynamic, fixedWidth] = await Promise.all([load(DYNAMIC_MODEL), load(FIXED_WIDTH)]);
});
afterAll(async () => {
  await Promise.all(loaded.map((recognizer) => recognizer.dispose()));
  rmSync(dir, { recursive: true, force: true });
});

describe('a recognition model whose input width is fixed (rec_image_shape 3,48,320)', () => {
  it('has lines of both kinds in testdata to read', () => {
    expect(fitting.length).toBeGreaterThan(20);
    expect(longer.length).toBeGreaterThan(0);
  });

  it('reads every line at that width, says so once at load, and reads a line that fits as the dynamic model does at that width', async () => {
    const log = recordingLog();
    const fixed = await load(FIXED_WIDTH, { log });
    expect(log.lines.filter((line) => line.includes('fixed'))).toEqual([
      `info: ${FIXED_WIDTH}: its input x is fixed at [?, 3, 48, 320], so every line is resized to height 48 and padded to width 320 (a longer one squashed into it)`,
    ]);
    const runs = recordRuns(fixed);
    const fixedTexts = await textsOf(fixed, fitting);
    // The same input through the dynamic model gives the same reads: the copy runs the same graph.
    const dynamicAt320 = new TextRecognizer(dynamic.backend, dynamic.characters, Number.POSITIVE_INFINITY, undefined, { height: 48, width: 320 }, dynamic.lookalikes);
    expect(fixedTexts).toEqual(await textsOf(dynamicAt320, fitting));
    // Padded to 320 rather than to the batch's widest line, a few lines lose the space between a word and a number
    // ("Dock 14" reads "Dock14"), which is all that differs from the dynamic model's own reads.
    expect(fixedTexts.map(normalizeText)).toEqual((await textsOf(dynamic, fitting)).map(normalizeText));
    expect(runs.length).toBeGreaterThan(1);
    for (const [count, channels, height, width] of runs) expect([count <= 6, channels, height, width]).toEqual([true, 3, 48, 320]);
  });

  it('reads a line longer than that, squashed into it, as (nearly) the characters gt.json gives it', async () => {
    const reads = (await textsOf(fixedWidth, longer)).map(normalizeText);
    const truths = longer.map((line) => normalizeText(line.text));
    reads.forEach((read, i) => {
      expect(read).not.toBe('');
      expect(editDistance(read, truths[i])).toBeLessThanOrEqual(0.2 * truths[i].length);
    });
    expect(reads.filter((read, i) => read === truths[i]).length).toBeGreaterThanOrEqual(0.9 * longer.length);
  });
});

describe('a recognition model whose batch is fixed', () => {
  it('at 1 ([1, 3, 48, 320]) reads several lines one run each, as the model with a dynamic batch does', async () => {
    const log = recordingLog();
    const single = await load(ONE_LINE_RUNS, { log });
    expect(log.lines.filter((line) => line.includes('fixed'))).toEqual([
      `info: ${ONE_LINE_RUNS}: its input x is fixed at [1, 3, 48, 320], so every line is resized to height 48 and padded to width 320 (a longer one squashed into it), one line a run`,
    ]);
    const runs = recordRuns(single);
    const several = fitting.slice(0, 7);
    expect(await textsOf(single, several)).toEqual(await textsOf(fixedWidth, several));
    expect(runs).toEqual(several.map(() => [1, 3, 48, 320]));
  });

  it('at 4 reads 6 lines in runs of 4, the last padded with blank lines', async () => {
    const log = recordingLog();
    const four = await load(FOUR_LINE_RUNS, { log });
    expect(log.lines.filter((line) => line.includes('fixed'))).toEqual([
      `info: ${FOUR_LINE_RUNS}: its input x is fixed at [4, 3, 48, 320], so every line is resized to height 48 and padded to width 320 (a longer one squashed into it), 4 lines a run (fewer padded with blank lines)`,
    ]);
    const runs = recordRuns(four);
    const six = fitting.slice(0, 6);
    expect(await textsOf(four, six)).toEqual(await textsOf(fixedWidth, six));
    expect(runs).toEqual([
      [4, 3, 48, 320],
      [4, 3, 48, 320],
    ]);
  });
});

it('refuses a recognition model that takes other than 3 channels, from its file before the model loads, naming the file and its input', async () => {
  await expect(load(GREY)).rejects.toThrow(new Error(`cannot load ${GREY} (set by REC_MODEL_PATH): its input x is float32 [?, 1, 48, 320]; expected float32 [N, 3, H, W]`));
});
