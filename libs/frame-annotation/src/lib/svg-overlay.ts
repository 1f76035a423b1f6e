import type { Annotation, Rgb } from './annotation';

/** Outline and label sizes for a frame: thin enough not to hide the text, thick enough to see at a glance. */
export function overlayMetrics(width: number, height: number): { strokeWidth: number; fontSize: number } {
  const side = Math.min(width, height);
  return { strokeWidth: Math.max(2, Math.round(side / 240)), fontSize: Math.max(12, Math.round(side / 36)) };
}

/**
 * An SVG of the frame's size holding every annotation's outline and label, transparent elsewhere, for sharp to
 * composite over the frame. Labels sit above their outline (or below, as asked and where the frame has room),
 * outlined in black so they read on any background.
 */
export function overlaySvg(width: number, height: number, annotations: readonly Annotation[]): string {
  const { strokeWidth, fontSize } = overlayMetrics(width, height);
  const shapes = annotations.map((annotation) => {
    const stroke = annotation.dashed ? strokeWidth + 1 : strokeWidth;
    const dash = annotation.dashed ? ` stroke-dasharray="${stroke * 3},${stroke * 2}"` : '';
    const points = annotation.points.map(([x, y]) => `${x},${y}`).join(' ');
    const outline = `<polygon points="${points}" fill="none" stroke="${rgb(annotation.colour)}" stroke-width="${stroke}"${dash}/>`;
    return annotation.label ? outline + label(annotation, width, height, fontSize, stroke) : outline;
  });
  return (
    // A character DejaVu lacks (CJK) comes from any installed font that has it (fontconfig's fallback).
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif"` +
    ` font-size="${fontSize}">${shapes.join('')}</svg>`
  );
}

function label(annotation: Annotation, frameWidth: number, frameHeight: number, fontSize: number, stroke: number): string {
  const xs = annotation.points.map((point) => point[0]);
  const ys = annotation.points.map((point) => point[1]);
  // The baseline: just above the outline or just under it, as asked where the frame has room, else the other.
  const above = Math.min(...ys) - stroke - fontSize * 0.25;
  const below = Math.max(...ys) + stroke + fontSize;
  const fitsAbove = above >= fontSize;
  const y = (annotation.labelBelow ? below > frameHeight && fitsAbove : fitsAbove) ? above : below;
  // Aligned with the outline's left edge, or its right edge in the frame's right half, so it runs off the frame less.
  const anchor = Math.min(...xs) > frameWidth / 2 ? `x="${Math.max(...xs)}" text-anchor="end"` : `x="${Math.min(...xs)}"`;
  return (
    `<text ${anchor} y="${y}" fill="${rgb(annotation.colour)}" stroke="black" stroke-width="${Math.max(2, fontSize / 6)}"` +
    ` paint-order="stroke" stroke-linejoin="round">${escapeXml(annotation.label ?? '')}</text>`
  );
}

const rgb = ([r, g, b]: Rgb) => `rgb(${r},${g},${b})`;

// Text read from a frame may hold anything: markup characters are escaped, and characters XML 1.0 forbids (C0
// controls other than tab and line breaks, U+FFFE, U+FFFF) dropped.
function escapeXml(text: string): string {
  const allowed = [...text].filter((char) => {
    const code = char.charCodeAt(0);
    return (code >= 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) && code !== 0xfffe && code !== 0xffff;
  });
  return allowed.join('').replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
