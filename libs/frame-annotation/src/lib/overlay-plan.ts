import type { PointLike } from '@iev/text-detection';
import type { Annotation } from './annotation';

/** One outline as drawn: CSS colour, line width and dash pattern in pixels. */
export interface PlannedOutline {
  points: readonly PointLike[];
  colour: string;
  lineWidth: number;
  /** Dash and gap lengths; absent for a solid line. */
  dash?: readonly [number, number];
}

/** One label as drawn: its text filled in `colour` over a black halo `haloWidth` wide, baseline at `y`. */
export interface PlannedLabel {
  text: string;
  x: number;
  y: number;
  /** The text starts at x, or ends there. */
  anchor: 'start' | 'end';
  colour: string;
  haloWidth: number;
}

/**
 * Where and how annotations are drawn on a frame, apart from what draws them: the SVG sharp composites for JPEGs,
 * and the preview page's canvas, so both look the same.
 */
export interface OverlayPlan {
  width: number;
  height: number;
  fontSize: number;
  outlines: PlannedOutline[];
  labels: PlannedLabel[];
}

/** A font every image here has, and any installed font for characters it lacks (CJK; fontconfig's fallback). */
export const LABEL_FONT_FAMILY = 'DejaVu Sans, sans-serif';

/** Outline and label sizes for a frame: thin enough not to hide the text, thick enough to see at a glance. */
export function overlayMetrics(width: number, height: number): { strokeWidth: number; fontSize: number } {
  const side = Math.min(width, height);
  return { strokeWidth: Math.max(2, Math.round(side / 240)), fontSize: Math.max(12, Math.round(side / 36)) };
}

/**
 * Labels sit above their outline (or below, as asked and where the frame has room), outlined in black so they read
 * on any background.
 */
export function overlayPlan(width: number, height: number, annotations: readonly Annotation[]): OverlayPlan {
  const { strokeWidth, fontSize } = overlayMetrics(width, height);
  const outlines: PlannedOutline[] = [];
  const labels: PlannedLabel[] = [];
  for (const annotation of annotations) {
    const lineWidth = annotation.dashed ? strokeWidth + 1 : strokeWidth;
    const colour = `rgb(${annotation.colour.join(',')})`;
    outlines.push({ points: annotation.points, colour, lineWidth, ...(annotation.dashed && { dash: [lineWidth * 3, lineWidth * 2] as const }) });
    if (annotation.label) labels.push({ text: annotation.label, colour, haloWidth: Math.max(2, fontSize / 6), ...labelPosition(annotation, width, height, fontSize, lineWidth) });
  }
  return { width, height, fontSize, outlines, labels };
}

function labelPosition(annotation: Annotation, frameWidth: number, frameHeight: number, fontSize: number, lineWidth: number): Pick<PlannedLabel, 'x' | 'y' | 'anchor'> {
  const xs = annotation.points.map((point) => point[0]);
  const ys = annotation.points.map((point) => point[1]);
  // The baseline: just above the outline or just under it, as asked where the frame has room, else the other; where
  // neither has room (a box filling the frame's height), just inside the outline's top, not off the frame.
  const above = Math.min(...ys) - lineWidth - fontSize * 0.25;
  const below = Math.max(...ys) + lineWidth + fontSize;
  const fitsAbove = above >= fontSize;
  const fitsBelow = below <= frameHeight;
  const y = (annotation.labelBelow ? !fitsBelow && fitsAbove : fitsAbove) ? above : fitsBelow ? below : Math.min(...ys) + lineWidth + fontSize;
  // Aligned with the outline's left edge, or its right edge in the frame's right half, so it runs off the frame less.
  return Math.min(...xs) > frameWidth / 2 ? { x: Math.max(...xs), y, anchor: 'end' } : { x: Math.min(...xs), y, anchor: 'start' };
}
