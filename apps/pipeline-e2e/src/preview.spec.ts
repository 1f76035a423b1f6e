import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { get, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectionsCodec, frameCodec, DETECTIONS_TOPIC, FRAMES_TOPIC, PixelFormat, type Detections, type Frame } from '@iev/frame-protocol';
import { eventually, freePort } from '@iev/testing';
import { HeadlessChromium, INSTALLED_CHROMIUM, withChromium } from '@iev/testing/browser';
import { I420Converter } from '@iev/text-detection';
import { ServerZmq, ServerZmqOnDemand } from '@iev/zmq-transport';
import sharp from 'sharp';
import { DEMO_VIDEO, ModuleProcess, WORKSPACE_ROOT } from './module-process';

const ARTIFACTS = join(WORKSPACE_ROOT, 'dist/test-artifacts/preview');

interface ApiState {
  sources: Array<{ sourceId: string; waiting: boolean; width: number; height: number; sequence: number; boxes: number; previewFps: number }>;
  modules: Array<{ name: string; status: string }>;
}

/** Sockets the process holds open (its file descriptors that are sockets; one closed while they are listed is not). */
/**
 * The process's connections on its own TCP port `port`, listening sockets aside: the clients it still holds. Its own
 * connections out are left out: its health checks of the other modules (fetch every 2 s) keep theirs alive or not.
 */
const clientSockets = (pid: number, port: number) => {
  const held = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' }))?.[1]];
      } catch {
        return [];
      }
    }),
  );
  const LISTEN = '0A';
  return ['tcp', 'tcp6']
    .flatMap((table) => readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1))
    .map((row) => row.trim().split(/\s+/))
    .filter(([, local, , state, , , , , , inode]) => parseInt(local.split(':')[1], 16) === port && state !== LISTEN && held.has(inode)).length;
};
/** A process's nice value (field 19 of /proc/<pid>/stat), the preview's floor when CI runs niced. */
const niceOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
};
const residentMb = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

/** Frames and detections as a test consumer sees them, kept by sequence to compare with what the preview drew. */
class PipelineTap {
  readonly frames = new Map<number, Frame>();
  readonly detections = new Map<number, Detections>();
  private readonly framesServer: ServerZmqOnDemand;
  private readonly detectionsServer: ServerZmq;
  private readonly converter = new I420Converter();

  constructor(framesEndpoint: string, detectionsEndpoint: string) {
    this.framesServer = new ServerZmqOnDemand({ endpoint: framesEndpoint, codecs: { [FRAMES_TOPIC]: frameCodec } });
    this.framesServer.addHandler(FRAMES_TOPIC, async (frame: Frame) => this.keep(this.frames, frame.sequence, this.asBgr(frame)), true);
    this.detectionsServer = new ServerZmq({ endpoint: detectionsEndpoint, delivery: 'queue', codecs: { [DETECTIONS_TOPIC]: detectionsCodec } });
    this.detectionsServer.addHandler(DETECTIONS_TOPIC, async (detections: Detections) => this.keep(this.detections, detections.frame.sequence, detections), true);
  }

  async start(): Promise<void> {
    await Promise.all([this.framesServer, this.detectionsServer].map((server) => new Promise<void>((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())))));
  }

  close(): Promise<unknown> {
    return Promise.all([this.framesServer.close(), this.detectionsServer.close()]);
  }

  /** A copy of the frame as BGR24: capture sends I420 (CAPTURE_PIXEL_FORMAT), converted as the preview converts it. */
  private asBgr(frame: Frame): Frame {
    if (frame.pixelFormat !== PixelFormat.I420) return { ...frame, pixels: Uint8Array.from(frame.pixels) };
    const { data, stride } = this.converter.toBgr({ data: frame.pixels, width: frame.width, height: frame.height, stride: frame.stride });
    return { ...frame, pixels: data, stride, pixelFormat: PixelFormat.BGR24 };
  }

  private keep<T>(into: Map<number, T>, sequence: number, value: T): void {
    into.set(sequence, value);
    if (into.size > 120) into.delete(into.keys().next().value as number);
  }
}

/**
 * Checks a 640×480 RGB picture against the raw BGR frame it was drawn on: an outline on ≥ 80 % of the boxes' left
 * edges, and, away from every box and where its label may go, the frame itself (JPEG error aside).
 */
function expectBoxesDrawnOnFrame(data: Uint8Array, raw: Frame, boxes: Detections['boxes']): void {
  /** Each channel's difference between the picture (RGB) and the raw frame (BGR) at the pixels around a point. */
  const differencesAround = (x: number, y: number, radius: number) => {
    const differences: number[] = [];
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        const px = Math.min(639, Math.max(0, Math.round(x) + dx));
        const py = Math.min(479, Math.max(0, Math.round(y) + dy));
        const drawn = (py * 640 + px) * 3;
        const original = py * raw.stride + px * 3;
        for (let channel = 0; channel < 3; channel++) differences.push(Math.abs(data[drawn + channel] - raw.pixels[original + 2 - channel]));
      }
    }
    return differences;
  };
  // Halfway along each box's left edge: the outline is drawn there (labels go above or below).
  const onEdges = boxes.map(({ points: [topLeft, , , bottomLeft] }) => Math.max(...differencesAround((topLeft[0] + bottomLeft[0]) / 2, (topLeft[1] + bottomLeft[1]) / 2, 1)));
  expect(onEdges.filter((difference) => difference > 60).length).toBeGreaterThanOrEqual(Math.ceil(onEdges.length * 0.8));
  // Away from every box and where its label may go, the picture is the frame, JPEG aside: a mean difference that
  // small over a 5×5 patch holds no outline or letter. A label is a line of ~13 px text (its text and score, at
  // most 11 px a character) above or below the box, from its left edge, or its right edge in the right half.
  const drawnNear = ({ points, text }: Detections['boxes'][number], x: number, y: number) => {
    const xs = points.map(([px]) => px);
    const ys = points.map(([, py]) => py);
    const labelWidth = text === undefined ? 0 : (text.length + ' (0.00)'.length) * 11;
    const [left, right] = Math.min(...xs) > 320 ? [Math.max(...xs) - labelWidth, Math.max(...xs)] : [Math.min(...xs), Math.min(...xs) + labelWidth];
    return x > Math.min(left, ...xs) - 8 && x < Math.max(right, ...xs) + 8 && y > Math.min(...ys) - 36 && y < Math.max(...ys) + 36;
  };
  const clear: Array<[number, number]> = [];
  for (let y = 8; y < 480; y += 16) for (let x = 8; x < 640; x += 16) if (!boxes.some((box) => drawnNear(box, x, y))) clear.push([x, y]);
  expect(clear.length).toBeGreaterThan(0);
  const meanDifference = (x: number, y: number) => {
    const differences = differencesAround(x, y, 2);
    return differences.reduce((sum, value) => sum + value, 0) / differences.length;
  };
  expect(clear.filter(([x, y]) => meanDifference(x, y) >= 20)).toEqual([]);
}

describe('the live preview on the demo video: capture → inference → preview', () => {
  let dir: string;
  let framesEndpoint: string;
  let detectionsEndpoint: string;
  let previewUrl: string;
  let ports: { capture: number; inference: number; telemetry: number };
  let preview: ModuleProcess;
  let capture: ModuleProcess | undefined;
  let inference: ModuleProcess | undefined;

  const api = async (): Promise<ApiState> => (await fetch(`${previewUrl}api/sources`)).json() as Promise<ApiState>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-preview-'));
    framesEndpoint = `ipc://${join(dir, 'frames')}`;
    detectionsEndpoint = `ipc://${join(dir, 'detections')}`;
    ports = { capture: await freePort(), inference: await freePort(), telemetry: await freePort() };
    const previewPort = await freePort();
    previewUrl = `http://127.0.0.1:${previewPort}/`;
    // The preview first, alone: it must say what it waits for. Telemetry never runs: it must show as down.
    preview = new ModuleProcess('preview', {
      FRAMES_CONNECT: framesEndpoint,
      DETECTIONS_CONNECT: detectionsEndpoint,
      PREVIEW_PORT: String(previewPort),
      METRICS_PORT: '0',
      HEALTH_URLS: Object.entries(ports)
        .map(([name, port]) => `${name}=http://127.0.0.1:${port}/health`)
        .join(','),
    });
    await preview.waitFor((lines) => lines.find((line) => line.includes('preview on http')), 'the preview listening');
  });

  afterAll(async () => {
    await Promise.all([preview, capture, inference].map((module) => module?.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it('says it is waiting for camera0 before the first frame, and shows modules that do not answer as down', async () => {
    const state = await eventually(async () => {
      const now = await api();
      return now.modules.every((module) => module.status !== 'unknown') ? now : undefined;
    }, 'the first health checks');
    expect(state.sources).toEqual([expect.objectContaining({ sourceId: 'camera0', waiting: true })]);
    expect(state.modules.map(({ name, status }) => [name, status])).toEqual([
      ['capture', 'down'],
      ['inference', 'down'],
      ['telemetry', 'down'],
    ]);
    const latest = await fetch(`${previewUrl}sources/camera0/latest.jpg`);
    expect(latest.status).toBe(503);
    expect(await latest.json()).toMatchObject({ error: expect.stringContaining('waiting for camera0') });
  });

  it('runs every thread at PREVIEW_NICE (10 by default), drawing with the CPU the pipeline leaves', () => {
    const pid = preview.child.pid as number;
    const niceOfThreads = readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });
    expect(niceOfThreads.length).toBeGreaterThan(1);
    expect(new Set(niceOfThreads)).toEqual(new Set([Math.max(10, niceOf(process.pid))]));
  });

  describe('with capture and inference running', () => {
    let tap: PipelineTap;

    beforeAll(async () => {
      inference = new ModuleProcess('inference', {
        FRAMES_CONNECT: framesEndpoint,
        DETECTIONS_BIND: detectionsEndpoint,
        DETECTION_PRESET: 'default',
        INFERENCE_THREADS: '1',
        METRICS_PORT: String(ports.inference),
      });
      capture = new ModuleProcess('capture', { CAMERA_PATH: DEMO_VIDEO, FRAMES_BIND: framesEndpoint, METRICS_PORT: String(ports.capture) });
      tap = new PipelineTap(framesEndpoint, detectionsEndpoint);
      await tap.start();
      await eventually(async () => ((await api()).sources[0].boxes > 0 ? true : undefined), 'detections with boxes at the preview', { timeoutMs: 60_000, intervalMs: 250 });
    }, 90_000);

    afterAll(() => tap.close());

    it('serves latest.jpg at the source size, boxes drawn where the raw frame has none', async () => {
      const compared = await eventually(
        async () => {
          const response = await fetch(`${previewUrl}sources/camera0/latest.jpg`);
          const sequence = Number(response.headers.get('x-frame-sequence'));
          const jpeg = Buffer.from(await response.arrayBuffer());
          const raw = tap.frames.get(sequence);
          const boxes = tap.detections.get(sequence)?.boxes ?? [];
          // A frame the test consumer also got, drawn with its own detections.
          return response.headers.get('x-boxes-paired') === 'true' && raw && boxes.length > 0 ? { jpeg, raw, boxes } : undefined;
        },
        'a paired frame the test also received',
        { timeoutMs: 30_000, intervalMs: 150 },
      );
      const { data, info } = await sharp(compared.jpeg).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([640, 480, 3]);
      expectBoxesDrawnOnFrame(data, compared.raw, compared.boxes);
    });

    it("lists the demo video's lines the model read, each pictured at its box's size from a frame it was read in", async () => {
      type Read = { runId: string | null; lineId: number; best: { text: string }; latest?: { text: string }; ageMs: number; thumbnail: { url: string; width: number; height: number } | null };
      const reads = await eventually(
        async () => {
          const listed = ((await (await fetch(`${previewUrl}api/sources/camera0/reads`)).json()) as { reads: Read[] }).reads;
          return listed.some((read) => read.thumbnail) ? listed : undefined;
        },
        'a line read and pictured',
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      // The lines seen in the last 3 s as inference published them lately (the test keeps its last 120 detections):
      // their ids in this run, with their newest text.
      const published = [...tap.detections.values()].flatMap((detections) => detections.boxes.map((box) => `${detections.runId}/${box.lineId}/${box.text}`));
      const recent = reads.filter((read) => read.ageMs < 3000);
      expect(recent.length).toBeGreaterThan(0);
      for (const read of recent) expect(published).toContain(`${read.runId}/${read.lineId}/${(read.latest ?? read.best).text}`);
      const pictured = reads.find((read) => read.thumbnail)?.thumbnail;
      const jpeg = Buffer.from(await (await fetch(new URL(pictured?.url ?? '', previewUrl))).arrayBuffer());
      const { width, height } = await sharp(jpeg).metadata();
      expect([width, height]).toEqual([pictured?.width, pictured?.height]);
    });

    withChromium(`shows the page in a real browser: boxes drawn where the detections say, the picture changes, figures and health are there, a frozen camera and a preview that does not answer are said to be (screenshot kept)`, async () => {
      const browser = await HeadlessChromium.launch(INSTALLED_CHROMIUM);
      try {
        await browser.send('Page.enable');
        await browser.send('Page.navigate', { url: previewUrl });
        // The canvas as the page drew it, read with the sequence of the frame it shows (at once: nothing draws between).
        const canvasNow = () =>
          browser.evaluate<{ sequence: number; paired: string; width: number; height: number; png: string } | null>(
            `(() => { const canvas = document.querySelector('[data-source="camera0"] canvas'); return canvas && canvas.dataset.sequence ? ` +
              `{ sequence: Number(canvas.dataset.sequence), paired: canvas.dataset.paired, width: canvas.width, height: canvas.height, png: canvas.toDataURL('image/png') } : null; })()`,
          );
        const drawn = await eventually(
          async () => {
            const canvas = await canvasNow();
            const raw = canvas && tap.frames.get(canvas.sequence);
            const boxes = canvas && tap.detections.get(canvas.sequence)?.boxes;
            return canvas?.paired === 'true' && raw && boxes && boxes.length > 0 ? { canvas, raw, boxes } : undefined;
          },
          'the page drawing a frame the test also received, with its own boxes',
          { timeoutMs: 30_000, intervalMs: 200 },
        );
        expect([drawn.canvas.width, drawn.canvas.height]).toEqual([640, 480]);
        const pixels = await sharp(Buffer.from(drawn.canvas.png.replace(/^data:image\/png;base64,/, ''), 'base64'))
          .removeAlpha()
          .raw()
          .toBuffer();
        expectBoxesDrawnOnFrame(pixels, drawn.raw, drawn.boxes);
        const figures = await eventually(
          async () => {
            const text = await browser.evaluate<string>(`document.querySelector('[data-source="camera0"] .figures').textContent`);
            return /capture-to-detection \d/.test(text) ? text : undefined;
          },
          'the figures under the picture',
        );
        expect(figures).toMatch(/640x480 #\d+ \| preview [\d.]+ fps \| detections [\d.]+ fps \| capture-to-detection [\d.]+ ms \| skipped \d+ \| boxes \d+/);
        const badges = await eventually(
          async () => {
            const text = await browser.evaluate<string>(`document.getElementById('modules').textContent`);
            return text.includes('inference: up') && text.includes('capture: up') ? text : undefined;
          },
          'capture and inference up in the health panel',
        );
        expect(badges).toContain('telemetry: down');

        const first = await browser.screenshot();
        const second = await eventually(
          async () => {
            await new Promise((resolve) => setTimeout(resolve, 500));
            const shot = await browser.screenshot();
            return shot.equals(first) ? undefined : shot;
          },
          'the picture to change',
          { timeoutMs: 10_000 },
        );
        mkdirSync(ARTIFACTS, { recursive: true });
        writeFileSync(join(ARTIFACTS, 'page.png'), second);
        const [a, b] = await Promise.all([first, second].map((png) => sharp(png).raw().toBuffer()));
        let changed = 0;
        for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 30) changed++;
        expect(changed).toBeGreaterThan(1000); // the video moved, not a counter's digits

        // A camera that stops (capture frozen): the page says so while it keeps the last picture.
        const stallText = () => browser.evaluate<string>(`document.querySelector('[data-source="camera0"] .stall').textContent`);
        expect(await stallText()).toBe('');
        const capturePid = capture?.child.pid as number;
        process.kill(capturePid, 'SIGSTOP');
        try {
          const said = await eventually(async () => ((await stallText()).startsWith('no frame for') ? stallText() : undefined), 'the page to say camera0 sends no frames', {
            timeoutMs: 15_000,
            intervalMs: 250,
          });
          expect(said).toMatch(/^no frame for \d+ s: the picture is the last that came$/);
        } finally {
          process.kill(capturePid, 'SIGCONT');
        }
        await eventually(async () => ((await stallText()) === '' ? true : undefined), 'the stall notice to go once frames come again', { timeoutMs: 15_000, intervalMs: 250 });

        // A preview that stops answering (hung, or a link that drops its packets): the page says so within seconds,
        // not once TCP gives up, and is live again by itself when it answers.
        const previewPid = preview.child.pid as number;
        process.kill(previewPid, 'SIGSTOP');
        try {
          await eventually(async () => ((await stallText()) === 'preview unreachable: the picture is the last that came' ? true : undefined), 'the page to say the preview does not answer', {
            timeoutMs: 15_000,
            intervalMs: 250,
          });
          expect(await browser.evaluate<string>(`document.getElementById('modules').textContent`)).toMatch(/^preview unreachable: /);
        } finally {
          process.kill(previewPid, 'SIGCONT');
        }
        const frozenAt = (await canvasNow())?.sequence ?? 0;
        await eventually(async () => ((await stallText()) === '' && ((await canvasNow())?.sequence ?? 0) > frozenAt ? true : undefined), 'the page live again once the preview answers', {
          timeoutMs: 15_000,
          intervalMs: 250,
        });
      } finally {
        await browser.close();
      }
    }, 120_000);

    withChromium(`keeps a live stream live while its figures answer slowly: says so, dims nothing, cuts nothing`, async () => {
      const browser = await HeadlessChromium.launch(INSTALLED_CHROMIUM);
      const held: NodeJS.Timeout[] = [];
      try {
        await browser.send('Page.enable');
        await browser.send('Page.navigate', { url: previewUrl });
        const sequenceNow = () => browser.evaluate<number>(`Number(document.querySelector('[data-source="camera0"] canvas')?.dataset.sequence ?? 0)`);
        const stallText = () => browser.evaluate<string>(`document.querySelector('[data-source="camera0"] .stall').textContent`);
        const modulesText = () => browser.evaluate<string>(`document.getElementById('modules').textContent`);
        await eventually(async () => ((await sequenceNow()) > 0 ? true : undefined), 'the first picture on the page', { timeoutMs: 30_000, intervalMs: 200 });

        // A saturated uplink as the page sees it: each poll of the figures answered after 7 s, past the page's 5 s
        // timeout, while the MJPEG stream beside it goes on delivering.
        browser.on('Fetch.requestPaused', ({ requestId }) => {
          held.push(setTimeout(() => browser.send('Fetch.continueRequest', { requestId }).catch(() => undefined), 7000));
        });
        await browser.send('Fetch.enable', { patterns: [{ urlPattern: '*/api/sources*' }] });
        await eventually(async () => ((await modulesText()).startsWith('preview slow to answer: ') ? true : undefined), 'the page to say the preview answers slowly', {
          timeoutMs: 15_000,
          intervalMs: 250,
        });
        // For the next 8 s (more than one timed-out poll), the pictures keep coming and are never marked unreachable.
        const sequenceAtStart = await sequenceNow();
        const until = Date.now() + 8000;
        while (Date.now() < until) {
          expect(await stallText()).not.toMatch(/unreachable/);
          expect(await browser.evaluate<boolean>(`document.querySelector('[data-source="camera0"]').classList.contains('stalled')`)).toBe(false);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        expect(await sequenceNow()).toBeGreaterThan(sequenceAtStart);

        await browser.send('Fetch.disable');
        await eventually(async () => (!(await modulesText()).startsWith('preview slow') ? true : undefined), 'the notice to go once the figures answer in time', {
          timeoutMs: 20_000,
          intervalMs: 250,
        });
      } finally {
        held.forEach(clearTimeout);
        await browser.close();
      }
    }, 90_000);

    it('returns to its sockets and keeps its memory after 50 MJPEG clients of each stream come and go', async () => {
      const pid = preview.child.pid as number;
      const port = Number(new URL(previewUrl).port);
      const noClientLeft = (what: string) =>
        eventually(() => (clientSockets(pid, port) === 0 ? true : undefined), () => `${what} (now ${clientSockets(pid, port)})`, { timeoutMs: 10_000, intervalMs: 100 });
      // Nothing else talks to the preview meanwhile, once the page's browser has closed its connections.
      await noClientLeft('no client before');
      const baselineRss = residentMb(pid);
      for (const stream of ['stream.mjpeg', 'live.mjpeg', 'stream.mjpeg', 'live.mjpeg']) {
        const requests: ClientRequest[] = [];
        await Promise.all(
          Array.from(
            { length: 50 },
            () =>
              new Promise<void>((resolve, reject) => {
                const request = get(`${previewUrl}sources/camera0/${stream}`, (response) => {
                  expect(response.headers['content-type']).toMatch(/^multipart\/x-mixed-replace; boundary=/);
                  response.once('data', () => resolve());
                });
                request.on('error', reject);
                requests.push(request);
              }),
          ),
        );
        for (const request of requests) request.destroy();
      }
      await noClientLeft('every client socket closed');
      const { modules } = await api();
      expect(modules.length).toBe(3);
      expect(residentMb(pid)).toBeLessThan(baselineRss + 60);
    }, 60_000);
  });
});
