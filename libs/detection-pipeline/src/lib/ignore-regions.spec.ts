import { join } from 'node:path';
import { regionsCodec, type DetectedBox } from '@iev/frame-protocol';
import { videoFrames, type VideoFrame } from '@iev/testing';
import { normalizeText } from '@iev/text-recognition';
import { IgnoredRegions, readRegionsBySource, regionsBySourceVariable, withOwnRegionLists } from './ignore-regions';
import { InOrderDetections, type FrameDetections } from './in-order-detections';
import { loadTextDetector } from './load-text-detector';
import type { TextDetector } from './text-detector';
import { loadVideoTextReader, type VideoTextReader } from './video-text-reader';

const ROOT = join(__dirname, '../../../..');
const DEMO = join(ROOT, 'assets/demo/demo.mp4');
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';
const [WIDTH, HEIGHT] = [640, 480];

/** A box of `width`×`height` pixels centred on (x, y). */
const boxAt = (x: number, y: number, width = 40, height = 10): DetectedBox => ({
  points: [
    [x - width / 2, y - height / 2],
    [x + width / 2, y - height / 2],
    [x + width / 2, y + height / 2],
    [x - width / 2, y + height / 2],
  ],
  score: 0.9,
});
const centreOf = ({ points }: DetectedBox): [number, number] => [points.reduce((sum, [x]) => sum + x, 0) / 4, points.reduce((sum, [, y]) => sum + y, 0) / 4];
const regions = (json: unknown) => IgnoredRegions.fromText(JSON.stringify(json));
const refusal = (json: unknown) => {
  try {
    regionsBySourceVariable('IGNORE_REGIONS').parse(typeof json === 'string' ? json : JSON.stringify(json));
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
};

describe('IgnoredRegions', () => {
  it('drops the boxes whose centre lies in a region, in fractions of the frame or in pixels, rectangle or polygon', () => {
    const boxes = [boxAt(100, 20), boxAt(100, 200), boxAt(600, 460), boxAt(300, 470)];
    // The top 10 % of the frame, in fractions: holds whatever size the camera is scaled to.
    expect(regions({ camera0: [[0, 0, 1, 0.1]] }).split('camera0', boxes, WIDTH, HEIGHT)).toEqual({ kept: boxes.slice(1), ignored: 1 });
    // The same frame at twice the size: the same fraction holds the same box.
    const doubled = boxes.map(({ points, score }) => ({ points: points.map(([x, y]) => [x * 2, y * 2]) as DetectedBox['points'], score }));
    expect(regions({ camera0: [[0, 0, 1, 0.1]] }).split('camera0', doubled, WIDTH * 2, HEIGHT * 2).ignored).toBe(1);
    // Pixels, and a triangle in the bottom-right corner: (600, 460) is inside, (300, 470) below its diagonal is not.
    const corner = [[[640, 380], [640, 480], [440, 480]]];
    expect(regions({ camera0: [[80, 190, 40, 20], ...corner] }).split('camera0', boxes, WIDTH, HEIGHT)).toEqual({ kept: [boxes[0], boxes[3]], ignored: 2 });
    // A box only partly inside counts by its centre: a long line touching the region is kept.
    expect(regions({ camera0: [[0, 0, 320, 480]] }).split('camera0', [boxAt(330, 100, 200)], WIDTH, HEIGHT).ignored).toBe(0);
  });

  it("takes a camera's own list, else the `*` list; an empty own list ignores nothing", () => {
    const inForce = regions({ '*': [[0, 0, 1, 0.5]], door: [], yard: [[0, 0.5, 1, 0.5]] });
    const boxes = [boxAt(100, 100), boxAt(100, 400)];
    expect(inForce.split('camera0', boxes, WIDTH, HEIGHT).kept).toEqual([boxes[1]]);
    expect(inForce.split('door', boxes, WIDTH, HEIGHT).kept).toEqual(boxes);
    expect(inForce.split('yard', boxes, WIDTH, HEIGHT).kept).toEqual([boxes[0]]);
    expect(IgnoredRegions.fromText(undefined).split('camera0', boxes, WIDTH, HEIGHT)).toEqual({ kept: boxes, ignored: 0 });
  });

  it('refuses a key no camera can have (empty, or longer than a SOURCE_ID): the regions announced to the preview could not carry it', () => {
    const announced = (json: unknown) => regionsCodec.decode(regionsCodec.encode({ regions: regions(json).byKey(), repeatMs: 2000 })).regions;
    // `{"${CAMERA}": ...}` in a template whose variable was unset.
    expect(refusal({ '': [[0, 0, 0.5, 0.5]], door: [[0, 0, 0.1, 0.1]] })).toBe('names a camera by an empty key: give its SOURCE_ID, or "*" for every camera');
    expect(refusal({ ['d'.repeat(257)]: [[0, 0, 0.5, 0.5]] })).toMatch(/^names a camera by a key of 257 bytes: a SOURCE_ID has at most 256 in UTF-8/);
    // What it takes, the preview is told: every camera's.
    expect(Object.keys(announced({ ['d'.repeat(256)]: [[0, 0, 0.5, 0.5]], door: [], '*': [[0, 0, 0.1, 0.1]] }))).toEqual(['d'.repeat(256), 'door', '*']);
  });

  it('refuses a bad value naming the camera, the region and why', () => {
    expect(refusal('{"camera0": [[0, 0, 1, 1]')).toBe('must be JSON');
    expect(refusal([[0, 0, 1, 1]])).toMatch(/^must be a JSON object of region lists by SOURCE_ID/);
    expect(refusal({ door: [0, 0, 1, 1] })).toBe('camera "door" region 0 must be a rectangle [x, y, width, height] or a polygon [[x, y], [x, y], [x, y], ...], got 0');
    expect(refusal({ door: [[0, 0, 0.5, 0.2]], yard: [[0, 0, 0.5, 0.2], [0.5, 0.5, 0, 0.2]] })).toBe('camera "yard" region 1 has no area: its width and height must be above 0, got [0.5,0.5,0,0.2]');
    // A polygon whose points lie on one line, or repeat, holds no point: refused as a zero-width rectangle is.
    expect(refusal({ door: [[[0, 0], [100, 50], [200, 100]]] })).toBe('camera "door" region 0 has no area: its points must not all lie on one line, got [[0,0],[100,50],[200,100]]');
    expect(refusal({ yard: [[0, 0, 0.5, 0.2], [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.6, 0.6]]] })).toBe(
      'camera "yard" region 1 has no area: its points must not all lie on one line, got [[0.5,0.5],[0.5,0.5],[0.5,0.5],[0.6,0.6]]',
    );
    expect(refusal({ door: [[[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]]] })).toMatch(/^camera "door" region 0 has no area/);
    expect(refusal({ door: [[[0, 0], [1, 0], [0, 0.001]]] })).toBe('accepted');
    expect(refusal({ door: [[0.6, 0, 0.5, 0.2]] })).toBe('camera "door" region 0 reaches past the frame: x + width and y + height must be at most 1 in fractions, got [0.6,0,0.5,0.2]');
    expect(refusal({ door: [[0.1, 0.8, 200, 0.1]] })).toBe(
      'camera "door" region 0 mixes fractions of the frame with pixels (a number above 1 is a pixel): give all in whole pixels or all from 0 to 1, got [0.1,0.8,200,0.1]',
    );
    expect(refusal({ door: [[-10, 0, 100, 20]] })).toBe('camera "door" region 0 must hold numbers of 0 or more, got [-10,0,100,20]');
    expect(refusal({ door: [[[0, 0], [1, 1]]] })).toMatch(/^camera "door" region 0 must be a rectangle .* or a polygon/);
    expect(refusal({ door: { clock: [0, 0, 1, 1] } })).toBe('camera "door" must be a list of regions ([x, y, width, height] or [[x, y], ...]), got {"clock":[0,0,1,1]}');
    expect(refusal({ door: Array.from({ length: 300 }, () => [0, 0, 0.5, 0.5]) })).toMatch(/^must be at most 4096 bytes as compact JSON/);
    // Kept as compact text: however it was spaced, the same value.
    expect(regionsBySourceVariable('IGNORE_REGIONS').parse(' { "door" : [ [0, 0, 0.5, 0.2] ] } ')).toBe('{"door":[[0,0,0.5,0.2]]}');
  });

  it("takes a CAPTURE_SOURCES entry's own list over IGNORE_REGIONS' key for its camera", () => {
    const text = withOwnRegionLists('{"door":[[0,0,1,1]],"*":[[0,0,0.5,0.5]]}', [
      ['door', [[0, 0, 0.1, 0.1]]],
      ['yard', undefined],
    ]);
    expect([...readRegionsBySource(text as string)].map(([sourceId, list]) => [sourceId, list.length])).toEqual([
      ['door', 1],
      ['*', 1],
    ]);
    expect(JSON.parse(text as string).door).toEqual([[0, 0, 0.1, 0.1]]);
    expect(withOwnRegionLists(undefined, [['yard', undefined]])).toBeUndefined();
  });
});

/** Each frame through detection and reading as inference runs them, every line asked for read before the next frame. */
async function follow(detector: TextDetector, reader: VideoTextReader, frames: VideoFrame[], ignored: IgnoredRegions): Promise<FrameDetections[]> {
  const published: FrameDetections[] = [];
  const errors: string[] = [];
  const chain = new InOrderDetections({
    detector,
    reader: () => reader,
    ignoredRegions: () => ignored,
    publish: async (_frame, detections) => void published.push(detections),
    log: { error: (_context, message) => errors.push(message) },
  });
  for (const [sequence, { image, timeS }] of frames.entries()) {
    await chain.push({ sourceId: 'camera0', sequence, captureTimeMs: timeS * 1000, image });
    await chain.drain();
    await reader.idle();
  }
  expect(errors).toEqual([]);
  return published;
}

describe('ignore regions on video (real detection and recognition models)', () => {
  let detector: TextDetector;
  const readers: VideoTextReader[] = [];
  /** A reader as inference's (REC_* defaults) that counts the lines it sends to the model. */
  const countingReader = async () => {
    const counted = { lines: 0 };
    const reader = await loadVideoTextReader({
      modelPath: join(ROOT, 'models/ch_PP-OCRv4_rec_infer.onnx'),
      dictionaryPath: join(ROOT, 'models/ppocr_keys_v1.txt'),
      threads: 1,
      minScore: 0.5,
      refreshMs: 5000,
      onBatchRead: ({ reasons }) => void (counted.lines += reasons.length),
    });
    readers.push(reader);
    return { reader, counted };
  };
  beforeAll(async () => {
    detector = await loadTextDetector({ preset: 'default', modelsDir: join(ROOT, 'models'), threads: 1, streams: 1, useTensorRt: false, log: { info: () => undefined, warn: () => undefined } });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(readers.map((reader) => reader.dispose()));
    await detector.backend.dispose();
  });

  it("leaves the demo's pharmacy sign unread and unpublished under a region in pixels, and every other line as it was", async () => {
    // The sign the demo's script draws at x 30-240, y 366-428, measured in pixels as on a snapshot.
    const pharmacy = { camera0: [[30, 366, 210, 62]] };
    const inside = ([x, y]: [number, number]) => x >= 30 && x <= 240 && y >= 366 && y <= 428;
    const frames = videoFrames(['-ss', '2', '-t', '2', '-i', DEMO], { width: WIDTH, height: HEIGHT, fps: 5 });
    const plain = await countingReader();
    const all = await follow(detector, plain.reader, frames, IgnoredRegions.NONE);
    const masked = await countingReader();
    const without = await follow(detector, masked.reader, frames, regions(pharmacy));

    // Without the region the sign is found and read: what the region must take away.
    const texts = (published: FrameDetections[]) => published.flatMap(({ boxes }) => boxes.map(({ text }) => text ?? ''));
    expect(texts(all).filter((text) => /PHARMACY|ring bell/.test(text)).length).toBeGreaterThan(0);
    expect(without.map(({ ignored }) => ignored >= 2)).toEqual(without.map(() => true));
    expect(texts(without).filter((text) => /PHARMACY|ring bell/.test(text))).toEqual([]);
    expect(without.flatMap(({ boxes }) => boxes).filter((box) => inside(centreOf(box)))).toEqual([]);
    // Fewer lines to the model (the sign's two), and every other box published as before, with the same text at the end.
    expect(masked.counted.lines).toBeLessThanOrEqual(plain.counted.lines - 2);
    const outside = (published: FrameDetections[]) => published.map(({ boxes }) => boxes.filter((box) => !inside(centreOf(box))).map(({ points }) => points));
    expect(outside(without)).toEqual(outside(all));
    // Spaces aside: a batch is padded to its widest line, and other batches may read a narrow gap either way.
    const lastTexts = (published: FrameDetections[]) => published.at(-1)?.boxes.filter((box) => !inside(centreOf(box))).map(({ text }) => text && normalizeText(text));
    expect(lastTexts(without)).toEqual(lastTexts(all));
  }, 180_000);

  it('warns once per camera and frame size of regions in pixels that reach past its frames, as on a camera scaled to another size', async () => {
    // The pharmacy sign measured in pixels on the demo's 640x480, on a camera scaled to 320x240: below its frames.
    const frames = videoFrames(['-ss', '2', '-t', '0.6', '-i', DEMO], { width: 320, height: 240, fps: 5 });
    const inForce = regions({ scaled: [[30, 366, 210, 62]], fits: [[0, 200, 320, 40]] });
    const warnings: { context: object; message: string }[] = [];
    const chain = new InOrderDetections({
      detector,
      reader: () => undefined,
      ignoredRegions: () => inForce,
      publish: async () => undefined,
      log: { error: () => undefined, warn: (context, message) => void warnings.push({ context, message }) },
    });
    for (const [sequence, { image, timeS }] of frames.entries()) {
      for (const sourceId of ['scaled', 'fits']) await chain.push({ sourceId, sequence, captureTimeMs: timeS * 1000, image });
    }
    await chain.drain();

    expect(frames.length).toBeGreaterThan(1);
    expect(warnings).toEqual([
      {
        context: { sourceId: 'scaled', width: 320, height: 240, regions: [[[30, 366], [240, 366], [240, 428], [30, 428]]] },
        message:
          '1 ignore region(s) of camera "scaled" in pixels reach past its 320x240 frames: measured on a picture of another size (before CAPTURE_WIDTH/CAPTURE_HEIGHT scaled it, or a twin changed its size), ' +
          'they cover another part of the picture, or none; give them in pixels of this size, or in fractions of the frame (0 to 1), which follow its size',
      },
    ]);
  }, 60_000);

  it("reads a camera's clock overlay once a second without a region, and never with one over it", async () => {
    // An IP camera's date and time burnt into the demo's top-right corner, as its OSD would: it changes every second.
    const clock = `drawtext=fontfile=${FONT}:text='%{pts\\:gmtime\\:1796630400\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}':fontsize=18:fontcolor=white:box=1:boxcolor=black:boxborderw=3:x=w-tw-8:y=4`;
    const seconds = 10;
    const frames = videoFrames(['-t', String(seconds), '-i', DEMO], { width: WIDTH, height: HEIGHT, fps: 5, filters: [clock] });
    const plain = await countingReader();
    const all = await follow(detector, plain.reader, frames, IgnoredRegions.NONE);
    const masked = await countingReader();
    // The top 5 % of the frame's right 40 %, in fractions: at any size the camera is scaled to.
    const without = await follow(detector, masked.reader, frames, regions({ '*': [[0.6, 0, 0.4, 0.05]] }));

    const clockTexts = all.flatMap(({ boxes }) => boxes.filter((box) => centreOf(box)[1] < 24).map(({ text }) => text ?? ''));
    expect(clockTexts.some((text) => /2026-12-07/.test(text))).toBe(true);
    const clockReads = plain.counted.lines - masked.counted.lines;
    // Re-read as it changes, no sooner than REC_REREAD_MS (1 s) after its last read.
    expect(clockReads).toBeGreaterThanOrEqual(seconds * 0.6);
    expect(clockReads).toBeLessThanOrEqual(seconds + 1);
    expect(without.map(({ ignored }) => ignored >= 1)).toEqual(without.map(() => true));
    expect(without.flatMap(({ boxes }) => boxes.filter((box) => centreOf(box)[1] < 24))).toEqual([]);
    process.stdout.write(
      `clock overlay, ${seconds} s of video at 5 fps: ${plain.counted.lines} lines read without a region, ${masked.counted.lines} with one over the clock (${clockReads} for the clock: ${((clockReads * 60) / seconds).toFixed(0)} a minute)\n`,
    );
  }, 240_000);
});
