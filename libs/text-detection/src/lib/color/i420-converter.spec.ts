import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ColorMatrix, i420Planes, pixelByteLength, PixelFormat } from '@iev/frame-protocol';
import { I420Converter, type I420View, MATRIX_COEFFICIENTS } from './i420-converter';

const FRAMES = join(__dirname, '../../../../../testdata/text-frames');

const saturated = (value: number) => Math.max(-32768, Math.min(32767, value));
const q15 = (a: number, b: number) => saturated((a * b + 0x4000) >> 15);
const channel = (terms: number[]) => Math.max(0, Math.min(255, saturated(terms.reduce((sum, term) => saturated(sum + term)) + 32) >> 6));

/** The kernel's arithmetic, lane for lane, in plain JavaScript. */
function referenceBgr({ data, width, height, stride, colorMatrix = ColorMatrix.BT601, fullRange = false }: I420View): Uint8Array {
  const { chromaStride, uOffset, vOffset } = i420Planes({ stride, height });
  const out = new Uint8Array(width * height * 3);
  const c = MATRIX_COEFFICIENTS[colorMatrix][fullRange ? 'full' : 'limited'];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const chroma = (y >> 1) * chromaStride + (x >> 1);
      const [u, v] = [data[uOffset + chroma] - 128, data[vOffset + chroma] - 128];
      const luma = q15((data[y * stride + x] - c.yOffset) << 7, c.y);
      const at = (y * width + x) * 3;
      out[at] = channel([luma, q15(u << 8, c.blueU)]);
      out[at + 1] = channel([luma, q15(u << 7, c.greenU), q15(v << 7, c.greenV)]);
      out[at + 2] = channel([luma, q15(v << 7, c.redV)]);
    }
  }
  return out;
}

function randomI420(width: number, height: number, stride = width, seed = width * 31 + height): I420View {
  let state = seed;
  const data = new Uint8Array(pixelByteLength({ pixelFormat: PixelFormat.I420, stride, height })).map(() => {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    return state >>> 24;
  });
  return { data, width, height, stride };
}

function ffmpeg(args: string[], input?: Uint8Array): Buffer {
  const run = spawnSync('ffmpeg', ['-v', 'error', ...args], { input, maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${run.stderr?.toString() ?? run.error}`);
  return run.stdout;
}

describe('I420Converter', () => {
  const converter = new I420Converter();

  it.each([
    [1, 1],
    [2, 2],
    [5, 3],
    [16, 2],
    [17, 9],
    [33, 4],
    [160, 120],
  ])('converts a %ix%i frame exactly as its arithmetic says, every pixel', (width, height) => {
    const image = randomI420(width, height);

    expect(Buffer.compare(converter.toBgr(image).data, referenceBgr(image))).toBe(0);
  });

  it.each([
    ['BT.709', ColorMatrix.BT709],
    ['BT.2020', ColorMatrix.BT2020],
    ['BT.601, said', ColorMatrix.BT601],
    ['BT.601 of full range', ColorMatrix.BT601, true],
    ['BT.709 of full range', ColorMatrix.BT709, true],
  ])('converts %s exactly as its arithmetic says', (_, colorMatrix, fullRange = false) => {
    const image = { ...randomI420(37, 11), colorMatrix, fullRange };

    expect(Buffer.compare(converter.toBgr(image).data, referenceBgr(image))).toBe(0);
  });

  it('reads padded Y rows, and chroma rows half their stride (rounded up)', () => {
    const image = randomI420(7, 5, 11);

    expect(Buffer.compare(converter.toBgr(image).data, referenceBgr(image))).toBe(0);
  });

  it('keeps the pixels around a converted frame: one of another size, then this one again', () => {
    const small = randomI420(5, 3);
    converter.toBgr(randomI420(40, 20));

    expect(Buffer.compare(converter.toBgr(small).data, referenceBgr(small))).toBe(0);
  });

  it('writes RGB as BGR with red and blue swapped, into the memory given', () => {
    const image = randomI420(19, 7);
    const bgr = referenceBgr(image);
    const into = new Uint8Array(19 * 7 * 3 + 5).fill(0xaa);

    const rgb = converter.toRgb(image, into);

    expect(rgb.data).toBe(into);
    expect(rgb.stride).toBe(57);
    for (let at = 0; at < bgr.length; at += 3) expect([into[at], into[at + 1], into[at + 2]]).toEqual([bgr[at + 2], bgr[at + 1], bgr[at]]);
    expect([...into.subarray(bgr.length)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa, 0xaa]);
  });

  // ITU-R's luma weights (Kr, Kb) and the limited-range equations written out in floating point.
  it.each([
    ['BT.601 limited range', undefined, false, 0.299, 0.114],
    ['BT.709 limited range', ColorMatrix.BT709, false, 0.2126, 0.0722],
    ['BT.2020 limited range', ColorMatrix.BT2020, false, 0.2627, 0.0593],
    ['BT.601 full range', undefined, true, 0.299, 0.114],
    ['BT.709 full range', ColorMatrix.BT709, true, 0.2126, 0.0722],
  ])('is %s to within a level, saturating below black and above white', (_, colorMatrix, fullRange, kr, kb) => {
    const kg = 1 - kr - kb;
    const [black, white, chromaSpan] = fullRange ? [0, 255, 255] : [16, 235, 224];
    const exact = (y: number, u: number, v: number) => {
      const [luma, pb, pr] = [(y - black) / (white - black), (u - 128) / chromaSpan, (v - 128) / chromaSpan];
      const [red, blue] = [luma + 2 * (1 - kr) * pr, luma + 2 * (1 - kb) * pb];
      const green = (luma - kr * red - kb * blue) / kg;
      return [blue, green, red].map((value) => Math.max(0, Math.min(255, Math.round(value * 255))));
    };
    const pixel = (y: number, u: number, v: number) => [...converter.toBgr({ data: new Uint8Array([y, u, v]), width: 1, height: 1, stride: 1, colorMatrix, fullRange }).data];
    for (const y of [0, 16, 17, 100, 235, 255]) {
      for (const [u, v] of [[128, 128], [0, 0], [255, 255], [255, 0], [0, 255], [90, 200]]) {
        exact(y, u, v).forEach((value, c) => expect(Math.abs(pixel(y, u, v)[c] - value)).toBeLessThanOrEqual(1));
      }
    }
    expect(pixel(black, 128, 128)).toEqual([0, 0, 0]);
    expect(pixel(white, 128, 128)).toEqual([255, 255, 255]);
  });

  // swscale's SIMD path truncates where this rounds: its pixels come out about a level darker (measured at BT.601:
  // 0.97, 1.51 and 0.96 on average for B, G and R; 10 % equal, 0.7 % three apart, none further). The other matrix
  // would be tens of levels off on coloured pixels, the other range on bright and dark ones.
  it.each([
    ['BT.601', undefined, 'bt601', false],
    ['BT.709', ColorMatrix.BT709, 'bt709', false],
    ['BT.601 full-range', undefined, 'bt601', true],
  ])('agrees with ffmpeg (swscale) converting the same %s I420 frame to BGR, to within three levels', (_, colorMatrix, swscaleMatrix, fullRange) => {
    const [width, height] = [640, 480];
    const range = fullRange ? 'pc' : 'tv';
    const i420 = ffmpeg(['-i', join(FRAMES, 'dev-a/frame_000.png'), '-vf', `scale=out_color_matrix=${swscaleMatrix}:out_range=${range}`, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-']);
    const swscale = ffmpeg(['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-i', '-', '-vf', `scale=in_color_matrix=${swscaleMatrix}:in_range=${range}`, '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-'], i420);

    const ours = converter.toBgr({ data: i420, width, height, stride: width, colorMatrix, fullRange }).data;
    // The other matrix, or the other range.
    const otherMatrix = converter.toBgr({ data: i420, width, height, stride: width, colorMatrix: colorMatrix || fullRange ? undefined : ColorMatrix.BT709 }).data;

    const differences = (converted: Uint8Array) => {
      let [largest, total] = [0, 0];
      for (let at = 0; at < converted.length; at++) {
        const difference = Math.abs(converted[at] - swscale[at]);
        largest = Math.max(largest, difference);
        total += difference;
      }
      return { largest, mean: total / converted.length };
    };
    const { largest, mean } = differences(ours);
    expect(largest).toBeLessThanOrEqual(3);
    expect(mean).toBeLessThan(1.5);
    expect(differences(otherMatrix).largest).toBeGreaterThan(15);
  });

  it('refuses data too short for its size, a stride under its width, and too little room', () => {
    expect(() => converter.toBgr({ data: new Uint8Array(26), width: 5, height: 3, stride: 5 })).toThrow('I420 data has 26 bytes, a 5x3 image with stride 5 needs 27');
    expect(() => converter.toBgr({ data: new Uint8Array(27), width: 5, height: 3, stride: 4 })).toThrow("an I420 image's stride 4 is less than its width 5");
    expect(() => converter.toBgr({ data: new Uint8Array(27), width: 5, height: 3, stride: 5 }, new Uint8Array(44))).toThrow('a 5x3 image needs 45 bytes, the buffer given has 44');
    expect(() => converter.toBgr({ data: new Uint8Array(27), width: 5, height: 3, stride: 5, colorMatrix: 4 as ColorMatrix })).toThrow('no conversion for colour matrix 4');
  });
});
