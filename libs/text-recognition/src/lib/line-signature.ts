import type { ImageView } from '@iev/text-detection';
import { perspectiveTransform, type Corners } from './homography';
import { cropSize, holdsVerticalText } from './perspective-crop';

/** A line's look in a few numbers: a 32x8 grid of mean brightness over its quad, normalized for contrast. */
export type LineSignature = Float32Array;

const COLUMNS = 32;
const ROWS = 8;
/** Samples per cell side: a cell's mean over 2x2 interpolated points steadies the grid against a box that shifts a pixel. */
const SAMPLES = 2;

/**
 * Whether the quad's text runs across it, as perspectiveCrop reads it. Signatures compared must be sampled the same
 * way: a box near the ratio may flip from frame to frame, so the tracker samples in the orientation of the read.
 */
export function readsVertically(quad: Corners): boolean {
  return holdsVerticalText(cropSize(quad));
}

/**
 * Samples the quad's interior through the same projective map the crop uses, so a line that stays put and
 * reads the same gives (nearly) the same signature from frame to frame, whatever the camera's noise; a line
 * whose characters changed does not. Brightness is normalized (mean 0, unit deviation), so lighting drift alone
 * does not count as a change.
 */
export function lineSignature(image: ImageView, quad: Corners, vertical = readsVertically(quad)): LineSignature {
  const signature = new Float32Array(COLUMNS * ROWS);
  // The columns run along the line, turned as perspectiveCrop turns vertical text: across a tall box (p0→p1) each
  // column would average one character with all the others, and a changed one would hardly show.
  const [p0, p1, p2, p3] = quad;
  const alongLine: Corners = vertical ? [p1, p2, p3, p0] : quad;
  let toSource;
  try {
    toSource = perspectiveTransform([[0, 0], [COLUMNS, 0], [COLUMNS, ROWS], [0, ROWS]], alongLine);
  } catch {
    return signature;
  }
  const { data, stride } = image;
  const maxX = image.width - 1;
  const maxY = image.height - 1;
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8] = toSource;
  let total = 0;
  for (let row = 0; row < ROWS; row++) {
    for (let col = 0; col < COLUMNS; col++) {
      let sum = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        const v = row + (sy + 0.5) / SAMPLES;
        for (let sx = 0; sx < SAMPLES; sx++) {
          // mapPoint written out: its [x, y] for each of the 1,024 samples a line was most of this function's time.
          const u = col + (sx + 0.5) / SAMPLES;
          const w = m6 * u + m7 * v + m8;
          sum += bilinearLuma(data, stride, maxX, maxY, (m0 * u + m1 * v + m2) / w, (m3 * u + m4 * v + m5) / w);
        }
      }
      const mean = sum / (SAMPLES * SAMPLES);
      signature[row * COLUMNS + col] = mean;
      total += mean;
    }
  }
  const mean = total / signature.length;
  let variance = 0;
  for (const value of signature) variance += (value - mean) ** 2;
  const deviation = Math.sqrt(variance / signature.length) || 1;
  for (let i = 0; i < signature.length; i++) signature[i] = (signature[i] - mean) / deviation;
  return signature;
}

/** ITU-R BT.601 luma of a BGR pixel. */
function luma(data: Uint8Array, offset: number): number {
  return 0.114 * data[offset] + 0.587 * data[offset + 1] + 0.299 * data[offset + 2];
}

/** Luma between pixel centres, borders replicated. */
function bilinearLuma(data: Uint8Array, stride: number, maxX: number, maxY: number, x: number, y: number): number {
  const cx = Math.min(maxX, Math.max(0, x));
  const cy = Math.min(maxY, Math.max(0, y));
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(maxX, x0 + 1);
  const y1 = Math.min(maxY, y0 + 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const top = luma(data, y0 * stride + x0 * 3) * (1 - fx) + luma(data, y0 * stride + x1 * 3) * fx;
  const bottom = luma(data, y1 * stride + x0 * 3) * (1 - fx) + luma(data, y1 * stride + x1 * 3) * fx;
  return top * (1 - fy) + bottom * fy;
}

/**
 * How different two signatures are where they differ most: the largest mean absolute difference of one column
 * (over its rows). A changed character shows up in the columns it covers, 32 / (characters in the line) of them:
 * plain on a line of a few words, averaged down on one much longer than 32 characters.
 */
export function signatureDistance(a: LineSignature, b: LineSignature): number {
  let largest = 0;
  for (let col = 0; col < COLUMNS; col++) {
    let sum = 0;
    for (let row = 0; row < ROWS; row++) sum += Math.abs(a[row * COLUMNS + col] - b[row * COLUMNS + col]);
    largest = Math.max(largest, sum / ROWS);
  }
  return largest;
}
