import { customizePreset, type PresetOverrides } from '@iev/text-detection';
import { selectBackend, type BackendSelection } from './backend-selection';
import { TextDetector } from './text-detector';

/** Picks the backend, loads the model and returns a detector for the named preset: what every caller needs. */
export async function loadTextDetector(options: Omit<BackendSelection, 'preset'> & { preset: string; overrides?: PresetOverrides }): Promise<TextDetector> {
  const preset = customizePreset(options.preset, options.overrides ?? {});
  const backend = selectBackend({ ...options, preset });
  await backend.load();
  return new TextDetector(backend, preset);
}
