import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectionsCodec, frameCodec, DETECTIONS_TOPIC, FRAMES_TOPIC, PixelFormat, type DetectedBox, type Frame, type Point } from '@iev/frame-protocol';
import type { RecentRead } from '@iev/preview-server';
import { eventually, freePort } from '@iev/testing';
import { HeadlessChromium, INSTALLED_CHROMIUM, withChromium } from '@iev/testing/browser';
import { ClientZmq, ClientZmqOnDemand } from '@iev/zmq-transport';
import { lastValueFrom } from 'rxjs';
import sharp from 'sharp';
import { ModuleProcess, WORKSPACE_ROOT } from './module-process';

const ARTIFACTS = join(WORKSPACE_ROOT, 'dist/test-artifacts/preview');
const [WIDTH, HEIGHT] = [320, 240];
/** Two lines of a sign, white on a dark grey frame: a bus number and, two seconds in, an exit sign. */
const BUS = { x: 40, y: 60, width: 100, height: 20 };
const EXIT = { x: 180, y: 150, width: 60, height: 16 };
const FRAME_INTERVAL_MS = 100;

const corners = ({ x, y, width, height }: typeof BUS): [Point, Point, Point, Point] => [[x, y], [x + width, y], [x + width, y + height], [x, y + height]];

/** The frame, BGR24: every line white, the rest dark grey. */
function signFrame(sequence: number, captureTimeMs: number): Frame {
  const pixels = new Uint8Array(WIDTH * HEIGHT * 3).fill(40);
  for (const { x, y, width, height } of [BUS, EXIT]) for (let row = y; row < y + height; row++) pixels.fill(255, (row * WIDTH + x) * 3, (row * WIDTH + x + width) * 3);
  return { sourceId: 'camera0', sequence, captureTimeMs, width: WIDTH, height: HEIGHT, stride: WIDTH * 3, pixelFormat: PixelFormat.BGR24, pixels };
}

/**
 * What inference reads in frame `sequence`: the bus number at 0.8, read better (0.95) from 3 s to 7 s and worse, as
 * `BUS 4Z`, after; the exit sign from 2 s on. Its tracker's line ids, 1 and 2.
 */
function linesRead(sequence: number): DetectedBox[] {
  const bus = sequence < 30 ? { text: 'BUS 42', textScore: 0.8 } : sequence < 70 ? { text: 'BUS 42', textScore: 0.95 } : { text: 'BUS 4Z', textScore: 0.7 };
  const boxes: DetectedBox[] = [{ points: corners(BUS), score: 0.9, lineId: 1, ...bus }];
  if (sequence >= 20) boxes.push({ points: corners(EXIT), score: 0.9, lineId: 2, text: 'EXIT', textScore: 0.9 });
  return boxes;
}

interface Reads {
  sourceId: string;
  reads: RecentRead[];
}

describe('the live preview lists the lines read per camera: real ZeroMQ messages into the built preview, the page in Chromium', () => {
  let dir: string;
  let preview: ModuleProcess;
  let previewUrl: string;
  let metricsUrl: string;
  let frames: ClientZmqOnDemand;
  let detections: ClientZmq;
  let feeding: NodeJS.Timeout;

  const readsOf = async (sourceId: string) => (await fetch(`${previewUrl}api/sources/${sourceId}/reads`)).json() as Promise<Reads>;
  const thumbnailsEncoded = async () => Number(/^iev_preview_jpeg_encoded_total\{[^}]*kind="read"[^}]*\} (\d+)$/m.exec(await (await fetch(metricsUrl)).text())?.[1]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-preview-reads-'));
    const framesEndpoint = `ipc://${join(dir, 'frames')}`;
    const detectionsEndpoint = `ipc://${join(dir, 'detections')}`;
    // Capture's side (frames on demand) and inference's (detections), as the modules bind them.
    frames = new ClientZmqOnDemand({ endpoint: framesEndpoint, bind: true, codecs: { [FRAMES_TOPIC]: frameCodec } });
    detections = new ClientZmq({ endpoint: detectionsEndpoint, codecs: { [DETECTIONS_TOPIC]: detectionsCodec } });
    await Promise.all([frames.connect(), detections.connect()]);
    const [port, metricsPort, nobody] = [await freePort(), await freePort(), await freePort()];
    previewUrl = `http://127.0.0.1:${port}/`;
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    preview = new ModuleProcess('preview', { FRAMES_CONNECT: framesEndpoint, DETECTIONS_CONNECT: detectionsEndpoint, PREVIEW_PORT: String(port), METRICS_PORT: String(metricsPort), HEALTH_URLS: `inference=http://127.0.0.1:${nobody}/health` });
    await preview.waitFor((lines) => lines.find((line) => line.includes('preview on http')), 'the preview listening');
    // Each frame offered, then its detections, as capture and inference send them.
    let sequence = 0;
    feeding = setInterval(() => {
      const captureTimeMs = Date.now();
      const frame = signFrame(sequence, captureTimeMs);
      const boxes = linesRead(sequence);
      void lastValueFrom(frames.emit(FRAMES_TOPIC, frame), { defaultValue: undefined });
      const message = { frame: { sourceId: 'camera0', sequence, captureTimeMs }, width: WIDTH, height: HEIGHT, modelId: 'spec', boxes, timings: { transportMs: 1, preprocessMs: 1, inferenceMs: 1, postprocessMs: 1 }, runId: 'spec-run' };
      setTimeout(() => void lastValueFrom(detections.emit(DETECTIONS_TOPIC, { ...message, publishedAtMs: Date.now() }), { defaultValue: undefined }), 20);
      sequence++;
    }, FRAME_INTERVAL_MS);
  }, 60_000);

  afterAll(async () => {
    clearInterval(feeding);
    await preview?.stop('SIGKILL');
    await Promise.all([frames?.close(), detections?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves each line's best text, its latest, when it was seen, and a thumbnail of the line at its size, encoded once per better read", async () => {
    let lastListed: Reads | undefined;
    const { reads } = await eventually(
      async () => {
        const listed = (lastListed = await readsOf('camera0'));
        const [exit, bus] = listed.reads;
        return listed.reads.length === 2 && bus.latest && bus.thumbnail?.textScore === 0.95 && exit.thumbnail ? listed : undefined;
      },
      () => `both lines listed with their best reads pictured and the bus number read worse since (last listed: ${JSON.stringify(lastListed)})`,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const [exit, bus] = reads;
    expect(exit).toMatchObject({ runId: 'spec-run', lineId: 2, best: { text: 'EXIT', textScore: 0.9 }, thumbnail: { width: EXIT.width, height: EXIT.height } });
    expect(exit.latest).toBeUndefined();
    expect(bus).toMatchObject({ runId: 'spec-run', lineId: 1, best: { text: 'BUS 42', textScore: 0.95 }, latest: { text: 'BUS 4Z', textScore: 0.7 }, thumbnail: { width: BUS.width, height: BUS.height } });
    expect(bus.firstSeenMs).toBeLessThan(exit.firstSeenMs);
    expect(bus.lastSeenMs).toBeGreaterThan(bus.firstSeenMs + 6000);
    expect(bus.ageMs).toBeLessThan(3000);

    for (const [read, line] of [[bus, BUS], [exit, EXIT]] as const) {
      const response = await fetch(new URL(read.thumbnail?.url ?? '', previewUrl));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/jpeg');
      expect(response.headers.get('cache-control')).toContain('immutable');
      const { data, info } = await sharp(Buffer.from(await response.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([line.width, line.height, 3]);
      // The line itself, white: a crop off by a pixel would bring the dark grey around it in.
      expect(Math.min(...data)).toBeGreaterThan(200);
    }

    // Three pictures: one per line, one more for the bus number's better read; none for the frames since.
    expect(await thumbnailsEncoded()).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await thumbnailsEncoded()).toBe(3);

    const unknown = await fetch(`${previewUrl}api/sources/nowhere/reads`);
    expect(unknown.status).toBe(404);
    const stale = await fetch(new URL(bus.thumbnail?.url.replace(/-(\d+)\.jpg$/, '-999999.jpg') ?? '', previewUrl));
    expect(stale.status).toBe(404);
    // /api/sources keeps its shape: the reads are the source's own URL's.
    const { sources } = (await (await fetch(`${previewUrl}api/sources`)).json()) as { sources: Array<Record<string, unknown>> };
    expect(sources.map((source) => source['sourceId'])).toEqual(['camera0']);
    expect(Object.keys(sources[0])).not.toContain('reads');
  }, 60_000);

  withChromium('shows the lines read beside the camera in a real browser: newest first, thumbnail, text and age (screenshot kept)', async () => {
    const browser = await HeadlessChromium.launch(INSTALLED_CHROMIUM);
    try {
      await browser.send('Page.enable');
      await browser.send('Page.navigate', { url: previewUrl });
      type Item = { text: string; age: string; width: number; height: number; complete: boolean };
      const items = await eventually(
        async () => {
          const shown = await browser.evaluate<Item[]>(
            `[...document.querySelectorAll('[data-source="camera0"] .reads li')].map((item) => { const image = item.querySelector('img'); ` +
              `return { text: item.querySelector('.text').textContent, age: item.querySelector('.age').textContent, width: image.naturalWidth, height: image.naturalHeight, complete: image.complete }; })`,
          );
          return shown.length === 2 && shown.every((item) => item.complete && item.width > 0) && shown[1].text.includes('latest') ? shown : undefined;
        },
        'both lines on the page with their thumbnails loaded, the bus number read worse since (7 s in)',
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(items.map(({ text, width, height }) => [text, width, height])).toEqual([
        ['EXIT', EXIT.width, EXIT.height],
        ['BUS 42 (latest: BUS 4Z)', BUS.width, BUS.height],
      ]);
      for (const { age } of items) expect(age).toMatch(/^\d+ s ago$/);
      // Beside the picture, not under it: the list starts right of the canvas.
      const [canvasRight, listLeft] = await browser.evaluate<[number, number]>(
        `[document.querySelector('[data-source="camera0"] canvas').getBoundingClientRect().right, document.querySelector('[data-source="camera0"] .reads').getBoundingClientRect().left]`,
      );
      expect(listLeft).toBeGreaterThanOrEqual(canvasRight);
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(join(ARTIFACTS, 'reads.png'), await browser.screenshot());
    } finally {
      await browser.close();
    }
  }, 60_000);
});
