import { presetReads, reconfigureDetector, type DetectorLoading, type TextDetector } from '@iev/detection-pipeline';
import type { PresetOverrides } from '@iev/text-detection';
import type { TextReading } from './text-reading';

/** What a module twin sets live (inferenceTwinSpec). */
export interface InferenceSettings extends PresetOverrides {
  preset: string;
  recognition?: 'on' | 'off';
  minTextScore: number;
}

/**
 * Applies a twin patch whole or not at all: what may fail loads before anything changes. The reader's model first
 * (missing, or not fitting its dictionary); then the detector's settings, which may load another model and swap it
 * in last; then reading switches, which cannot fail once its model is loaded.
 */
export async function applyInferenceSettings(detector: TextDetector, reading: TextReading, loading: Omit<DetectorLoading, 'preset' | 'overrides'>, next: InferenceSettings): Promise<void> {
  const reads = presetReads(next.preset, next.recognition);
  await reading.prepare(reads);
  await reconfigureDetector(detector, { ...loading, preset: next.preset, overrides: next });
  await reading.switch(reads, next.minTextScore);
}
