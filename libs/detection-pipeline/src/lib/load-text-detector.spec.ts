import { join } from 'node:path';
import { loadTextDetector } from './load-text-detector';

const MODEL = join(__dirname, '../../../../models/ch_pp_inf_dynamic.onnx');

describe('loadTextDetector', () => {
  it('returns a detector for the named preset with its model loaded', async () => {
    const detector = await loadTextDetector({ preset: 'default', modelPath: MODEL, threads: 1, useTensorRt: false });
    try {
      expect(detector.preset.name).toBe('default');
      expect(detector.backend.modelId).toBe('ch_pp_inf_dynamic@7ceb8792');
    } finally {
      await detector.backend.dispose();
    }
  });

  it('rejects an unknown preset by name', async () => {
    await expect(loadTextDetector({ preset: 'fastest', modelPath: MODEL, threads: 1, useTensorRt: false })).rejects.toThrow(
      'unknown detection preset "fastest"; valid presets: seed, default',
    );
  });
});
