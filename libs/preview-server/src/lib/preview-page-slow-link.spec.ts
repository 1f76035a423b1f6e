import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { PixelFormat } from '@iev/frame-protocol';
import { waitUntil } from '@iev/testing';
import { HeadlessChromium, INSTALLED_CHROMIUM, withChromium } from '@iev/testing/browser';
import { MjpegStreams, pictureHeader } from './mjpeg-streams';
import { ModuleHealth } from './module-health';
import { startPreviewHttpServer } from './preview-http-server';
import { annotatedJpeg, plainJpeg, PreviewRenderer } from './preview-renderer';
import { PreviewSources } from './preview-sources';

/**
 * A link between the browser and the preview, as a TCP proxy: what the preview sends reaches the browser at
 * `bytesPerSecond` at most (shared by all the link's connections, as on one slow line), each way `oneWayDelayMs` late.
 * Bytes waiting for the line stay in the kernel's buffers (the proxy stops reading past 64 kB), as they wait in a slow
 * viewer's; a connection closed on either side is closed on the other at once, and what it held is dropped.
 */
class ThrottledLink {
  private readonly flows = new Set<{ client: Socket; upstream: Socket; queue: Buffer[]; queued: number }>();
  private readonly ticker: NodeJS.Timeout;
  private budget = 0;
  /** The request lines the browser sent, in order. */
  readonly requests: string[] = [];
  private constructor(
    readonly server: Server,
    private readonly bytesPerSecond: number,
    private readonly oneWayDelayMs: number,
  ) {
    const tickMs = 10;
    this.ticker = setInterval(() => this.forward(tickMs), tickMs);
  }

  static async open(targetPort: number, bytesPerSecond: number, oneWayDelayMs: number): Promise<ThrottledLink> {
    const link: ThrottledLink = new ThrottledLink(createServer((client) => link.connect(client, targetPort)), bytesPerSecond, oneWayDelayMs);
    await new Promise<void>((resolve) => link.server.listen(0, '127.0.0.1', resolve));
    return link;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): void {
    clearInterval(this.ticker);
    for (const { client, upstream } of this.flows) [client, upstream].forEach((socket) => socket.destroy());
    this.server.close();
  }

  private connect(client: Socket, targetPort: number): void {
    const upstream = new Socket();
    const flow = { client, upstream, queue: [] as Buffer[], queued: 0 };
    this.flows.add(flow);
    const closeBoth = () => {
      this.flows.delete(flow);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      const requestLine = /^GET (\S+)/.exec(chunk.toString('latin1'));
      if (requestLine) this.requests.push(requestLine[1]);
      setTimeout(() => upstream.write(chunk), this.oneWayDelayMs);
    });
    upstream.on('data', (chunk: Buffer) => {
      flow.queue.push(chunk);
      flow.queued += chunk.length;
      if (flow.queued > 64 * 1024) upstream.pause();
    });
    for (const socket of [client, upstream]) socket.on('close', closeBoth).on('error', closeBoth);
    upstream.connect(targetPort, '127.0.0.1');
  }

  /** Sends what the line lets through this tick, round robin over the connections that have bytes waiting. */
  private forward(tickMs: number): void {
    this.budget = Math.min(this.budget + (this.bytesPerSecond * tickMs) / 1000, Math.max(16 * 1024, this.bytesPerSecond / 10));
    let sentSome = true;
    while (this.budget >= 1 && sentSome) {
      sentSome = false;
      for (const flow of this.flows) {
        const chunk = flow.queue[0];
        if (!chunk || this.budget < 1) continue;
        const taken = chunk.subarray(0, Math.min(chunk.length, Math.floor(this.budget), 4096));
        if (taken.length === chunk.length) flow.queue.shift();
        else flow.queue[0] = chunk.subarray(taken.length);
        flow.queued -= taken.length;
        this.budget -= taken.length;
        sentSome = true;
        setTimeout(() => flow.client.destroyed || flow.client.write(taken), this.oneWayDelayMs);
        if (flow.queued <= 64 * 1024) flow.upstream.resume();
      }
    }
  }
}

const FEED_FPS = 5;
const [width, height] = [320, 240];

/** A preview HTTP server fed a new frame of camera `cam` every 1/FEED_FPS s; `fedAt`: when each sequence came. */
async function fedPreview() {
  const sources = new PreviewSources(['cam']);
  const fail = (error: unknown) => {
    throw error;
  };
  const renderer = new PreviewRenderer(sources, annotatedJpeg());
  const liveStreams = new MjpegStreams(new PreviewRenderer(sources, plainJpeg()), fail, pictureHeader);
  sources.onChange((sourceId) => liveStreams.pictureChanged(sourceId));
  const http = await startPreviewHttpServer({ port: 0, host: '127.0.0.1', sources, renderer, streams: new MjpegStreams(renderer, fail), liveStreams, health: new ModuleHealth({}), onError: fail });
  const fedAt = new Map<number, number>();
  // Noise, so that each picture is ~60 kB, as a busy camera's: ~300 kB/s at FEED_FPS.
  const pixels = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(Math.random() * 256));
  let sequence = 0;
  const feeding = setInterval(() => {
    sequence++;
    fedAt.set(sequence, Date.now());
    pixels[sequence % pixels.length] ^= 0xff;
    sources.addFrame({ sourceId: 'cam', sequence, captureTimeMs: Date.now(), width, height, stride: width * 3, pixelFormat: PixelFormat.BGR24, pixels });
  }, 1000 / FEED_FPS);
  return {
    http,
    fedAt,
    close: () => {
      clearInterval(feeding);
      return http.close();
    },
  };
}

/**
 * Watches the page for `durationMs`: every 500 ms, the age of the picture it shows (now - when its frame was fed) and
 * how many pictures it has drawn so far.
 */
async function watchPage(browser: HeadlessChromium, fedAt: Map<number, number>, durationMs: number) {
  await waitUntil(() => fedAt.size > 0, 'frames fed');
  await browser.evaluate(`new Promise((resolve) => {
    const observe = () => {
      const canvas = document.querySelector('canvas');
      if (!canvas) return setTimeout(observe, 50);
      window.drawn = 0;
      new MutationObserver(() => window.drawn++).observe(canvas, { attributes: true, attributeFilter: ['data-sequence'] });
      resolve();
    };
    observe();
  })`);
  const samples: Array<{ atMs: number; ageMs: number; sequence: number; drawn: number }> = [];
  const start = Date.now();
  while (Date.now() - start < durationMs) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [sequence, drawn] = await browser.evaluate<[number, number]>("[Number(document.querySelector('canvas').dataset.sequence), window.drawn]");
    const fed = fedAt.get(sequence);
    if (fed !== undefined) samples.push({ atMs: Date.now() - start, ageMs: Date.now() - fed, sequence, drawn });
  }
  return samples;
}

/** The samples as `seconds: age ms (pictures drawn)`, for the log. */
const summary = (samples: Awaited<ReturnType<typeof watchPage>>) => samples.map(({ atMs, ageMs, drawn }) => `${(atMs / 1000).toFixed(1)}s: ${ageMs}ms (${drawn})`).join(', ');

describe('the preview page', () => {
  let preview: Awaited<ReturnType<typeof fedPreview>>;
  let browser: HeadlessChromium;
  const links: ThrottledLink[] = [];

  beforeAll(async () => {
    if (!INSTALLED_CHROMIUM) return;
    preview = await fedPreview();
    browser = await HeadlessChromium.launch(INSTALLED_CHROMIUM);
    await browser.send('Page.enable');
  }, 60_000);
  afterAll(async () => {
    links.forEach((link) => link.close());
    await browser?.close();
    await preview?.close();
  });

  /** The page, opened over a new link to the preview. */
  const openOver = async (bytesPerSecond: number, oneWayDelayMs: number) => {
    const link = await ThrottledLink.open(preview.http.port, bytesPerSecond, oneWayDelayMs);
    links.push(link);
    await browser.send('Page.navigate', { url: `http://127.0.0.1:${link.port}/` });
    await waitUntil(() => link.requests.some((path) => path.startsWith('/live.mjpeg')), 'the page on the link', { timeoutMs: 30_000 });
    return link;
  };

  withChromium(
    'shows pictures a few seconds old at most on a link at 50 kB/s, a sixth of what the stream needs, and keeps showing new ones',
    async () => {
      const slow = await openOver(50_000, 20);
      const samples = await watchPage(browser, preview.fedAt, 60_000);
      console.log(`50 kB/s: ${summary(samples)}\nrequests: ${slow.requests.filter((path) => path.includes('.mjpeg')).join(' ')}`);
      // After the first 20 s (the page finding its rate), the pictures shown stay fresh, and keep coming.
      const settled = samples.filter(({ atMs }) => atMs > 20_000);
      expect(Math.max(...settled.map(({ ageMs }) => ageMs))).toBeLessThan(5000);
      expect(settled[settled.length - 1].drawn - settled[0].drawn).toBeGreaterThan(20);
    },
    120_000,
  );

  withChromium(
    'keeps every picture on a fast link with a 4 s round trip: a long round trip is no queue',
    async () => {
      // Each way longer than the delay the page takes for a queue: only its baseline tells the two apart.
      const oneWayDelayMs = 2000;
      const far = await openOver(Infinity, oneWayDelayMs);
      const samples = await watchPage(browser, preview.fedAt, 20_000);
      console.log(`fast, 4 s round trip: ${summary(samples)}\nrequests: ${far.requests.filter((path) => path.includes('.mjpeg')).join(' ')}`);
      const [first, last] = [samples[0], samples[samples.length - 1]];
      const drawnPerSecond = (last.drawn - first.drawn) / ((last.atMs - first.atMs) / 1000);
      expect(drawnPerSecond).toBeGreaterThan(FEED_FPS * 0.9);
      // The median: a busy machine stalls the browser for a second now and then, fast link or not.
      expect(samples.map(({ ageMs }) => ageMs).sort((a, b) => a - b)[Math.floor(samples.length / 2)]).toBeLessThan(oneWayDelayMs + 500);
      // Never slowed down: the one stream it opened, at the full rate.
      expect(far.requests.filter((path) => path.includes('.mjpeg'))).toEqual(['/live.mjpeg']);
    },
    60_000,
  );
});
