import { join } from 'node:path';
import { formatProfile, profileForPreset } from '@iev/tensorrt-backend';
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
 * Applies new settings to a running detector (a module twin patch). Settings the running backend cannot take (see
 * runsOnBackendAsBuilt) load another one first and then swap it in: frames already in the old one finish there, and
 * the old one is released after.
 */
export async function reconfigureDetector(detector: TextDetector, options: DetectorLoading): Promise<void> {
  const preset = customizePreset(options.preset, options.overrides ?? {});
  const modelPath = detectionModelPath(preset, options.modelPath, options.modelsDir);
  if (runsOnBackendAsBuilt(detector, preset, modelPath, options)) return detector.configure(preset);
  const backend = selectBackend({ ...options, preset, modelPath, batch: detector.maxBatch });
  await backend.load();
  await detector.switchModel(backend, preset, modelPath);
}

/**
 * Whether the detector's backend runs the preset as it is: the same model and, on TensorRT, an engine built for the
 * inputs the preset feeds it. Without TENSORRT_PROFILE the engine's profile is the start-up preset's, and another
 * preset or a larger limitSideLen feeds sizes outside it, which the engine would refuse frame after frame.
 */
function runsOnBackendAsBuilt(detector: TextDetector, preset: DetectionPreset, modelPath: string, options: DetectorLoading): boolean {
  if (modelPath !== detector.modelPath) return false;
  if (detector.backend.name !== 'tensorrt' || options.tensorRtProfile) return true;
  return formatProfile(profileForPreset(preset)) === formatProfile(profileForPreset(detector.preset));
}
