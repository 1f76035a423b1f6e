import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import { loadTextDetector, type TextDetector } from '@iev/detection-pipeline';

/** The workspace root, from this folder. */
export const WORKSPACE_ROOT = join(__dirname, '../../..');

/**
 * A spec's seed-preset detector (the sample's model on one thread), loaded before its tests and released after them,
 * and a temporary folder of its own removed with it.
 */
export function seedDetectorFixture(folderPrefix: string): { workDir: string; detector: () => TextDetector } {
  const workDir = mkdtempSync(join(tmpdir(), folderPrefix));
  let detector: TextDetector | undefined;
  beforeAll(async () => {
    detector = await loadTextDetector({ preset: 'seed', modelPath: join(WORKSPACE_ROOT, 'models/ch_pp_inf_dynamic.onnx'), threads: 1, useTensorRt: false });
  });
  afterAll(async () => {
    await detector?.backend.dispose();
    rmSync(workDir, { recursive: true, force: true });
  });
  return {
    workDir,
    detector: () => {
      if (!detector) throw new Error('the seed detector is loaded before the tests run');
      return detector;
    },
  };
}
