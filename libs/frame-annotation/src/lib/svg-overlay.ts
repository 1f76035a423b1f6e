import type { PointLike } from '@iev/text-detection';
import type { OverlayPlan, PlannedLabel, PlannedOutline } from './overlay-plan';
import { LABEL_FONT_FAMILY } from './overlay-plan';

/** An SVG of the frame's size holding the plan's outlines and labels, transparent elsewhere, for sharp to composite. */
export function overlaySvg({ width, height, fontSize, outlines, labels }: OverlayPlan): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${LABEL_FONT_FAMILY}"` +
    ` font-size="${fontSize}">${outlines.map(polygon).join('')}${labels.map(text).join('')}</svg>`
  );
}

function polygon({ points, colour, lineWidth, dash }: PlannedOutline): string {
  const dashes = dash ? ` stroke-dasharray="${dash.join(',')}"` : '';
  return `<polygon points="${svgPoints(points)}" fill="none" stroke="${colour}" stroke-width="${lineWidth}"${dashes}/>`;
}

export const svgPoints = (points: readonly PointLike[]) => points.map(([x, y]) => `${x},${y}`).join(' ');

function text({ text, x, y, anchor, colour, haloWidth }: PlannedLabel): string {
  return (
    `<text x="${x}" y="${y}"${anchor === 'end' ? ' text-anchor="end"' : ''} fill="${colour}" stroke="black" stroke-width="${haloWidth}"` +
    ` paint-order="stroke" stroke-linejoin="round">${escapeXml(text)}</text>`
  );
}

// Text read from a frame may hold anything: markup characters are escaped, and characters XML 1.0 forbids (C0
// controls other than tab and line breaks, U+FFFE, U+FFFF) dropped.
function escapeXml(text: string): string {
  const allowed = [...text].filter((char) => {
    const code = char.charCodeAt(0);
    return (code >= 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) && code !== 0xfffe && code !== 0xffff;
  });
  return allowed.join('').replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
