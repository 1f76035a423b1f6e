import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixedImageSize, inputRefusal, readModelInput, type ModelInput } from './model-input';
import { withFixedInputDims } from './onnx-graph/onnx-model';

const MODELS = join(__dirname, '../../../../models');
const detector = readFileSync(join(MODELS, 'ch_PP-OCRv4_det_infer.onnx'));

describe('readModelInput', () => {
  it("reads a model's first input from its file, open dimensions as undefined", () => {
    expect(readModelInput(detector)).toEqual({ name: 'x', type: 'float32', dims: [undefined, 3, undefined, undefined] });
    expect(readModelInput(readFileSync(join(MODELS, 'ch_PP-OCRv4_rec_infer.onnx')))).toEqual({ name: 'x', type: 'float32', dims: [undefined, 3, 48, undefined] });
  });

  it('reads the dimensions withFixedInputDims fixed, and the others as they were', () => {
    expect(readModelInput(withFixedInputDims(detector, [1, undefined, 640, 480]))?.dims).toEqual([1, 3, 640, 480]);
    expect(readModelInput(withFixedInputDims(detector, [undefined, undefined, 640]))?.dims).toEqual([undefined, 3, 640, undefined]);
  });

  it('refuses bytes that are no ONNX model', () => {
    expect(() => readModelInput(new TextEncoder().encode('not a model'))).toThrow(RangeError);
  });
});

describe('inputRefusal', () => {
  const input = (...dims: Array<number | undefined>): ModelInput => ({ name: 'x', type: 'float32', dims });

  it('takes frames of any size, or of the one size a detection model fixes', () => {
    expect(inputRefusal(input(undefined, 3, undefined, undefined), { batch: 4, frames: true })).toBeUndefined();
    expect(inputRefusal(input(1, 3, 640, 640), { batch: 1, frames: true })).toBeUndefined();
  });

  it('refuses a detection model with only one side fixed, and takes it for lines (the recognizer: 48 high, any width)', () => {
    expect(inputRefusal(input(undefined, 3, 640, undefined), { batch: 1, frames: true })).toBe(
      'its input x is float32 [?, 3, 640, ?]; expected float32 [N, 3, H, W] with N dynamic or 1, for batches of up to 1, and H and W both dynamic or both fixed',
    );
    expect(inputRefusal(input(undefined, 3, 48, undefined), { batch: 6 })).toBeUndefined();
  });

  it.each([
    ['a fixed batch that cannot take the batches sent', input(1, 3, 640, 640), 2],
    ['a fixed batch larger than one frame', input(2, 3, 640, 640), 1],
    ['channels other than 3', input(1, 1, 640, 640), 1],
    ['another rank', input(3, 640, 640), 1],
  ])('refuses %s, naming the shape', (_, refused, batch) => {
    expect(inputRefusal(refused, { batch, frames: true })).toMatch(/^its input x is float32 \[[0-9?, ]+\]; expected float32 \[N, 3, H, W\]/);
  });

  it('takes any batch a model fixes where runs are cut to it and padded up to it (the recognizer), and still its channels and type', () => {
    for (const batch of [1, 4, 8]) expect(inputRefusal(input(batch, 3, 48, 320), { batch: 6, fitsFixedBatch: true })).toBeUndefined();
    expect(inputRefusal(input(undefined, 1, 48, 320), { batch: 6, fitsFixedBatch: true })).toBe('its input x is float32 [?, 1, 48, 320]; expected float32 [N, 3, H, W]');
    expect(inputRefusal({ name: 'x', type: 'float16', dims: [1, 3, 48, 320] }, { batch: 6, fitsFixedBatch: true })).toBe('its input x is float16 [1, 3, 48, 320]; expected float32 [N, 3, H, W]');
  });

  it('refuses an input that is no float32 tensor', () => {
    expect(inputRefusal({ name: 'x', type: 'uint8', dims: [1, 3, 640, 640] }, { batch: 1 })).toMatch(/^its input x is uint8 \[1, 3, 640, 640\]/);
    expect(inputRefusal({ name: 'x', dims: [] }, { batch: 1 })).toMatch(/^its first input is no tensor/);
    expect(inputRefusal(undefined, { batch: 1 })).toMatch(/^its first input is no tensor/);
  });
});

describe('fixedImageSize', () => {
  it('is the size where both sides are fixed, else none', () => {
    expect(fixedImageSize({ name: 'x', dims: [1, 3, 480, 640] })).toEqual({ width: 640, height: 480 });
    expect(fixedImageSize({ name: 'x', dims: [1, 3, undefined, undefined] })).toBeUndefined();
    expect(fixedImageSize({ name: 'x', dims: [1, 3, 48, undefined] })).toBeUndefined();
  });
});
