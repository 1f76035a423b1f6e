import { IgnoredRegions, presetReads, reconfigureDetector, type DetectorLoading, type TextDetector } from '@iev/detection-pipeline';
import type { SourceSettings } from '@iev/capture-sources';
import type { PartlyApplied } from '@iev/iot-edge';
import type { PresetOverrides } from '@iev/text-detection';
import type { InProcessCameras } from './in-process-capture';
import type { TextReading } from './text-reading';

/** What a module twin sets live (inferenceTwinSpec). */
export interface InferenceSettings extends PresetOverrides {
  preset: string;
  recognition?: 'on' | 'off';
  minTextScore: number;
  /** IGNORE_REGIONS' text (with CAPTURE_SOURCES entries' own lists), replaced whole by the twin's. */
  ignoreRegions?: string;
  /** With CAPTURE_SOURCES: each camera's, by twin key (InProcessCameras). */
  cameras?: Record<string, SourceSettings>;
}

/**
 * Applies a twin patch whole or not at all, but for a camera that cannot be opened: what may fail loads before
 * anything changes. The cameras that change first (a device that is not there, but for the document at start-up:
 * `startup`, see InProcessCameras.prepare; a file that cannot be read), each refused alone, left as it is; the
 * reader's model (missing, or not fitting its dictionary); then the detector's settings, which may load another model
 * and swap it in last; then the cameras restart on their new settings and reading switches, which cannot fail once
 * prepared, nor can the ignore regions, checked with the patch. Where a camera was refused, returns the settings in
 * force and why.
 */
export async function applyInferenceSettings(
  detector: TextDetector,
  reading: TextReading,
  loading: Omit<DetectorLoading, 'preset' | 'overrides'>,
  next: InferenceSettings,
  cameras?: InProcessCameras,
  { startup = false, regions }: { startup?: boolean; regions?: { inForce: IgnoredRegions } } = {},
): Promise<PartlyApplied<Pick<InferenceSettings, 'cameras'>> | void> {
  const cameraChange = cameras && next.cameras ? await cameras.prepare(next.cameras, { startup }) : undefined;
  const reads = presetReads(next.preset, next.recognition);
  await reading.prepare(reads);
  await reconfigureDetector(detector, { ...loading, preset: next.preset, overrides: next });
  await cameraChange?.switch();
  await reading.switch(reads, next.minTextScore);
  if (regions) regions.inForce = IgnoredRegions.fromText(next.ignoreRegions);
  if (cameras && cameraChange?.refused.length) return { settings: { cameras: cameras.settings() }, refused: cameraChange.refused };
}
