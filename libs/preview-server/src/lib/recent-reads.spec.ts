import { PixelFormat, type DetectedBox, type Detections, type Frame, type Point } from '@iev/frame-protocol';
import sharp from 'sharp';
import { FORGET_SILENT_SOURCE_MS, PreviewSources } from './preview-sources';
import { LINE_THUMBNAIL_MAX } from './line-thumbnail';
import { RECENT_READS_PER_SOURCE, RecentReads } from './recent-reads';

const [WIDTH, HEIGHT] = [96, 48];
/** The line every spec reads unless it says otherwise: a white 40×12 rectangle at (20, 16) of a black frame. */
const LINE = { x: 20, y: 16, width: 40, height: 12 };

/** A black BGR24 frame of 'cam' with the white rectangle LINE, captured at 1000 + sequence ms. */
const frameOf = (sequence: number): Frame => {
  const pixels = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let y = LINE.y; y < LINE.y + LINE.height; y++) pixels.fill(255, (y * WIDTH + LINE.x) * 3, (y * WIDTH + LINE.x + LINE.width) * 3);
  return { sourceId: 'cam', sequence, captureTimeMs: 1000 + sequence, width: WIDTH, height: HEIGHT, stride: WIDTH * 3, pixelFormat: PixelFormat.BGR24, pixels };
};
const corners = ({ x, y, width, height }: typeof LINE): [Point, Point, Point, Point] => [[x, y], [x + width, y], [x + width, y + height], [x, y + height]];
const line = (lineId: number, text: string, textScore: number, rect = LINE): DetectedBox => ({ points: corners(rect), score: 0.9, text, textScore, lineId });
const detectionsOf = (sequence: number, boxes: DetectedBox[], runId = 'run-a'): Detections => ({
  frame: { sourceId: 'cam', sequence, captureTimeMs: 1000 + sequence },
  width: WIDTH,
  height: HEIGHT,
  modelId: 'm',
  boxes,
  timings: { transportMs: 1, preprocessMs: 1, inferenceMs: 1, postprocessMs: 1 },
  publishedAtMs: 1000 + sequence + 50,
  runId,
});

function setUp(perSource?: number) {
  const sources = new PreviewSources();
  const failures: unknown[] = [];
  const reads = new RecentReads(sources, (error) => failures.push(error), perSource);
  /** Frame and detections of `sequence`, the frame first, as capture and inference send them; or the detections alone. */
  const feed = (sequence: number, boxes: DetectedBox[], { withFrame = true, runId = 'run-a' } = {}) => {
    if (withFrame) sources.addFrame(frameOf(sequence));
    sources.addDetections(detectionsOf(sequence, boxes, runId));
  };
  const list = () => reads.list('cam', '/sources/cam/reads', 2000);
  const settled = async () => {
    for (const read of list()) if (read.thumbnail) await reads.thumbnail('cam', read.thumbnail.url.split('/').pop() as string);
  };
  return { sources, reads, failures, feed, list, settled };
}

describe('RecentReads', () => {
  it("cuts a line out of the frame it was read in, a JPEG that decodes to the line's size and pixels", async () => {
    const { reads, feed, list, failures } = setUp();
    feed(1, [line(7, 'BUS 42', 0.8)]);
    const [read] = list();
    expect(read).toMatchObject({ runId: 'run-a', lineId: 7, best: { text: 'BUS 42', textScore: 0.8 }, firstSeenMs: 1001, lastSeenMs: 1001, ageMs: 999 });
    expect(read.latest).toBeUndefined();
    expect(read.thumbnail).toMatchObject({ url: expect.stringMatching(/^\/sources\/cam\/reads\/[0-9a-f]{8}-\d+\.jpg$/), width: LINE.width, height: LINE.height });
    const jpeg = await reads.thumbnail('cam', (read.thumbnail?.url ?? '').split('/').pop() as string);
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    expect([info.format, info.width, info.height]).toEqual(['raw', LINE.width, LINE.height]);
    // White inside, as the line is: a crop one pixel off would bring the black border in.
    expect(Math.min(...data)).toBeGreaterThan(200);
    expect(failures).toEqual([]);
  });

  it("scales a 4K camera's full-width line down to what the page shows, its shape kept: 50 such at their own size would weigh megabytes, on a slow link too", async () => {
    const { sources, reads, list, failures } = setUp();
    const [width, height] = [3840, 2160];
    // A plain loop: Uint8Array.from with a mapper over these 25 M bytes took seconds of the test's 5 on a loaded machine.
    const pixels = new Uint8Array(width * height * 3);
    for (let index = 0; index < pixels.length; index++) pixels[index] = (index * 7) % 251;
    sources.addFrame({ sourceId: 'cam', sequence: 1, captureTimeMs: 1001, width, height, stride: width * 3, pixelFormat: PixelFormat.BGR24, pixels });
    sources.addDetections({ ...detectionsOf(1, [line(9, 'PLATFORM 9 DEPARTS', 0.9, { x: 0, y: 960, width, height: 240 })]), width, height });
    const [read] = list();
    const jpeg = (await reads.thumbnail('cam', (read.thumbnail?.url ?? '').split('/').pop() as string)) as Buffer;
    const { width: shownWidth, height: shownHeight } = await sharp(jpeg).metadata();
    expect([shownWidth, shownHeight]).toEqual([LINE_THUMBNAIL_MAX.width, LINE_THUMBNAIL_MAX.width / 16]);
    expect(read.thumbnail).toMatchObject({ width: shownWidth, height: shownHeight });
    expect(failures).toEqual([]);
  }, 30_000);

  it('encodes only for a new line or a better read, not per frame; keeps the best text and says the latest', async () => {
    const { reads, feed, list, settled } = setUp();
    for (let sequence = 1; sequence <= 20; sequence++) feed(sequence, [line(7, 'BUS 42', 0.8)]);
    await settled();
    expect(reads.encoded).toBe(1);
    const firstUrl = list()[0].thumbnail?.url;
    feed(21, [line(7, 'BUS 42!', 0.95)]);
    await settled();
    expect(reads.encoded).toBe(2);
    const improvedUrl = list()[0].thumbnail?.url;
    expect(improvedUrl).not.toBe(firstUrl); // a new URL for the new picture: the old one may be cached for good
    expect(reads.thumbnail('cam', firstUrl?.split('/').pop() as string)).toBeUndefined();
    for (let sequence = 22; sequence <= 30; sequence++) feed(sequence, [line(7, 'BU5 42', 0.6)]);
    await settled();
    expect(reads.encoded).toBe(2);
    expect(list()).toEqual([
      expect.objectContaining({ best: { text: 'BUS 42!', textScore: 0.95 }, latest: { text: 'BU5 42', textScore: 0.6 }, firstSeenMs: 1001, lastSeenMs: 1030, thumbnail: expect.objectContaining({ url: improvedUrl, textScore: 0.95 }) }),
    ]);
  });

  it("lists a line read on a frame the preview did not take without a picture, and cuts it from the next kept frame with that read", async () => {
    const { reads, feed, list, settled } = setUp();
    feed(1, [line(3, 'EXIT', 0.9)], { withFrame: false });
    expect(list()).toEqual([expect.objectContaining({ lineId: 3, best: { text: 'EXIT', textScore: 0.9 }, thumbnail: null })]);
    feed(2, [line(3, 'EXIT', 0.7)]);
    await settled();
    expect(list()[0]).toMatchObject({ best: { textScore: 0.9 }, thumbnail: { textScore: 0.7 } });
    expect(list()[0].latest).toBeUndefined(); // the same text, read less surely
    feed(3, [line(3, 'EXIT', 0.9)]); // the best read carried onto a kept frame
    await settled();
    expect(list()[0].thumbnail).toMatchObject({ textScore: 0.9 });
    expect(reads.encoded).toBe(2);
  });

  it('cuts the line from a frame that comes after its detections (inference published them before the preview asked)', async () => {
    const { sources, reads, list, settled } = setUp();
    sources.addDetections(detectionsOf(1, [line(5, 'EXIT', 0.9)]));
    sources.addDetections(detectionsOf(2, [line(5, 'EXlT', 0.6)]));
    expect(list()[0].thumbnail).toBeNull();
    sources.addFrame(frameOf(1));
    await settled();
    // Pictured, and the texts left as the newer detections made them.
    expect(list()[0]).toMatchObject({ best: { text: 'EXIT' }, latest: { text: 'EXlT' }, lastSeenMs: 1002, thumbnail: { textScore: 0.9, width: LINE.width } });
    expect(reads.encoded).toBe(1);
  });

  it('keeps the most recently seen lines, newest first, with hundreds passing: a line still in view stays, per run', async () => {
    const { feed, list, settled } = setUp();
    const ticker = { x: 0, y: 0, width: 8, height: 4 };
    for (let sequence = 1; sequence <= 400; sequence++) {
      // A steady sign in every frame, and a new ticker line each frame; inference restarted at 200 (a new run's ids).
      const runId = sequence < 200 ? 'run-a' : 'run-b';
      feed(sequence, [line(1, 'STOP', 0.9), line(1000 + sequence, `T${sequence}`, 0.8, ticker)], { runId, withFrame: sequence % 5 === 0 });
    }
    await settled();
    const listed = list();
    expect(listed).toHaveLength(RECENT_READS_PER_SOURCE);
    // Newest first by when each line appeared; the old run's sign, unseen since 199 frames ago, went with the old lines.
    const texts = listed.map((read) => read.best.text);
    expect(texts.slice(0, 3)).toEqual(['T400', 'T399', 'T398']);
    expect(listed.filter((read) => read.best.text === 'STOP').map((read) => read.runId)).toEqual(['run-b']);
    expect(texts).not.toContain('T351');
    expect(listed.find((read) => read.best.text === 'STOP')).toMatchObject({ firstSeenMs: 1200, lastSeenMs: 1400 });
  });

  it("marks the lines an inference run before a restart read: a sign still in view is listed again under the new run's id", () => {
    const { feed, list } = setUp();
    feed(1, [line(1, 'STOP', 0.9), line(2, 'EXIT', 0.8)]);
    expect(list().map((read) => [read.best.text, read.earlierRun ?? false])).toEqual([
      ['EXIT', false],
      ['STOP', false],
    ]);
    // Inference restarted: its first detections, nothing read yet, already make the old run's lines history.
    feed(2, [], { runId: 'run-b' });
    expect(list().map((read) => read.earlierRun ?? false)).toEqual([true, true]);
    // The new run's tracker reads the sign again under an id of its own; EXIT went out of view meanwhile.
    feed(3, [line(1, 'STOP', 0.9)], { runId: 'run-b' });
    expect(list().map((read) => [read.runId, read.best.text, read.earlierRun ?? false])).toEqual([
      ['run-b', 'STOP', false],
      ['run-a', 'EXIT', true],
      ['run-a', 'STOP', true],
    ]);
  });

  it("marks a stopped camera's lines too once the restarted inference publishes another camera's detections", () => {
    const { sources, reads, feed } = setUp();
    const door = (sequence: number, runId: string): Detections => {
      const detections = detectionsOf(sequence, [line(1, 'EXIT', 0.8)], runId);
      return { ...detections, frame: { ...detections.frame, sourceId: 'door' } };
    };
    feed(1, [line(1, 'STOP', 0.9)]);
    sources.addDetections(door(1, 'run-a'));
    // cam's frames stop; inference restarts, and reads the door under its new run.
    sources.addDetections(door(2, 'run-b'));
    const marks = (sourceId: string) => reads.list(sourceId, `/sources/${sourceId}/reads`, 2000).map((read) => [read.runId, read.best.text, read.earlierRun ?? false]);
    expect(marks('cam')).toEqual([['run-a', 'STOP', true]]);
    expect(marks('door')).toEqual([
      ['run-b', 'EXIT', false],
      ['run-a', 'EXIT', true],
    ]);
  });

  it("forgets a forgotten source's lines", () => {
    const { sources, feed, list } = setUp();
    feed(1, [line(7, 'BUS 42', 0.8)]);
    expect(list()).toHaveLength(1);
    sources.forgetSilent(performance.now() + FORGET_SILENT_SOURCE_MS + 1);
    expect(sources.has('cam')).toBe(false);
    expect(list()).toEqual([]);
  });

  it('leaves out boxes with no line id or no text: nothing follows them, or nothing was read yet', () => {
    const { feed, list } = setUp();
    feed(1, [{ points: corners(LINE), score: 0.9 }, { points: corners(LINE), score: 0.9, text: 'X', textScore: 0.5 }, { points: corners(LINE), score: 0.9, lineId: 4 }]);
    expect(list()).toEqual([]);
  });
});
