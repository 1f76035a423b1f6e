import { planBatches, REC_BATCH_SIZE, REC_HEIGHT, REC_MIN_WIDTH } from '@iev/text-recognition';
import { InputShapeError } from './model-input';
import { REC_MAX_WIDTH, REC_OPT_WIDTH, recognitionInput } from './recognition-input';

describe('the recognition input as TensorRtBackend sees it', () => {
  const input = recognitionInput();

  it("builds the engine for TextRecognizer's batches: 1 to 6 lines, 48 high, 48 to 1600 wide, tuned for 6 at PaddleOCR's 320", () => {
    expect([REC_BATCH_SIZE, REC_HEIGHT, REC_MIN_WIDTH, REC_OPT_WIDTH, REC_MAX_WIDTH]).toEqual([6, 48, 48, 320, 1600]);
    expect(input.profile).toEqual({ min: [1, 3, 48, 48], opt: [6, 3, 48, 320], max: [6, 3, 48, 1600] });
    expect(input.maxWidth).toBe(1600);
    expect(input.describe()).toBe('1x3x48x48,6x3x48x320,6x3x48x1600');
  });

  it('takes every batch planBatches makes of lines up to the maximum width, square to 33:1', () => {
    const lines = [1, 2.5, 5, 9.2, 20, 33.3].map((aspect) => ({ width: Math.round(40 * aspect), height: 40 }));
    const batches = planBatches([...lines, ...lines]);
    expect(batches.map((batch) => [batch.indices.length, batch.width])).toEqual([
      [6, 240],
      [6, 1598],
    ]);
    for (const batch of batches) expect(() => input.check([batch.indices.length, 3, REC_HEIGHT, batch.width])).not.toThrow();
    expect(() => input.check([1, 3, 48, 48])).not.toThrow();
    expect(() => input.check([6, 3, 48, 1600])).not.toThrow();
  });

  it.each([
    [[7, 3, 48, 320], 'batch'],
    [[1, 3, 48, 1601], 'wider'],
    [[1, 3, 48, 47], 'narrower'],
  ])('refuses %j (%s than the profile) before the engine sees it, saying what TextRecognizer keeps to', (dims) => {
    expect(() => input.check(dims)).toThrow(InputShapeError);
    expect(() => input.check(dims)).toThrow(
      `recognition input ${dims.join('x')} is outside the TensorRT profile 1x3x48x48,6x3x48x320,6x3x48x1600: batch from 1 to 6 and width from 48 to 1600, which TextRecognizer keeps to (it squashes a wider line into 1600)`,
    );
  });

  it('refuses a malformed input as a RangeError naming the shape it expects', () => {
    expect(() => input.check([1, 3, 32, 320])).toThrow('tensorrt: input must be [N, 3, 48, W] float32, got [1, 3, 32, 320]');
    expect(() => input.check([1, 1, 48, 320])).toThrow('tensorrt: input must be [N, 3, 48, W] float32, got [1, 1, 48, 320]');
    expect(() => input.check([0, 3, 48, 320])).toThrow(RangeError);
    expect(() => input.check([3, 48, 320])).toThrow(RangeError);
  });

  it("builds for the line height the model's file fixes (32 for PP-OCR before v3), from a square line", () => {
    const input = recognitionInput({ height: 32 });
    expect(input.profile).toEqual({ min: [1, 3, 32, 32], opt: [6, 3, 32, 320], max: [6, 3, 32, 1600] });
    expect(() => input.check([6, 3, 32, 500])).not.toThrow();
    expect(() => input.check([1, 3, 48, 320])).toThrow('tensorrt: input must be [N, 3, 32, W] float32, got [1, 3, 48, 320]');
  });

  it('builds a static export for its one shape, which TextRecognizer makes every run to', () => {
    const input = recognitionInput({ height: 48, width: 320, batch: 1 });
    expect(input.profile).toEqual({ min: [1, 3, 48, 320], opt: [1, 3, 48, 320], max: [1, 3, 48, 320] });
    expect(input.maxWidth).toBe(320);
    expect(() => input.check([1, 3, 48, 320])).not.toThrow();
    expect(() => input.check([1, 3, 48, 160])).toThrow(
      'recognition input 1x3x48x160 is outside the TensorRT profile 1x3x48x320,1x3x48x320,1x3x48x320: batch 1 and width 320, which TextRecognizer keeps to (it squashes a wider line into 320)',
    );
  });
});
