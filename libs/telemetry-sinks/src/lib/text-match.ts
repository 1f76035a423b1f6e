import type { Detections } from '@iev/frame-protocol';

/** Whether a text passes TELEMETRY_TEXT_MATCH: every text does while it is unset. */
export function matchesText(textMatch: RegExp | undefined, text: string): boolean {
  return textMatch === undefined || textMatch.test(text);
}

/**
 * The detections with only the boxes whose text matches TELEMETRY_TEXT_MATCH (a box not read yet has none to match),
 * as they are without one. `lines` stays inference's count of every box.
 */
export function withMatchingLines(detections: Detections, textMatch: RegExp | undefined): Detections {
  if (!textMatch) return detections;
  return { ...detections, boxes: detections.boxes.filter((box) => box.text !== undefined && matchesText(textMatch, box.text)) };
}
