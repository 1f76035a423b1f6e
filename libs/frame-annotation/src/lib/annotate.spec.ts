import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { DetectedBox, Point } from '@iev/frame-protocol';
import { readBgrImage } from '@iev/testing';
import { DETECTION_COLOUR, detectionAnnotations, type Rgb } from './annotation';
import { encodeAnnotatedJpeg, encodeFrameJpeg } from './annotate';
import { rgbFrame } from './rgb-frame';
import { overlayMetrics } from './overlay-plan';

const setDir = join(__dirname, '../../../../testdata/text-frames/dev-b');
const frameInfo = JSON.parse(readFileSync(join(setDir, 'gt.json'), 'utf8')).frames[0] as { file: string; width: number; height: number; items: { quad: Point[]; text: string }[] };
const frame = readBgrImage(join(setDir, frameInfo.file), frameInfo.width, frameInfo.height);
// The set's true lines as a detector would report them: integer corners.
const boxes: DetectedBox[] = frameInfo.items.map((item) => ({ points: item.quad.map(([x, y]) => [Math.round(x), Math.round(y)]) as DetectedBox['points'], score: 1 }));

/** A JPEG decoded to tightly packed RGB. */
async function decode(jpeg: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return { data, width: info.width, height: info.height };
}

const rgbAt = (image: { data: Uint8Array; width: number }, x: number, y: number): Rgb => {
  const i = (y * image.width + x) * 3;
  return [image.data[i], image.data[i + 1], image.data[i + 2]];
};
const rawRgbAt = (x: number, y: number): Rgb => {
  const i = y * frame.stride + x * 3;
  return [frame.data[i + 2], frame.data[i + 1], frame.data[i]];
};
const distance = (a: Rgb, b: Rgb) => Math.max(...a.map((value, c) => Math.abs(value - b[c])));

describe('encodeAnnotatedJpeg', () => {
  it("draws each box's outline in its colour where the raw frame has other colours", async () => {
    const annotated = await decode(await encodeAnnotatedJpeg(frame, detectionAnnotations(boxes)));
    expect([annotated.width, annotated.height]).toEqual([frame.width, frame.height]);
    for (const { points } of boxes) {
      // The middle of the top and bottom edges: a pixel wholly under the stroke (at least 2 wide, centred on the edge).
      for (const [a, b] of [[points[0], points[1]], [points[3], points[2]]]) {
        const x = Math.floor((a[0] + b[0]) / 2);
        const y = Math.floor((a[1] + b[1]) / 2);
        expect(distance(rawRgbAt(x, y), DETECTION_COLOUR)).toBeGreaterThan(80);
        expect(distance(rgbAt(annotated, x, y), DETECTION_COLOUR)).toBeLessThan(40);
      }
    }
  });

  it('leaves the frame as it was away from the boxes, up to JPEG error', async () => {
    const [annotated, plain] = await Promise.all([encodeAnnotatedJpeg(frame, detectionAnnotations(boxes)), encodeAnnotatedJpeg(frame, [])].map(async (jpeg) => decode(await jpeg)));
    // JPEG codes 8x8 blocks on their own (chroma is not subsampled): two blocks from any outline, the same frame
    // encodes to the same pixels, with or without the boxes.
    const margin = 16;
    const bounds = boxes.map(({ points }) => {
      const xs = points.map((point) => point[0]);
      const ys = points.map((point) => point[1]);
      return [Math.min(...xs) - margin, Math.min(...ys) - margin, Math.max(...xs) + margin, Math.max(...ys) + margin];
    });
    let far = 0;
    let errorSum = 0;
    for (let y = 0; y < frame.height; y++) {
      for (let x = 0; x < frame.width; x++) {
        if (bounds.some(([x0, y0, x1, y1]) => x >= x0 && x <= x1 && y >= y0 && y <= y1)) continue;
        far += 1;
        const i = (y * frame.width + x) * 3;
        const raw = y * frame.stride + x * 3;
        for (let c = 0; c < 3; c++) {
          if (annotated.data[i + c] !== plain.data[i + c]) throw new Error(`pixel ${x},${y} changed far from every box`);
          errorSum += Math.abs(annotated.data[i + c] - frame.data[raw + 2 - c]) / 3;
        }
      }
    }
    expect(far).toBeGreaterThan(frame.width * frame.height * 0.8);
    // ...and those pixels are the raw frame's (channels in the right order), within quality 90's error.
    expect(errorSum / far).toBeLessThan(4);
  });

  it('reads a frame whose rows are padded (stride wider than the pixels) as the same picture', async () => {
    const stride = frame.width * 3 + 64;
    const padded = new Uint8Array(stride * frame.height).fill(255);
    for (let y = 0; y < frame.height; y++) padded.set(frame.data.subarray(y * frame.stride, y * frame.stride + frame.width * 3), y * stride);
    const annotations = detectionAnnotations(boxes);
    expect(await encodeAnnotatedJpeg({ ...frame, data: padded, stride }, annotations)).toEqual(await encodeAnnotatedJpeg(frame, annotations));
  });

  it('names what is wrong with a frame it cannot read', async () => {
    expect(() => encodeAnnotatedJpeg({ ...frame, stride: frame.width * 2 }, [])).toThrow('image data (2764800 bytes, stride 2560) is too short for a 1280x720 BGR24 frame');
    expect(() => encodeAnnotatedJpeg({ ...frame, width: 0 }, [])).toThrow('image width and height must be positive whole numbers (got 0x720)');
  });
});

describe('encodeAnnotatedJpeg, shaded regions', () => {
  const grey = rgbFrame({ width: 64, height: 48, stride: 64 * 3, data: new Uint8Array(64 * 48 * 3).fill(128) });
  const redness = (image: { data: Uint8Array; width: number }, x: number, y: number) => rgbAt(image, x, y)[0] - rgbAt(image, x, y)[1];

  it('shades each region as the page does, alone or under the boxes, one reaching past the frame up to its edge, one wholly off it not at all', async () => {
    const leftHalf = [[0, 0], [32, 0], [32, 48], [0, 48]] as const;
    const pastRight = [[56, 8], [90, 8], [90, 16], [56, 16]] as const;
    const offFrame = [[100, 100], [120, 100], [120, 120]] as const;
    for (const annotations of [[], detectionAnnotations([{ points: [[40, 30], [60, 30], [60, 44], [40, 44]], score: 1 }])]) {
      const shaded = await decode(await encodeAnnotatedJpeg(grey, annotations, 90, [leftHalf, pastRight, offFrame]));
      // 30 % of rgb(255, 0, 64) over the grey: 166 against 90.
      expect(redness(shaded, 16, 24)).toBeGreaterThan(60);
      expect(redness(shaded, 62, 12)).toBeGreaterThan(60);
      expect(Math.abs(redness(shaded, 48, 4))).toBeLessThan(8);
      expect(Math.abs(redness(shaded, 44, 24))).toBeLessThan(8);
    }
  });
});

describe('encodeFrameJpeg', () => {
  /** Mean absolute error of the decoded JPEG against the raw BGR frame, per channel in RGB order. */
  const errorPerChannel = (decoded: { data: Buffer }) => {
    const sums = [0, 0, 0];
    for (let y = 0; y < frame.height; y++) {
      for (let x = 0; x < frame.width; x++) {
        for (let c = 0; c < 3; c++) sums[c] += Math.abs(decoded.data[(y * frame.width + x) * 3 + c] - frame.data[y * frame.stride + x * 3 + 2 - c]);
      }
    }
    return sums.map((sum) => sum / (frame.width * frame.height));
  };

  it('encodes the frame as it is, in RGB order, at its size', async () => {
    const decoded = await decode(await encodeFrameJpeg(frame));
    expect([decoded.width, decoded.height]).toEqual([frame.width, frame.height]);
    // Channels swapped by mistake would put red where blue is: errors of tens on a real scene, not a few.
    for (const error of errorPerChannel(decoded)) expect(error).toBeLessThan(6);
  });

  it('reads padded rows and names a frame it cannot read', async () => {
    const stride = frame.width * 3 + 64;
    const padded = new Uint8Array(stride * frame.height).fill(255);
    for (let y = 0; y < frame.height; y++) padded.set(frame.data.subarray(y * frame.stride, y * frame.stride + frame.width * 3), y * stride);
    expect(await encodeFrameJpeg({ ...frame, data: padded, stride })).toEqual(await encodeFrameJpeg(frame));
    expect(() => encodeFrameJpeg({ ...frame, height: -1 })).toThrow('image width and height must be positive whole numbers (got 1280x-1)');
  });

  it('takes a frame already turned to RGB as it is, with or without annotations', async () => {
    const rgb = rgbFrame(frame);
    expect(await encodeFrameJpeg(rgb)).toEqual(await encodeFrameJpeg(frame));
    const annotations = detectionAnnotations(boxes);
    expect(await encodeAnnotatedJpeg(rgb, annotations)).toEqual(await encodeAnnotatedJpeg(frame, annotations));
  });
});

describe('labels', () => {
  const black = { data: new Uint8Array(640 * 480 * 3), width: 640, height: 480, stride: 640 * 3 };
  const box: DetectedBox = { points: [[40, 200], [600, 200], [600, 260], [40, 260]], score: 1 };

  /** The columns, in the band above the box (or below it), where the label's fill (the box colour) shows. */
  async function labelInk(text: string, labelBelow = false, band: 'above' | 'below' = 'above'): Promise<{ left: number; right: number; pixels: number }> {
    const annotated = await decode(await encodeAnnotatedJpeg(black, detectionAnnotations([{ ...box, text }]).map((annotation) => ({ ...annotation, labelBelow }))));
    const { fontSize } = overlayMetrics(black.width, black.height);
    const [top, bottom] = band === 'above' ? [200 - 2 * fontSize, 198] : [262, 260 + 2 * fontSize];
    let left = Infinity;
    let right = -Infinity;
    let pixels = 0;
    for (let y = top; y < bottom; y++) {
      for (let x = 0; x < black.width; x++) {
        if (distance(rgbAt(annotated, x, y), DETECTION_COLOUR) > 60) continue;
        left = Math.min(left, x);
        right = Math.max(right, x);
        pixels += 1;
      }
    }
    return { left, right, pixels };
  }

  it("writes the text read above the box, in a real font (glyphs of their own widths, not a missing font's boxes)", async () => {
    const narrow = await labelInk('iiiiiiii');
    const wide = await labelInk('WWWWWWWW');
    expect(narrow.pixels).toBeGreaterThan(20);
    expect(narrow.left).toBeGreaterThanOrEqual(40);
    expect(narrow.left).toBeLessThan(45);
    expect(wide.right - wide.left).toBeGreaterThan(2.5 * (narrow.right - narrow.left));
  });

  it('puts the label below the box when asked', async () => {
    expect((await labelInk('Platform 4', true, 'below')).pixels).toBeGreaterThan(20);
    expect((await labelInk('Platform 4', true, 'above')).pixels).toBe(0);
    expect((await labelInk('Platform 4', false, 'below')).pixels).toBe(0);
  });

  it('keeps the label in the frame where there is no room above or below its box (a plate filling the picture)', async () => {
    const plate = { data: new Uint8Array(320 * 60 * 3), width: 320, height: 60, stride: 320 * 3 };
    const filling: DetectedBox = { points: [[10, 5], [310, 5], [310, 55], [10, 55]], score: 1, text: 'AB12CDE' };
    const annotated = await decode(await encodeAnnotatedJpeg(plate, detectionAnnotations([filling])));
    let inkInside = 0;
    // Inside the outline, clear of its line: only the label can put the box colour there.
    for (let y = 10; y < 50; y++) for (let x = 15; x < 305; x++) if (distance(rgbAt(annotated, x, y), DETECTION_COLOUR) <= 60) inkInside += 1;
    expect(inkInside).toBeGreaterThan(20);
  });

  it('writes markup characters as text', async () => {
    const ink = await labelInk('<b>&"\'\u0007');
    expect(ink.pixels).toBeGreaterThan(20);
  });

  it("adds the text's score when there is one", () => {
    expect(detectionAnnotations([{ ...box, text: 'MAIN ST', textScore: 0.9871 }, box])).toEqual([
      { points: box.points, colour: DETECTION_COLOUR, label: 'MAIN ST (0.99)' },
      { points: box.points, colour: DETECTION_COLOUR, label: undefined },
    ]);
  });
});
