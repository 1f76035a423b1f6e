import { selectBackend, TextDetector } from '@iev/detection-pipeline';
import { getPreset } from '@iev/text-detection';

export const DEFAULT_MODEL = 'models/ch_pp_inf_dynamic.onnx';

export async function createDetector(options: { preset: string; model: string; threads: number }): Promise<TextDetector> {
  const preset = getPreset(options.preset);
  const backend = selectBackend({ modelPath: options.model, threads: options.threads, useTensorRt: false });
  await backend.load();
  return new TextDetector(backend, preset);
}
