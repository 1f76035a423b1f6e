import type { ImageView } from '@iev/text-detection';
import { planBatches, REC_HEIGHT, writeRecognitionInput } from './recognition-input';

describe('planBatches', () => {
  it('sorts crops by aspect ratio and batches them six at a time, each batch as wide as its widest crop', () => {
    const crops = [10, 2, 8, 1, 4, 6, 3, 12].map((ratio) => ({ width: ratio * 20, height: 20 }));
    const batches = planBatches(crops);
    expect(batches.map((batch) => batch.indices)).toEqual([[3, 1, 6, 4, 5, 2], [0, 7]]);
    expect(batches.map((batch) => batch.width)).toEqual([8 * REC_HEIGHT, 12 * REC_HEIGHT]);
  });

  it('keeps a batch of short crops at least one square wide', () => {
    expect(planBatches([{ width: 5, height: 20 }])[0].width).toBe(REC_HEIGHT);
  });
});

describe('writeRecognitionInput', () => {
  it('resizes to height 48 keeping the aspect ratio, scales to [-1, 1] per BGR plane and leaves the padding at 0', () => {
    const crop: ImageView = { data: new Uint8Array(24 * 12 * 3), width: 24, height: 12, stride: 72 };
    for (let i = 0; i < crop.data.length; i += 3) crop.data.set([0, 255, 51], i);
    const width = 100;
    const tensor = new Float32Array(2 * 3 * REC_HEIGHT * width);
    writeRecognitionInput(crop, tensor, 1, width);
    const plane = REC_HEIGHT * width;
    const row = 3 * plane;
    // 24x12 at height 48 is 96 wide: columns 0-95 hold the crop, 96-99 padding.
    expect(tensor[row + 10 * width + 95]).toBeCloseTo(-1, 6);
    expect(tensor[row + plane + 10 * width + 95]).toBeCloseTo(1, 6);
    expect(tensor[row + 2 * plane + 47 * width]).toBeCloseTo(51 / 127.5 - 1, 6);
    expect(tensor[row + plane + 10 * width + 96]).toBe(0);
    expect(tensor.subarray(0, row).every((value) => value === 0)).toBe(true);
  });
});
