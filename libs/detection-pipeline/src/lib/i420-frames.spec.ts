import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { I420Converter, pairByIoU, type ImageView, type Quad } from '@iev/text-detection';
import { loadTextDetector } from './load-text-detector';
import type { TextDetector } from './text-detector';

const ROOT = join(__dirname, '../../../..');
const DEMO = join(ROOT, 'assets/demo/demo.mp4');
const [WIDTH, HEIGHT] = [640, 480];

/** Every second frame of the demo at 2 fps, as ffmpeg decodes it to `pixelFormat`. */
function demoFrames(pixelFormat: 'bgr24' | 'yuv420p'): Buffer[] {
  const decoded = spawnSync('ffmpeg', ['-v', 'error', '-i', DEMO, '-vf', 'fps=2', '-f', 'rawvideo', '-pix_fmt', pixelFormat, '-'], { maxBuffer: 1 << 30 });
  if (decoded.status !== 0) throw new Error(`ffmpeg could not decode ${DEMO}: ${decoded.stderr}`);
  const frameBytes = pixelFormat === 'bgr24' ? WIDTH * HEIGHT * 3 : (WIDTH * HEIGHT * 3) / 2;
  return Array.from({ length: Math.floor(decoded.stdout.length / frameBytes) }, (_, k) => decoded.stdout.subarray(k * frameBytes, (k + 1) * frameBytes));
}

describe('I420 frames (what capture sends) against BGR24 ones (what the sample decoded), on the demo video', () => {
  let detector: TextDetector;
  beforeAll(async () => {
    detector = await loadTextDetector({ preset: 'default', modelsDir: join(ROOT, 'models'), threads: 1, streams: 1, useTensorRt: false, log: { info: () => undefined, warn: () => undefined } });
  }, 60_000);
  afterAll(() => detector?.backend.dispose());

  it('finds the same boxes, converted as inference converts them', async () => {
    const converter = new I420Converter();
    const [bgrFrames, i420Frames] = [demoFrames('bgr24'), demoFrames('yuv420p')];
    expect(i420Frames).toHaveLength(bgrFrames.length);
    const quadsOf = async (image: ImageView) => (await detector.detect(image)).boxes.map((box) => box.points as Quad);
    let [boxes, paired, iouSum] = [0, 0, 0];
    for (let k = 0; k < bgrFrames.length; k++) {
      const fromBgr = await quadsOf({ data: bgrFrames[k], width: WIDTH, height: HEIGHT, stride: WIDTH * 3 });
      const fromI420 = await quadsOf(converter.toBgr({ data: i420Frames[k], width: WIDTH, height: HEIGHT, stride: WIDTH }));
      const pairs = pairByIoU(fromBgr, fromI420, 0.5);
      boxes += Math.max(fromBgr.length, fromI420.length);
      paired += pairs.length;
      iouSum += pairs.reduce((sum, { iou }) => sum + iou, 0);
    }
    // Measured: 800 of 819 boxes paired over 48 frames, mean IoU 0.992; the rest are boxes at the score threshold that a
    // level of difference in the pixels (swscale truncates, the converter rounds) tips either way.
    expect(bgrFrames.length).toBeGreaterThanOrEqual(40);
    expect(paired / boxes).toBeGreaterThanOrEqual(0.95);
    expect(iouSum / paired).toBeGreaterThanOrEqual(0.97);
  }, 120_000);
});
