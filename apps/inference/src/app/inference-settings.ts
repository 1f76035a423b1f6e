import { isDeepStrictEqual } from 'node:util';
import { cropChangeAdvice, IgnoredRegions, presetReads, reconfigureDetector, withOwnRegionLists, type DetectorLoading, type TextDetector } from '@iev/detection-pipeline';
import type { PartlyApplied } from '@iev/iot-edge';
import type { PresetOverrides } from '@iev/text-detection';
import type { CameraTwinSettings, InProcessCameras } from './in-process-capture';
import type { TextReading } from './text-reading';

/** What a module twin sets live (inferenceTwinSpec). */
export interface InferenceSettings extends PresetOverrides {
  preset: string;
  recognition?: 'on' | 'off';
  minTextScore: number;
  /** IGNORE_REGIONS' text (with CAPTURE_SOURCES entries' own lists), replaced whole by the twin's. */
  ignoreRegions?: string;
  /** With CAPTURE_SOURCES: each camera's, by twin key (InProcessCameras), with the ignore regions the twin gives it. */
  cameras?: Record<string, CameraTwinSettings>;
}

/**
 * Applies a twin patch whole or not at all, but for a camera that cannot be opened: what may fail loads before
 * anything changes. The cameras that change first (a device that is not there, but for the document at start-up:
 * `startup`, see InProcessCameras.prepare; a file that cannot be read), each refused alone, left as it is; the
 * reader's model (missing, or not fitting its dictionary); then the detector's settings, which may load another model
 * and swap it in last; then the cameras restart on their new settings and reading switches, which cannot fail once
 * prepared, nor can the ignore regions, checked with the patch. Where a camera was refused, returns the settings in
 * force and why. `warn` is told of each camera cropped anew whose regions the patch left (warnOfCropsChanged).
 */
export async function applyInferenceSettings(
  detector: TextDetector,
  reading: TextReading,
  loading: Omit<DetectorLoading, 'preset' | 'overrides'>,
  next: InferenceSettings,
  cameras?: InProcessCameras,
  { startup = false, regions, warn }: { startup?: boolean; regions?: { inForce: IgnoredRegions }; warn?: (context: object, message: string) => void } = {},
): Promise<PartlyApplied<Pick<InferenceSettings, 'cameras'>> | void> {
  // Checked before anything changes; taken from the cameras once switched, where one refused keeps its own.
  regionsInForce(next.ignoreRegions, next.cameras, cameras);
  const before = cameras && regions && { cameras: cameras.settings(), regions: regions.inForce };
  const cameraChange = cameras && next.cameras ? await cameras.prepare(next.cameras, { startup }) : undefined;
  const reads = presetReads(next.preset, next.recognition);
  await reading.prepare(reads);
  await reconfigureDetector(detector, { ...loading, preset: next.preset, overrides: next });
  await cameraChange?.switch();
  await reading.switch(reads, next.minTextScore);
  if (regions) regions.inForce = IgnoredRegions.fromText(regionsInForce(next.ignoreRegions, cameras?.settings(), cameras));
  if (before && regions && warn) warnOfCropsChanged(before, cameras, regions.inForce, warn);
  if (cameras && cameraChange?.refused.length) return { settings: { cameras: cameras.settings() }, refused: cameraChange.refused };
}

/**
 * Warns of each camera whose crop changed while the regions it had stay in force (cropChangeAdvice): told once the
 * regions are, as a patch that crops a camera anew and redraws its regions (or clears them) in one says nothing wrong.
 */
function warnOfCropsChanged(
  before: { cameras: Record<string, CameraTwinSettings>; regions: IgnoredRegions },
  cameras: InProcessCameras,
  regions: IgnoredRegions,
  warn: (context: object, message: string) => void,
): void {
  for (const [key, { crop }] of Object.entries(cameras.settings())) {
    const was = before.cameras[key];
    const sourceId = cameras.sourceIdOf(key);
    if (!was || was.crop === crop || !isDeepStrictEqual(before.regions.regionsOf(sourceId), regions.regionsOf(sourceId))) continue;
    const advice = cropChangeAdvice(regions, sourceId, was.crop, crop);
    if (advice) warn(advice.context, advice.message);
  }
}

/**
 * The regions in force: `ignoreRegions` (the twin's, else the start-up ones), with the lists the twin's camera entries
 * give, which win for their camera as a CAPTURE_SOURCES entry's win over IGNORE_REGIONS, so that a camera the twin adds
 * carries its own as one of CAPTURE_SOURCES does. Held to a twin string together (they are reported as one), before
 * anything changes: over it, the patch is rejected.
 */
function regionsInForce(ignoreRegions: string | undefined, cameraSettings: InferenceSettings['cameras'] = {}, cameras?: InProcessCameras): string | undefined {
  if (!cameras) return ignoreRegions;
  const own = Object.entries(cameraSettings).map(([key, settings]) => [cameras.sourceIdOf(key), settings.ignoreRegions === undefined ? undefined : (JSON.parse(settings.ignoreRegions) as unknown[])] as const);
  try {
    return withOwnRegionLists(ignoreRegions, own);
  } catch (error) {
    throw new Error(`ignoreRegions with the cameras' own lists ${(error as Error).message}`);
  }
}
