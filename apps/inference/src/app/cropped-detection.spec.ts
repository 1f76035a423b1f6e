import { join } from 'node:path';
import { PixelFormat } from '@iev/frame-protocol';
import { type CapturedFrame, prepareSource } from '@iev/capture-sources';
import { loadTextDetector, type TextDetector } from '@iev/detection-pipeline';
import { pairByIoU, type Quad } from '@iev/text-detection';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '../../../..');
const DEMO = join(ROOT, 'assets/demo/demo.mp4');
/** The demo's bottom-left quarter (its pharmacy sign), in its 640x480 pixels. */
const REGION = { x: 0, y: 240, width: 320, height: 240 };

/** The demo's first frame, as capture decodes it with this CAPTURE_CROP, in BGR24. */
async function demoFrame(crop: string): Promise<CapturedFrame> {
  const prepared = await prepareSource({ source: DEMO, fps: 0, width: 0, height: 0, crop }, { pixelFormat: PixelFormat.BGR24, realtime: false, loop: false }, { setting: 'CAMERA_PATH' });
  for await (const frame of prepared.create().frames()) return frame;
  throw new Error('no frame');
}

async function boxes(detector: TextDetector, { header, pixels }: CapturedFrame): Promise<Quad[]> {
  const { boxes } = await detector.detect({ data: pixels, width: header.width, height: header.height, stride: header.stride });
  return boxes.map(({ points }) => points);
}

const inside = (quad: Quad) => quad.every(([x, y]) => x >= REGION.x && x < REGION.x + REGION.width && y >= REGION.y && y < REGION.y + REGION.height);
const outside = (quad: Quad) => quad.every(([x, y]) => x < REGION.x || x >= REGION.x + REGION.width || y < REGION.y || y >= REGION.y + REGION.height);

describe('text detection on a cropped camera (CAPTURE_CROP; real ffmpeg and model)', () => {
  let detector: TextDetector;
  beforeAll(async () => {
    detector = await loadTextDetector({ preset: 'default', modelsDir: join(ROOT, 'models'), threads: 1, streams: 1, useTensorRt: false, log: { info: () => undefined, warn: () => undefined } });
  });
  afterAll(() => detector?.backend.dispose());

  it("finds the lines inside the region, where the whole picture has them, and none of those outside it", async () => {
    const whole = await boxes(detector, await demoFrame(''));
    const cropped = await demoFrame(`${REGION.x},${REGION.y},${REGION.width},${REGION.height}`);
    expect(cropped.header).toMatchObject({ width: REGION.width, height: REGION.height });
    // Back in the whole picture's pixels.
    const found = (await boxes(detector, cropped)).map((quad) => quad.map(([x, y]) => [x + REGION.x, y + REGION.y] as const));

    const linesInside = whole.filter(inside);
    const linesOutside = whole.filter(outside);
    expect(linesInside.length).toBeGreaterThanOrEqual(2);
    expect(linesOutside.length).toBeGreaterThanOrEqual(5);
    // Every line inside is found where it is; nothing found is a line outside.
    expect(pairByIoU(linesInside, found, 0.5)).toHaveLength(linesInside.length);
    expect(pairByIoU(linesOutside, found, 0.1)).toEqual([]);
    expect(found.length).toBeLessThanOrEqual(whole.length - linesOutside.length);
  });
});
