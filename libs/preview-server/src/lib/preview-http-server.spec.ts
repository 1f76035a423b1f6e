import { Script } from 'node:vm';
import { PixelFormat, type Detections } from '@iev/frame-protocol';
import sharp from 'sharp';
import { MjpegStreams, pictureHeader } from './mjpeg-streams';
import { ModuleHealth } from './module-health';
import { startPreviewHttpServer, type PreviewHttpServer } from './preview-http-server';
import { PREVIEW_PAGE } from './preview-page';
import { annotatedJpeg, plainJpeg, PreviewRenderer } from './preview-renderer';
import { PreviewSources } from './preview-sources';

const [width, height] = [320, 240];
// A mid-grey frame: an outline drawn into it would change pixels the plain JPEG must leave alone.
const pixels = new Uint8Array(width * height * 3).fill(128);
const detections: Detections = {
  frame: { sourceId: 'cam', sequence: 3, captureTimeMs: 1000 },
  width,
  height,
  modelId: 'm',
  boxes: [{ points: [[20, 100], [200, 100], [200, 140], [20, 140]], score: 0.9, text: 'EXIT 12 ✓', textScore: 0.95 }],
  timings: { transportMs: 1, preprocessMs: 1, inferenceMs: 1, postprocessMs: 1 },
  publishedAtMs: 1100,
};

/** The first part of a multipart stream: its headers and body. */
async function firstPart(url: string): Promise<{ contentType: string; headers: Map<string, string>; body: Buffer }> {
  const response = await fetch(url);
  let buffered = Buffer.alloc(0);
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) continue;
    const headers = new Map(
      buffered
        .subarray(0, end)
        .toString('latin1')
        .split('\r\n')
        .filter((line) => line.includes(':'))
        .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()] as [string, string]),
    );
    const length = Number(headers.get('content-length'));
    if (buffered.length < end + 4 + length) continue;
    // Leaving the loop cancels the body: the client goes away mid-stream.
    return { contentType: response.headers.get('content-type') ?? '', headers, body: buffered.subarray(end + 4, end + 4 + length) };
  }
  throw new Error('the stream ended before its first part');
}

describe('the preview HTTP server', () => {
  let http: PreviewHttpServer;
  const url = (path: string) => `http://127.0.0.1:${http.port}${path}`;

  beforeAll(async () => {
    const sources = new PreviewSources(['cam', 'idle']);
    sources.addFrame({ sourceId: 'cam', sequence: 3, captureTimeMs: 1000, width, height, stride: width * 3, pixelFormat: PixelFormat.BGR24, pixels });
    sources.addDetections(detections);
    const renderer = new PreviewRenderer(sources, annotatedJpeg());
    const fail = (error: unknown) => {
      throw error;
    };
    http = await startPreviewHttpServer({
      port: 0,
      host: '127.0.0.1',
      sources,
      renderer,
      streams: new MjpegStreams(renderer, fail),
      liveStreams: new MjpegStreams(new PreviewRenderer(sources, plainJpeg()), fail, pictureHeader),
      health: new ModuleHealth({}),
    });
  });
  afterAll(() => http.close());

  it('streams plain frames on live.mjpeg, each part carrying the overlay of exactly its frame', async () => {
    const { contentType, headers, body } = await firstPart(url('/sources/cam/live.mjpeg'));
    expect(contentType).toMatch(/^multipart\/x-mixed-replace; boundary=/);
    expect(headers.get('content-type')).toBe('image/jpeg');
    const picture = JSON.parse(decodeURIComponent(headers.get('x-picture') ?? ''));
    expect(picture).toMatchObject({ sequence: 3, paired: true, overlay: { width, height, outlines: [{ points: detections.boxes[0].points, colour: 'rgb(0,230,64)' }] } });
    expect(picture.overlay.labels).toEqual([expect.objectContaining({ text: 'EXIT 12 ✓ (0.95)', x: 20, anchor: 'start' })]);
    // The frame as it came, nothing drawn: grey everywhere, the outline's edge included.
    const { data, info } = await sharp(body).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([width, height]);
    expect(data.reduce((worst, value) => Math.max(worst, Math.abs(value - 128)), 0)).toBeLessThanOrEqual(2);
  });

  it('draws the boxes into stream.mjpeg and latest.jpg', async () => {
    const { body } = await firstPart(url('/sources/cam/stream.mjpeg'));
    const latest = Buffer.from(await (await fetch(url('/sources/cam/latest.jpg'))).arrayBuffer());
    for (const jpeg of [body, latest]) {
      const { data } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
      // On the left edge, halfway down: the outline's green.
      const i = (120 * width + 20) * 3;
      expect([data[i], data[i + 1], data[i + 2]].map((value) => Math.round(value / 32))).toEqual([0, 7, 2]);
    }
  });

  it('answers 503 for a source without a frame yet and 404 for a page that does not exist', async () => {
    expect((await fetch(url('/sources/idle/latest.jpg'))).status).toBe(503);
    expect((await fetch(url('/sources/cam/nothing'))).status).toBe(404);
  });

  it("serves a page whose script is valid JavaScript", () => {
    const script = /<script>([\s\S]*)<\/script>/.exec(PREVIEW_PAGE)?.[1] ?? '';
    expect(script).toContain('live.mjpeg');
    expect(() => new Script(script)).not.toThrow();
  });
});
