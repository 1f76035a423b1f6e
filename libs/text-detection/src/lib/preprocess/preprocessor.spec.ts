import { PRESETS } from '../presets';
import type { DetectionPreset, ImageView } from '../types';
import { Preprocessor } from './preprocessor';
import { resizeBilinearU8 } from './resize-bilinear';

const { normalize } = PRESETS.seed;

/** numpy's float32 `(value * scale - mean[c]) / std[c]`, as PaddleOCR's NormalizeImage computes it. */
function normalized(value: number, c: number): number {
  const f = Math.fround;
  return f(f(f(value * f(normalize.scale)) - f(normalize.mean[c])) / f(normalize.std[c]));
}

function noiseImage(width: number, height: number, seed: number, padding = 0): ImageView {
  const stride = width * 3 + padding;
  const data = new Uint8Array(stride * height);
  // xorshift32; Math.* calls are slow in Jest's sandbox, so plain operators only.
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    data[i] = state & 0xff;
  }
  return { data, width, height, stride };
}

const normalizedByChannel = [0, 1, 2].map((c) => Float32Array.from({ length: 256 }, (_, value) => normalized(value, c)));

/** The CHW tensor of normalizing an 8-bit BGR image as it is. */
function normalizedTensor(image: ImageView): Float32Array {
  const { width, height, stride, data } = image;
  const tensor = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    const lookup = normalizedByChannel[c];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) tensor[(c * height + y) * width + x] = lookup[data[y * stride + x * 3 + c]];
    }
  }
  return tensor;
}

/** Where two tensors first differ, or 'equal' (element-wise toEqual is too slow for millions of values). */
function firstDifference(actual: Float32Array, expected: Float32Array): string {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) return `at ${i}: ${actual[i]} vs ${expected[i]}`;
  }
  return 'equal';
}

const fixedSize = (height: number, width: number): DetectionPreset => ({ ...PRESETS.seed, preResize: undefined, resize: { kind: 'fixed', height, width } });

describe('Preprocessor', () => {
  it('normalizes each channel of the BGR data as it is and lays the planes out CHW', () => {
    // Two pixels: (B, G, R) = (0, 128, 255) and (255, 1, 30). A fixed shape equal to the image: no resize.
    const image = { data: new Uint8Array([0, 128, 255, 255, 1, 30]), width: 2, height: 1, stride: 6 };
    const result = new Preprocessor(fixedSize(1, 2)).run(image);
    expect(Array.from(result.tensor)).toEqual([normalized(0, 0), normalized(255, 0), normalized(128, 1), normalized(1, 1), normalized(255, 2), normalized(30, 2)]);
    expect(result.tensor[0]).toBeCloseTo((0 - 0.485) / 0.229, 6);
    expect(result.tensor[5]).toBeCloseTo((30 / 255 - 0.406) / 0.225, 6);
  });

  it('seed: turns a 640x480 frame into a 1x3x960x960 tensor of normalized values', () => {
    const result = new Preprocessor(PRESETS.seed).run(noiseImage(640, 480, 1));
    expect(result).toMatchObject({ height: 960, width: 960, sourceHeight: 480, sourceWidth: 640 });
    expect(result.tensor).toHaveLength(3 * 960 * 960);
    let min = Infinity;
    let max = -Infinity;
    for (const value of result.tensor) {
      if (value < min) min = value;
      if (value > max) max = value;
    }
    expect(min).toBeGreaterThanOrEqual(normalized(0, 0)); // -2.118, the lowest any channel reaches
    expect(max).toBeLessThanOrEqual(normalized(255, 2)); // 2.640, the highest
    expect(max - min).toBeGreaterThan(4); // noise spans (nearly) the whole range
  });

  it('seed: equals normalizing the frame resized to 960x960 by resizeBilinearU8, for 640x480 and 1280x720', () => {
    const preprocessor = new Preprocessor(PRESETS.seed);
    for (const image of [noiseImage(640, 480, 2), noiseImage(1280, 720, 3)]) {
      expect(firstDifference(preprocessor.run(image).tensor, normalizedTensor(resizeBilinearU8(image, 960, 960)))).toBe('equal');
    }
  });

  it('default: keeps the aspect ratio, shrinking 1280x720 to 960x544 and normalizing 640x480 as it is', () => {
    const preprocessor = new Preprocessor(PRESETS.default);
    const hd = noiseImage(1280, 720, 4);
    const shrunk = preprocessor.run(hd);
    expect(shrunk).toMatchObject({ height: 544, width: 960, sourceHeight: 720, sourceWidth: 1280 });
    expect(firstDifference(shrunk.tensor, normalizedTensor(resizeBilinearU8(hd, 960, 544)))).toBe('equal');

    const vga = noiseImage(640, 480, 5);
    const kept = preprocessor.run(vga);
    expect(kept).toMatchObject({ height: 480, width: 640 });
    expect(firstDifference(kept.tensor, normalizedTensor(vga))).toBe('equal');
  });

  it('resizes twice, in 8 bits, when both the pre-resize and DetResize change the size', () => {
    const preset: DetectionPreset = { ...PRESETS.seed, preResize: { width: 300, height: 200 }, resize: { kind: 'limit', limitSideLen: 256, limitType: 'min' } };
    const image = noiseImage(131, 97, 6);
    const result = new Preprocessor(preset).run(image);
    // 200x300 -> min side 256: 256x384
    expect(result).toMatchObject({ height: 256, width: 384, sourceHeight: 97, sourceWidth: 131 });
    expect(firstDifference(result.tensor, normalizedTensor(resizeBilinearU8(resizeBilinearU8(image, 300, 200), 384, 256)))).toBe('equal');
  });

  it('reuses its output buffer for frames of one size and follows size changes', () => {
    const preprocessor = new Preprocessor(fixedSize(48, 64));
    const first = preprocessor.run(noiseImage(40, 30, 7)).tensor;
    const secondImage = noiseImage(40, 30, 8);
    const second = preprocessor.run(secondImage).tensor;
    expect(second).toBe(first);
    expect(firstDifference(second, normalizedTensor(resizeBilinearU8(secondImage, 64, 48)))).toBe('equal');

    const larger = noiseImage(170, 90, 9);
    expect(firstDifference(preprocessor.run(larger).tensor, normalizedTensor(resizeBilinearU8(larger, 64, 48)))).toBe('equal');
    expect(firstDifference(preprocessor.run(secondImage).tensor, normalizedTensor(resizeBilinearU8(secondImage, 64, 48)))).toBe('equal');
  });

  it('normalizes a frame of the network size without a resize, exactly, for widths around the four-pixel step and padded rows', () => {
    for (const [width, height, padding] of [[1, 1, 0], [3, 2, 5], [4, 3, 0], [5, 2, 1], [8, 4, 3], [37, 9, 7], [64, 5, 0]]) {
      const image = noiseImage(width, height, width * 7 + height, padding);
      expect(firstDifference(new Preprocessor(fixedSize(height, width)).run(image).tensor, normalizedTensor(image))).toBe('equal');
    }
  });

  it('goes from normalizing alone to resizing and back as frame sizes change', () => {
    const preprocessor = new Preprocessor(fixedSize(24, 40));
    const [same, other] = [noiseImage(40, 24, 11), noiseImage(50, 30, 12)];
    expect(firstDifference(preprocessor.run(same).tensor, normalizedTensor(same))).toBe('equal');
    expect(firstDifference(preprocessor.run(other).tensor, normalizedTensor(resizeBilinearU8(other, 40, 24)))).toBe('equal');
    expect(firstDifference(preprocessor.run(same).tensor, normalizedTensor(same))).toBe('equal');
  });

  it('reads rows by stride, ignoring padding', () => {
    const padded = noiseImage(33, 21, 10, 7);
    const packed = { ...padded, data: new Uint8Array(33 * 21 * 3), stride: 33 * 3 };
    for (let y = 0; y < 21; y++) packed.data.set(padded.data.subarray(y * padded.stride, y * padded.stride + 33 * 3), y * 33 * 3);
    const preprocessor = new Preprocessor(fixedSize(64, 96));
    const fromPadded = preprocessor.run(padded).tensor.slice();
    expect(firstDifference(preprocessor.run(packed).tensor, fromPadded)).toBe('equal');
  });

  it('rejects bad images and presets with a clear message', () => {
    const preprocessor = new Preprocessor(PRESETS.seed);
    expect(() => preprocessor.run({ data: new Uint8Array(10), width: 4, height: 4, stride: 12 })).toThrow(/10 bytes/);
    expect(() => preprocessor.run({ data: new Uint8Array(48), width: 4, height: 4, stride: 8 })).toThrow(/stride/);
    expect(() => new Preprocessor({ ...PRESETS.seed, preResize: { width: 0, height: 960 } })).toThrow(/preResize/);
    expect(() => new Preprocessor(fixedSize(32, 1.5))).toThrow(/resize/);
  });
});
