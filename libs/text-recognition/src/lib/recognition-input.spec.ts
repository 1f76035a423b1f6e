import type { ImageView } from '@iev/text-detection';
import { describeLineInput, planBatches, REC_HEIGHT, writeRecognitionInput } from './recognition-input';

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

  describe('with what a run costs', () => {
    const line = (columns: number) => ({ width: columns, height: REC_HEIGHT });

    it('reads a wide line apart from short ones when padding them would cost more than another run', () => {
      const batches = planBatches([line(150), line(640), line(160), line(140), line(155), line(150)], { runCostColumns: 48 });
      expect(batches).toEqual([
        { indices: [3, 0, 5, 4, 2], width: 160 },
        { indices: [1], width: 640 },
      ]);
    });

    it('keeps lines of one width in one batch, and no more than batchSize in any', () => {
      const lines = Array.from({ length: 6 }, () => line(300));
      expect(planBatches(lines, { runCostColumns: 48 })).toEqual([{ indices: [0, 1, 2, 3, 4, 5], width: 300 }]);
      expect(planBatches(lines, { runCostColumns: 48, batchSize: 4 }).map((batch) => batch.indices.length)).toEqual([2, 4]);
    });

    it('finds the cheapest split: each run costs runCostColumns plus its lines times its widest', () => {
      // 100, 100, 400, 420: [100, 100] [400, 420] costs 2×48 + 200 + 840 = 1136; one batch 48 + 4×420 = 1728;
      // four runs 4×48 + 1020 = 1212.
      const batches = planBatches([420, 100, 400, 100].map(line), { runCostColumns: 48 });
      expect(batches.map((batch) => batch.indices)).toEqual([
        [1, 3],
        [2, 0],
      ]);
    });
  });
});

describe('planBatches on a model whose input fixes more than the height', () => {
  const crops = [10, 2, 8, 1, 4, 6, 3, 12].map((ratio) => ({ width: ratio * 20, height: 20 }));

  it('makes every batch the width the model fixes, however wide its lines', () => {
    const batches = planBatches(crops, { lineInput: { height: REC_HEIGHT, width: 320 }, runCostColumns: 48 });
    expect(batches.map((batch) => batch.indices)).toEqual([[3, 1, 6, 4, 5, 2], [0, 7]]);
    expect(batches.map((batch) => batch.width)).toEqual([320, 320]);
  });

  it("cuts runs to the batch the model fixes, full ones first, whatever a run costs", () => {
    const lineInput = { height: REC_HEIGHT, width: 320, batch: 3 };
    expect(planBatches(crops, { lineInput, runCostColumns: 48 }).map((batch) => batch.indices)).toEqual([[3, 1, 6], [4, 5, 2], [0, 7]]);
    expect(planBatches(crops, { lineInput: { height: REC_HEIGHT, batch: 1 } }).map((batch) => batch.indices.length)).toEqual(crops.map(() => 1));
  });

  it('sizes lines at the height the model fixes, at least one square wide', () => {
    expect(planBatches([{ width: 60, height: 20 }, { width: 5, height: 20 }], { lineInput: { height: 32 }, batchSize: 1 }).map((batch) => batch.width)).toEqual([32, 96]);
  });
});

describe('describeLineInput', () => {
  it('says the size lines are made to and how many a run takes', () => {
    expect(describeLineInput({ height: 32 })).toBe('every line is resized to height 32');
    expect(describeLineInput({ height: 48, width: 320, batch: 1 })).toBe('every line is resized to height 48 and padded to width 320 (a longer one squashed into it), one line a run');
    expect(describeLineInput({ height: 48, batch: 8 })).toBe('every line is resized to height 48, 8 lines a run (fewer padded with blank lines)');
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

  it('resizes to the height the model fixes, and squashes a line wider than the batch into it', () => {
    const crop: ImageView = { data: new Uint8Array(40 * 10 * 3).fill(255), width: 40, height: 10, stride: 120 };
    const width = 100;
    const height = 32;
    const tensor = new Float32Array(3 * height * width);
    writeRecognitionInput(crop, tensor, 0, width, height);
    // 40x10 at height 32 would be 128 wide: squashed into all 100 columns of all 32 rows, in every plane.
    expect(tensor.every((value) => value === 1)).toBe(true);
  });
});
