import type { OverlayOptions } from 'sharp';
import type { IgnoreRegion } from '@iev/frame-protocol';
import type { PointLike } from '@iev/text-detection';
import { svgPoints } from './svg-overlay';

/**
 * How an ignore region is shaded, red as Frigate shows its masks: the preview page's canvas and the JPEGs drawn in
 * (latest.jpg, stream.mjpeg, snapshots) use these same values, so a region looks the same wherever it is shown.
 */
export const REGION_SHADE = { fill: 'rgba(255, 0, 64, 0.3)', stroke: 'rgba(255, 0, 64, 0.8)', lineWidth: 1 } as const;

/** Regions of a frame to shade (ignore regions), each an outline in the frame's pixels. */
export type ShadedRegions = readonly (readonly PointLike[])[];

/** Ignore regions as outlines in a picture of this size, as inference applies them: fractions follow its size, pixels are pixels. */
export function regionOutlines(regions: readonly IgnoreRegion[], width: number, height: number): [number, number][][] {
  return regions.map(({ unit, points }) => points.map(([x, y]) => (unit === 'fraction' ? [x * width, y * height] : [x, y])));
}

/**
 * The regions as a layer for sharp to composite under the outlines and labels, an SVG only as large as the regions'
 * bounds: a clock's strip costs a fraction of a whole frame's SVG, which a frame without boxes would not draw at all.
 * Undefined where nothing of them lies on the frame.
 */
export function regionsLayer(shaded: ShadedRegions, width: number, height: number): OverlayOptions | undefined {
  const points = shaded.flat();
  if (points.length === 0) return undefined;
  // The stroke reaches half its width past the outline.
  const margin = Math.ceil(REGION_SHADE.lineWidth / 2);
  const left = clamp(Math.floor(Math.min(...points.map(([x]) => x))) - margin, 0, width);
  const top = clamp(Math.floor(Math.min(...points.map(([, y]) => y))) - margin, 0, height);
  const right = clamp(Math.ceil(Math.max(...points.map(([x]) => x))) + margin, 0, width);
  const bottom = clamp(Math.ceil(Math.max(...points.map(([, y]) => y))) + margin, 0, height);
  if (right <= left || bottom <= top) return undefined;
  const { fill, stroke, lineWidth } = REGION_SHADE;
  // Even-odd, as the page's canvas fills them: a polygon that crosses itself is shaded alike in both.
  const polygons = shaded.map((outline) => `<polygon points="${svgPoints(outline)}" fill="${fill}" fill-rule="evenodd" stroke="${stroke}" stroke-width="${lineWidth}"/>`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${right - left}" height="${bottom - top}" viewBox="${left} ${top} ${right - left} ${bottom - top}">${polygons.join('')}</svg>`;
  return { input: Buffer.from(svg), left, top };
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
