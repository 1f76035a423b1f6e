import type { ImageView } from '@iev/text-detection';
import { cornerDistance, mapPoint, perspectiveTransform, type Corners } from './homography';

/** OpenCV's bicubic kernel (a = -0.75), the interpolation PaddleOCR warps crops with. */
function cubicWeights(t: number, out: Float64Array): void {
  const a = -0.75;
  const w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
  const w1 = ((a + 2) * t - (a + 3)) * t * t + 1;
  const w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1;
  out[0] = w0;
  out[1] = w1;
  out[2] = w2;
  out[3] = 1 - w0 - w1 - w2;
}

/** The size PaddleOCR gives a quad's crop: its longer opposite sides, truncated to integers. */
export function cropSize(quad: Corners): { width: number; height: number } {
  const [p0, p1, p2, p3] = quad;
  return {
    width: Math.trunc(Math.max(cornerDistance(p0, p1), cornerDistance(p2, p3))),
    height: Math.trunc(Math.max(cornerDistance(p0, p3), cornerDistance(p1, p2))),
  };
}

/** Crops that are this much taller than wide hold vertical text: PaddleOCR turns them a quarter left. */
export const VERTICAL_CROP_RATIO = 1.5;

/** Whether a crop of this size holds vertical text (VERTICAL_CROP_RATIO). */
export const holdsVerticalText = ({ width, height }: { width: number; height: number }): boolean => height / width >= VERTICAL_CROP_RATIO;

/**
 * PaddleOCR's get_rotate_crop_image: the quad (clockwise from its top-left corner) warped to an upright
 * rectangle of cropSize(quad) with bicubic interpolation and replicated borders, turned 90° counter-clockwise
 * when it is at least 1.5 times taller than wide. Returns a tightly packed BGR image, or undefined for a quad
 * with no area.
 */
export function perspectiveCrop(image: ImageView, quad: Corners): ImageView | undefined {
  const { width, height } = cropSize(quad);
  if (width < 1 || height < 1) return undefined;
  let toSource;
  try {
    toSource = perspectiveTransform([[0, 0], [width, 0], [width, height], [0, height]], quad);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(width * height * 3);
  const weightsX = new Float64Array(4);
  const weightsY = new Float64Array(4);
  const rows = new Int32Array(4);
  const cols = new Int32Array(4);
  const { data, stride } = image;
  const maxX = image.width - 1;
  const maxY = image.height - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = mapPoint(toSource, x, y);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      cubicWeights(sx - x0, weightsX);
      cubicWeights(sy - y0, weightsY);
      for (let k = 0; k < 4; k++) {
        cols[k] = Math.min(maxX, Math.max(0, x0 - 1 + k)) * 3;
        rows[k] = Math.min(maxY, Math.max(0, y0 - 1 + k)) * stride;
      }
      for (let channel = 0; channel < 3; channel++) {
        let sum = 0;
        for (let j = 0; j < 4; j++) {
          const row = rows[j] + channel;
          sum += weightsY[j] * (weightsX[0] * data[row + cols[0]] + weightsX[1] * data[row + cols[1]] + weightsX[2] * data[row + cols[2]] + weightsX[3] * data[row + cols[3]]);
        }
        out[(y * width + x) * 3 + channel] = sum <= 0 ? 0 : sum >= 255 ? 255 : Math.round(sum);
      }
    }
  }
  const crop: ImageView = { data: out, width, height, stride: width * 3 };
  return holdsVerticalText(crop) ? rotateQuarterLeft(crop) : crop;
}

/** numpy's rot90: a quarter turn counter-clockwise (the old right column becomes the top row). */
export function rotateQuarterLeft(image: ImageView): ImageView {
  const { width, height, data, stride } = image;
  const out = new Uint8Array(width * height * 3);
  for (let row = 0; row < width; row++) {
    for (let col = 0; col < height; col++) {
      const from = col * stride + (width - 1 - row) * 3;
      const to = (row * height + col) * 3;
      out[to] = data[from];
      out[to + 1] = data[from + 1];
      out[to + 2] = data[from + 2];
    }
  }
  return { data: out, width: height, height: width, stride: height * 3 };
}
