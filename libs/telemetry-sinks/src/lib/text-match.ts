import type { Detections } from '@iev/frame-protocol';

/**
 * The detections with only the boxes whose text matches TELEMETRY_TEXT_MATCH (a box not read yet has none to match),
 * as they are without one. `lines` stays inference's count of every box.
 */
export function withMatchingLines(detections: Detections, textMatch: RegExp | undefined): Detections {
  if (!textMatch) return detections;
  return { ...detections, boxes: detections.boxes.filter((box) => box.text !== undefined && textMatch.test(box.text)) };
}
