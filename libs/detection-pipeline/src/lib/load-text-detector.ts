import { join } from 'node:path';
import { customizePreset, type DetectionPreset, type PresetOverrides } from '@iev/text-detection';
import { selectBackend, type BackendSelection } from './backend-selection';
import { TextDetector } from './text-detector';

export interface DetectorLoading extends Omit<BackendSelection, 'preset' | 'modelPath'> {
  preset: string;
  overrides?: PresetOverrides;
  /** MODEL_PATH; unset: the preset's own model in `modelsDir`. */
  modelPath?: string;
  /** Where the presets' models are (default models/, relative to the working directory). */
  modelsDir?: string;
}

/** The detection model a preset runs: MODEL_PATH when set, else the preset's own model file. */
export function detectionModelPath(preset: DetectionPreset, modelPath?: string, modelsDir = 'models'): string {
  return modelPath ?? join(modelsDir, preset.modelFile);
}

/** Picks the backend, loads the model and returns a detector for the named preset: what every caller needs. */
export async function loadTextDetector(options: DetectorLoading): Promise<TextDetector> {
  const preset = customizePreset(options.preset, options.overrides ?? {});
  const modelPath = detectionModelPath(preset, options.modelPath, options.modelsDir);
  const backend = selectBackend({ ...options, preset, modelPath });
  await backend.load();
  return new TextDetector(backend, preset, modelPath, options.batch);
}

/**
 * Applies new settings to a running detector (a module twin patch). A preset that runs another model loads it
 * first and then swaps it in: frames already in the old model finish there, and the old model is released after.
 */
export async function reconfigureDetector(detector: TextDetector, options: DetectorLoading): Promise<void> {
  const preset = customizePreset(options.preset, options.overrides ?? {});
  const modelPath = detectionModelPath(preset, options.modelPath, options.modelsDir);
  if (modelPath === detector.modelPath) return detector.configure(preset);
  const backend = selectBackend({ ...options, preset, modelPath, batch: detector.maxBatch });
  await backend.load();
  await detector.switchModel(backend, preset, modelPath);
}
