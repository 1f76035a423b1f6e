import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { frameCodec, FRAMES_TOPIC, PixelFormat } from '@iev/frame-protocol';
import { PreviewSources } from '@iev/preview-server';
import { waitUntil } from '@iev/testing';
import { ClientZmqOnDemand } from '@iev/zmq-transport';
import { lastValueFrom } from 'rxjs';
import { LinkSources, PreviewFrames } from './preview-frames';

describe('the preview taking frames', () => {
  let dir: string;
  let endpoint: string;
  let capture: ClientZmqOnDemand;
  let closed: boolean;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-preview-frames-'));
    endpoint = `ipc://${join(dir, 'frames')}`;
    // A capture stand-in: a frame each time a consumer wants one, until closed.
    capture = new ClientZmqOnDemand({ endpoint, codecs: { [FRAMES_TOPIC]: frameCodec } });
    await capture.connect();
    closed = false;
    void (async () => {
      for (let sequence = 0; ; sequence++) {
        await capture.whenWanted(FRAMES_TOPIC);
        if (closed) return; // an emit would open the socket again
        const frame = { sourceId: 'cam', sequence, captureTimeMs: Date.now(), width: 4, height: 2, stride: 12, pixelFormat: PixelFormat.BGR24, pixels: Buffer.alloc(24, sequence) };
        await lastValueFrom(capture.emit(FRAMES_TOPIC, frame), { defaultValue: undefined });
      }
    })().catch(() => undefined); // the socket closed under it
  });

  afterEach(async () => {
    closed = true;
    await capture.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('closes at once while it waits out a long frame interval (PREVIEW_FPS=0.1), the frame it had kept', async () => {
    const sources = new PreviewSources(['cam']);
    const frames = new PreviewFrames(sources, () => 10_000, { endpoints: [endpoint] });
    await new Promise<void>((resolve, reject) => frames.listen((error) => (error ? reject(error) : resolve())));
    await waitUntil(() => sources.picture('cam') !== undefined, 'the first frame');
    const started = performance.now();
    await frames.close();
    // Docker gives a container 10 s from SIGTERM to SIGKILL for all of its shutdown.
    expect(performance.now() - started).toBeLessThan(1000);
    expect(sources.picture('cam')?.sequence).toBe(0);
  });

  it("counts the sources a link carried in the last 5 s: inference's one link for all its cameras is asked as often as a link each", () => {
    const links = new LinkSources();
    expect(links.saw('tcp://capture:5555', 'camera0', 0)).toBe(1);
    expect(links.saw('tcp://inference:5555', 'gate', 0)).toBe(1);
    expect(links.saw('tcp://inference:5555', 'door', 100)).toBe(2);
    expect(links.saw('tcp://inference:5555', 'gate', 200)).toBe(2);
    expect(links.saw('tcp://capture:5555', 'camera0', 200)).toBe(1);
    // door gone for more than 5 s: gate alone again.
    expect(links.saw('tcp://inference:5555', 'gate', 5200)).toBe(1);
  });
});
