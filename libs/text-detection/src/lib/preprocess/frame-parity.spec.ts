import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PRESETS } from '../presets';
import type { ImageView } from '../types';
import { Preprocessor } from './preprocessor';
import { resizeBilinearU8 } from './resize-bilinear';

const FRAMES = join(__dirname, '../../../../../testdata/text-frames');

/** Decodes a frame to packed BGR with ffmpeg, as the capture side delivers frames. */
function decodeBgr(file: string, width: number, height: number): ImageView {
  const decoded = spawnSync('ffmpeg', ['-v', 'error', '-i', join(FRAMES, file), '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-'], { maxBuffer: 64 << 20 });
  if (decoded.status !== 0) throw new Error(`ffmpeg could not decode ${file}: ${decoded.stderr?.toString() ?? decoded.error}`);
  const data = new Uint8Array(decoded.stdout.buffer, decoded.stdout.byteOffset, decoded.stdout.length);
  expect(data).toHaveLength(width * height * 3);
  return { data, width, height, stride: width * 3 };
}

/** numpy's float32 `(value * scale - mean[c]) / std[c]`. */
function normalized(value: number, c: number): number {
  const { scale, mean, std } = PRESETS.seed.normalize;
  const f = Math.fround;
  return f(f(f(value * f(scale)) - f(mean[c])) / f(std[c]));
}

// BGR pixels of cv2.resize(cv2.imread(frame), (960, 960)) with OpenCV 4.6, at [x, y]: corners,
// borders and a few inside. cv2.imread and ffmpeg decode these PNGs to the same bytes.
const OPENCV_PIXELS: Record<string, { size: [number, number]; pixels: [number, number, number[]][] }> = {
  'dev-a/frame_000.png': {
    size: [640, 480],
    pixels: [
      [0, 0, [132, 0, 158]],
      [1, 1, [135, 3, 161]],
      [959, 959, [66, 242, 246]],
      [17, 958, [91, 146, 210]],
      [958, 2, [95, 163, 221]],
      [480, 333, [98, 130, 206]],
      [301, 77, [177, 57, 86]],
    ],
  },
  'dev-b/frame_000.png': {
    size: [1280, 720],
    pixels: [
      [0, 0, [76, 86, 189]],
      [1, 1, [73, 84, 187]],
      [959, 959, [161, 224, 137]],
      [17, 958, [129, 169, 163]],
      [958, 2, [148, 205, 140]],
      [480, 333, [120, 30, 54]],
      [301, 77, [100, 127, 169]],
    ],
  },
};

describe.each(Object.entries(OPENCV_PIXELS))('on %s, as the original sample', (file, { size: [width, height], pixels }) => {
  let frame: ImageView;
  beforeAll(() => {
    frame = decodeBgr(file, width, height);
  });

  it('resizes to 960x960 exactly like cv2.resize', () => {
    const resized = resizeBilinearU8(frame, 960, 960);
    for (const [x, y, bgr] of pixels) {
      const at = y * resized.stride + x * 3;
      expect({ x, y, bgr: Array.from(resized.data.subarray(at, at + 3)) }).toEqual({ x, y, bgr });
    }
  });

  it('gives the seed tensor the sample feeds the model', () => {
    const { tensor, height: inputHeight, width: inputWidth } = new Preprocessor(PRESETS.seed).run(frame);
    expect([inputHeight, inputWidth]).toEqual([960, 960]);
    for (const [x, y, bgr] of pixels) {
      const values = [0, 1, 2].map((c) => tensor[(c * 960 + y) * 960 + x]);
      expect({ x, y, values }).toEqual({ x, y, values: bgr.map((value, c) => normalized(value, c)) });
    }
  });
});
