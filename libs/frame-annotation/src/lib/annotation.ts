import type { DetectedBox } from '@iev/frame-protocol';
import type { PointLike } from '@iev/text-detection';

/** A colour as [red, green, blue], 0-255. */
export type Rgb = readonly [number, number, number];

/** One outline to draw on a frame, with an optional label above it. */
export interface Annotation {
  /** The outline's corners in the frame's own pixels (a detection's quad). */
  points: readonly PointLike[];
  colour: Rgb;
  /** Drawn beside the outline, in the same colour. */
  label?: string;
  /** Where the label goes when there is room: above the outline (the default) or below it. */
  labelBelow?: boolean;
  /** A dashed, heavier outline: something to look at (a miss, a false alarm). */
  dashed?: boolean;
}

/** What the model found: boxes from detection, with the text read. */
export const DETECTION_COLOUR: Rgb = [0, 230, 64];

/** A detection's outline, labelled with its text and the text's score where it was read. */
export function detectionAnnotations(boxes: readonly DetectedBox[], colour: Rgb = DETECTION_COLOUR): Annotation[] {
  return boxes.map((box) => ({ points: box.points, colour, label: box.text === undefined ? undefined : textLabel(box.text, box.textScore) }));
}

export function textLabel(text: string, score: number | undefined): string {
  return score === undefined ? text : `${text} (${score.toFixed(2)})`;
}
