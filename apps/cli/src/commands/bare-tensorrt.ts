import { selectBackend } from '@iev/detection-pipeline';
import type { DetectionPreset } from '@iev/text-detection';
import { readTensorRtSettings } from '@iev/tensorrt-backend';
import type { BareMeasure } from './bare-sessions';

/**
 * TensorRT's counterpart of BareSessions: the backend's run() on the same preprocessed frame (the engine from the
 * cache the inference module uses, so it is built at most once), repeated; that includes the copies to and from the GPU.
 */
export async function openBareTensorRt(modelPath: string, preset: DetectionPreset, input: { tensor: Float32Array; dims: number[] }): Promise<BareMeasure> {
  const log = { info: () => undefined, warn: (message: string) => process.stderr.write(`${message}\n`) };
  // Built the way the inference module builds it, so the engine and its cache key are the same.
  const backend = selectBackend({ ...readTensorRtSettings(), backend: 'tensorrt', useTensorRt: true, streams: 1, threads: 0, modelPath, preset, log });
  await backend.load();
  const tensor = { data: input.tensor, dims: input.dims };
  const runOnce = async () => backend.recycle?.(await backend.run(tensor));
  return {
    async measure(durationMs: number) {
      await runOnce();
      const started = performance.now();
      const runMs: number[] = [];
      let finished = started;
      do {
        const runStarted = finished;
        await runOnce();
        finished = performance.now();
        runMs.push(finished - runStarted);
      } while (finished - started < durationMs);
      return { fps: (runMs.length * 1000) / (finished - started), runMs };
    },
    release: () => backend.dispose(),
  };
}
