import type { IgnoredRegions } from './ignore-regions';

/**
 * The warning for a camera whose crop changed (CAPTURE_CROP through a twin's `cameras.<id>.crop`) while ignore
 * regions apply to it: they are of the frame inference receives, the crop's region, so each now covers another part
 * of the picture (a fraction the same share of the new region, pixels the same place in it), and nothing else tells.
 * Undefined where the camera has none.
 */
export function cropChangeAdvice(regions: IgnoredRegions, sourceId: string, from: string, to: string): { context: object; message: string } | undefined {
  const held = regions.regionsOf(sourceId);
  if (held.length === 0) return undefined;
  const crop = (text: string) => (text === '' ? 'the whole picture' : text);
  return {
    context: { sourceId, from, to, regions: held.map(({ points }) => points) },
    message:
      `camera ${JSON.stringify(sourceId)}'s crop changed from ${crop(from)} to ${crop(to)} while ${held.length} ignore region(s) apply to it: ` +
      'regions are of the cropped frame, so each now covers another part of the picture; redraw them on a frame of the new crop (the preview shows it) and set them again',
  };
}
