import { formatBatchBench, parseBatchSizes } from './bench-batch';

describe('bench --batch', () => {
  it('takes distinct batch sizes from 1 to 16, the first the one compared with', () => {
    expect(parseBatchSizes('1,2,4')).toEqual([1, 2, 4]);
    expect(parseBatchSizes(' 2, 1 ')).toEqual([2, 1]);
    for (const bad of ['', '0,1', '1,1', '1,2.5', '1,17', 'one']) expect(() => parseBatchSizes(bad)).toThrow(/--batch must be distinct batch sizes from 1 to 16/);
  });

  it('prints ms per frame per batch size and its ratio to the first', () => {
    const text = formatBatchBench([
      {
        preset: 'default',
        inputSize: '640x480',
        streams: 2,
        batches: [
          { batch: 1, frames: 40, msPerFrame: 80, ratio: 1 },
          { batch: 4, frames: 48, msPerFrame: 84, ratio: 1.05 },
        ],
      },
    ]);
    expect(text).toContain('batches: preset default, model input 640x480, 2 streams');
    expect(text).toMatch(/^ {4}4 {7}48 {6}84\.00 {8}1\.050$/m);
  });
});
