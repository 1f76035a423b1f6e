import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, get, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { PixelFormat } from '@iev/frame-protocol';
import { waitUntil } from '@iev/testing';
import { detections, frame } from './capture-runs.fixture';
import { MjpegStreams, pictureHeader } from './mjpeg-streams';
import { plainJpeg, PreviewRenderer } from './preview-renderer';
import { PreviewSources } from './preview-sources';

/** The sources' plain pictures with their x-picture, sent to the viewers as they change; a failed encoding fails the test. */
function pictureStreams(sources: PreviewSources): MjpegStreams {
  const streams = new MjpegStreams(new PreviewRenderer(sources, plainJpeg()), (error) => {
    throw error;
  }, pictureHeader);
  sources.onChange((sourceId) => streams.pictureChanged(sourceId));
  return streams;
}

/** 1280x720 frames of cam every 40 ms until stopped: noise hardly compresses, ~1 MB pictures fill a viewer's socket buffers in a few. */
function feedNoise(sources: PreviewSources) {
  const noise = randomBytes(1280 * 720 * 3);
  let sequence = 0;
  const feeding = setInterval(() => {
    sequence++;
    sources.addFrame({ sourceId: 'cam', sequence, captureTimeMs: 1000 + sequence * 40, width: 1280, height: 720, stride: 1280 * 3, pixelFormat: PixelFormat.BGR24, pixels: noise });
  }, 40);
  return { stop: () => clearInterval(feeding), frames: () => sequence };
}

/**
 * A viewer of cam's stream at `fps` pictures a second, on a real connection: `parts`, each part's sequence and regions
 * ('-': none carried) as they came.
 */
async function pacedViewer(streams: MjpegStreams, fps: number) {
  const server = createServer((_request, response) => streams.add('cam', response, fps));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let received = '';
  const request = get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (response) => response.on('data', (chunk: Buffer) => (received += chunk.toString('latin1'))));
  request.on('error', () => undefined);
  await waitUntil(() => streams.viewerCount === 1, 'the viewer');
  return {
    parts: () => [...received.matchAll(/\r\nx-picture: (\S+)\r\n/g)].map((match) => JSON.parse(decodeURIComponent(match[1]))).map(({ sequence, regions }) => [sequence, regions ?? '-']),
    close: () => {
      request.destroy();
      streams.close();
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('MjpegStreams', () => {
  it("keeps the viewers who come right after a source's streams were ended when the ended ones go", async () => {
    // Real requests, whose responses the test hands to the streams itself.
    const responses: ServerResponse[] = [];
    const server = createServer((_request, response) => responses.push(response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const requests = [0, 1].map(() => get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`).on('error', () => undefined));
    try {
      await waitUntil(() => responses.length === 2, 'both requests');
      const streams = new MjpegStreams(new PreviewRenderer(new PreviewSources(['cam']), plainJpeg()), (error) => {
        throw error;
      });
      const [ended, next] = responses;
      streams.add('cam', ended);
      streams.end('cam');
      streams.add('cam', next);
      await once(ended, 'close');
      expect(streams.viewerCount).toBe(1);
    } finally {
      requests.forEach((request) => request.destroy());
      server.closeAllConnections();
      server.close();
    }
  });

  it("sends a restarted capture's picture to a viewer just sent the old run's picture of the same frame number", async () => {
    const sources = new PreviewSources();
    const streams = pictureStreams(sources);
    const server = createServer((_request, response) => streams.add('cam', response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // What the viewer was shown, from each part's x-picture header.
    type Shown = { sequence: number; paired: boolean; overlay: { outlines: unknown[] } };
    let received = '';
    const shown = () => [...received.matchAll(/\r\nx-picture: (\S+)\r\n/g)].map((match) => JSON.parse(decodeURIComponent(match[1])) as Shown);
    const request = get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (response) => response.on('data', (chunk: Buffer) => (received += chunk.toString('latin1'))));
    request.on('error', () => undefined);
    const shows = (count: number) => waitUntil(() => shown().length === count, () => `picture ${count}, shown: ${JSON.stringify(shown())}`, { timeoutMs: 3000 });
    try {
      await waitUntil(() => streams.viewerCount === 1, 'the viewer');
      sources.addFrame(frame(0));
      await shows(1);
      // The old run's boxes, and while their picture is encoded, capture restarted right after its first frame: the
      // new run's frame 0 and its own boxes. Both pictures are frame 0 with its boxes, of different runs.
      sources.addDetections(detections(0, 1));
      sources.addFrame(frame(0, 50, 1));
      sources.addDetections(detections(0, 2, 1));
      await shows(3);
      expect(shown().map(({ sequence, paired, overlay }) => [sequence, paired, overlay.outlines.length])).toEqual([
        [0, false, 0],
        [0, true, 1],
        [0, true, 2],
      ]);
    } finally {
      request.destroy();
      streams.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('sends a viewer who asks for fewer pictures the newest one once it is due, though the source sends no more', async () => {
    const sources = new PreviewSources();
    const streams = pictureStreams(sources);
    const server = createServer((_request, response) => streams.add('cam', response, 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const arrivals: Array<{ sequence: number; atMs: number }> = [];
    const request = get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (response) =>
      response.on('data', (chunk: Buffer) => {
        for (const match of chunk.toString('latin1').matchAll(/\r\nx-picture: (\S+)\r\n/g)) arrivals.push({ sequence: JSON.parse(decodeURIComponent(match[1])).sequence, atMs: Date.now() });
      }),
    );
    request.on('error', () => undefined);
    try {
      await waitUntil(() => streams.viewerCount === 1, 'the viewer');
      sources.addFrame(frame(1));
      await waitUntil(() => arrivals.length === 1, 'the first picture');
      // Within the viewer's second: held back, then sent when due (the camera stopped).
      sources.addFrame(frame(2));
      sources.addFrame(frame(3));
      await waitUntil(() => arrivals.length === 2, () => `the newest picture when due: ${JSON.stringify(arrivals)}`, { timeoutMs: 3000 });
      expect(arrivals.map(({ sequence }) => sequence)).toEqual([1, 3]);
      expect(arrivals[1].atMs - arrivals[0].atMs).toBeGreaterThanOrEqual(950);
    } finally {
      request.destroy();
      streams.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it("keeps a paced viewer's rate when the wall clock steps back (NTP correcting a clock that ran ahead)", async () => {
    const sources = new PreviewSources();
    const streams = pictureStreams(sources);
    const server = createServer((_request, response) => streams.add('cam', response, 2));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const sequences: number[] = [];
    const request = get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (response) =>
      response.on('data', (chunk: Buffer) => {
        for (const match of chunk.toString('latin1').matchAll(/\r\nx-picture: (\S+)\r\n/g)) sequences.push(JSON.parse(decodeURIComponent(match[1])).sequence);
      }),
    );
    request.on('error', () => undefined);
    const wallClock = Date.now;
    try {
      await waitUntil(() => streams.viewerCount === 1, 'the viewer');
      sources.addFrame(frame(1));
      await waitUntil(() => sequences.length === 1, 'the first picture');
      const stepMs = 3_600_000;
      Date.now = () => wallClock() - stepMs;
      sources.addFrame(frame(2));
      await waitUntil(() => sequences.length === 2, () => `the next picture within the viewer's half second, not an hour later: ${JSON.stringify(sequences)}`, { timeoutMs: 3000 });
    } finally {
      Date.now = wallClock;
      request.destroy();
      streams.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it("sends a paced viewer of a stopped camera its changed regions at once, as its next picture: the pace goes on from there", async () => {
    const sources = new PreviewSources();
    const streams = pictureStreams(sources);
    // One picture every 10 s: without this, the new regions would wait up to that long.
    const { parts, close } = await pacedViewer(streams, 0.1);
    const region = { unit: 'pixel' as const, points: [[1, 0], [3, 0], [3, 1]] as [number, number][] };
    try {
      sources.addFrame(frame(1));
      await waitUntil(() => parts().length === 1, 'the first picture');
      // The camera has stopped; the twin draws a region on it.
      sources.announceRegions({ regions: { cam: [region] }, repeatMs: 60_000 });
      await waitUntil(() => parts().length === 2, () => `the new regions at once, not at the viewer's next due picture: ${JSON.stringify(parts())}`, { timeoutMs: 3000 });
      // Within the viewer's budget: a frame right after it waits its 10 s, and regions announced as they are send nothing.
      sources.addFrame(frame(2));
      sources.announceRegions({ regions: { cam: [region] }, repeatMs: 60_000 });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(parts()).toEqual([
        [1, []],
        [1, [region.points]],
      ]);
    } finally {
      close();
    }
  });

  it("holds a paced viewer to its pace when the camera's resolution changes: its regions did not, though the part carries them at the new size", async () => {
    const sources = new PreviewSources();
    const streams = pictureStreams(sources);
    // One picture every 2 s.
    const { parts, close } = await pacedViewer(streams, 0.5);
    try {
      sources.addFrame(frame(1));
      await waitUntil(() => parts().length === 1, 'the first picture');
      const firstAt = performance.now();
      // The camera switched to twice the size; no region anywhere.
      sources.addFrame({ ...frame(2), width: 8, height: 4, stride: 24, pixels: new Uint8Array(96).fill(2) });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(parts()).toEqual([[1, []]]);
      await waitUntil(() => parts().length === 2, 'the new-size picture when due', { timeoutMs: 3000 });
      expect(performance.now() - firstAt).toBeGreaterThanOrEqual(1900);
      expect(parts()).toEqual([
        [1, []],
        [2, []],
      ]);
    } finally {
      close();
    }
  });

  it("sends a viewer a source's ignore regions on its first part and then only when they change, a viewer who comes later on its own first", async () => {
    const sources = new PreviewSources();
    const streams = pictureStreams(sources);
    const server = createServer((_request, response) => streams.add('cam', response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    /** A viewer, and the regions of each part it was sent ('-': none carried). */
    const view = () => {
      let received = '';
      const request = get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (response) => response.on('data', (chunk: Buffer) => (received += chunk.toString('latin1'))));
      request.on('error', () => undefined);
      const regions = () => [...received.matchAll(/\r\nx-picture: (\S+)\r\n/g)].map((match) => JSON.stringify(JSON.parse(decodeURIComponent(match[1])).regions ?? '-'));
      return { request, regions };
    };
    const left = { unit: 'fraction' as const, points: [[0, 0], [0.5, 0], [0.5, 1]] as [number, number][] };
    const viewers = [view()];
    const parts = (count: number) => waitUntil(() => viewers.every((viewer) => viewer.regions().length >= count), () => `${count} parts each: ${JSON.stringify(viewers.map((viewer) => viewer.regions()))}`, { timeoutMs: 3000 });
    try {
      await waitUntil(() => streams.viewerCount === 1, 'the viewer');
      sources.announceRegions({ regions: { '*': [left] }, repeatMs: 60_000 });
      sources.addFrame(frame(0));
      await parts(1);
      sources.addDetections(detections(0, 1));
      await parts(2);
      viewers.push(view());
      const seen = (count: number, what: string) => waitUntil(() => viewers[1].regions().length === count, () => `${what}: ${JSON.stringify(viewers.map((viewer) => viewer.regions()))}`, { timeoutMs: 3000 });
      await seen(1, "the later viewer's first part");
      // Inference repeats them as they are: nothing to send.
      sources.announceRegions({ regions: { '*': [left] }, repeatMs: 60_000 });
      // The twin gives cam a list of its own, then removes every region.
      sources.announceRegions({ regions: { cam: [{ unit: 'pixel', points: [[1, 0], [3, 0], [3, 1]] }] }, repeatMs: 60_000 });
      await seen(2, 'the new regions');
      sources.announceRegions({ regions: {}, repeatMs: 60_000 });
      await seen(3, 'no regions');
      sources.addFrame(frame(1));
      sources.addDetections(detections(1, 0));
      await seen(4, 'the next frame');
      const [half, own] = ['[[[0,0],[2,0],[2,2]]]', '[[[1,0],[3,0],[3,1]]]'];
      expect(viewers.map((viewer) => viewer.regions())).toEqual([
        [half, '"-"', own, '[]', '"-"'],
        [half, own, '[]', '"-"'],
      ]);
    } finally {
      viewers.forEach(({ request }) => request.destroy());
      streams.close();
      server.closeAllConnections();
      server.close();
    }
    }, 15_000);

  it("sends a viewer whose socket was full when a stalled camera's regions changed its last picture with them once it drains", async () => {
    const sources = new PreviewSources();
    const streams = pictureStreams(sources);
    const responses: ServerResponse[] = [];
    const server = createServer((_request, response) => {
      responses.push(response);
      streams.add('cam', response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const region = (from: number) => ({ unit: 'pixel' as const, points: [[from, from], [from + 10, from], [from + 10, from + 10]] as [number, number][] });
    sources.announceRegions({ regions: { cam: [region(0)] }, repeatMs: 60_000 });
    // Asks, then reads nothing until told (no listener: Node stops reading its socket): a page on a backlogged link.
    const { port } = server.address() as AddressInfo;
    const viewer = connect(port, '127.0.0.1', () => viewer.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n')).on('error', () => undefined);
    const feeding = feedNoise(sources);
    let received = '';
    const regionsSent = () => [...received.matchAll(/\r\nx-picture: (\S+)\r\n/g)].map((match) => JSON.parse(decodeURIComponent(match[1])).regions as unknown).filter((regions) => regions !== undefined);
    try {
      await waitUntil(() => responses[0]?.writableNeedDrain === true, () => `the viewer's socket full (pictures: ${feeding.frames()})`, { timeoutMs: 20_000 });
      // The camera stops; the picture under way is sent or held back.
      feeding.stop();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(responses[0].writableNeedDrain).toBe(true);
      // The twin moves cam's region while the viewer's socket is still full.
      sources.announceRegions({ regions: { cam: [region(20)] }, repeatMs: 60_000 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      viewer.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      await waitUntil(() => JSON.stringify(regionsSent().at(-1)) === JSON.stringify([region(20).points]), () => `the new region sent once drained, got ${JSON.stringify(regionsSent())}`, { timeoutMs: 10_000 });
    } finally {
      feeding.stop();
      viewer.destroy();
      streams.close();
      server.closeAllConnections();
      server.close();
    }
  }, 40_000);

  it('cuts a viewer whose socket has not drained for the bound (it stopped reading), one that asked for fewer pictures too, and goes on streaming to one that reads', async () => {
    const sources = new PreviewSources();
    const streams = new MjpegStreams(new PreviewRenderer(sources, plainJpeg()), (error) => {
      throw error;
    }, undefined, 2000);
    sources.onChange((sourceId) => streams.pictureChanged(sourceId));
    const server = createServer((request, response) => streams.add('cam', response, request.url === '/paced' ? 10 : undefined));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // Ask, then never read (no listener: Node stops reading its socket): a tab the browser froze, a stalled link.
    const stalled = ['/', '/paced'].map((path) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`));
      return socket.on('error', () => undefined);
    });
    let bytesRead = 0;
    const reading = get(`http://127.0.0.1:${port}/`, (response) => response.on('data', (chunk: Buffer) => (bytesRead += chunk.length)));
    reading.on('error', () => undefined);
    const feeding = feedNoise(sources);
    try {
      await waitUntil(() => streams.viewerCount === 3, 'the viewers');
      // Seen from the server: the clients, not reading, do not see their end either.
      await waitUntil(() => streams.viewerCount === 1, () => `the stalled viewers cut (viewers: ${streams.viewerCount}, pictures: ${feeding.frames()})`, { timeoutMs: 20_000 });
      const readBefore = bytesRead;
      await waitUntil(() => bytesRead > readBefore + 1_000_000, 'more pictures for the viewer that reads');
    } finally {
      feeding.stop();
      stalled.forEach((socket) => socket.destroy());
      reading.destroy();
      streams.close();
      server.closeAllConnections();
      server.close();
    }
  }, 30_000);
});
