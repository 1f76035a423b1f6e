import { once } from 'node:events';
import { createServer, get, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from '@iev/testing';
import { detections, frame } from './capture-runs.fixture';
import { MjpegStreams, pictureHeader } from './mjpeg-streams';
import { plainJpeg, PreviewRenderer } from './preview-renderer';
import { PreviewSources } from './preview-sources';

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
    const fail = (error: unknown) => {
      throw error;
    };
    const streams = new MjpegStreams(new PreviewRenderer(sources, plainJpeg()), fail, pictureHeader);
    sources.onChange((sourceId) => streams.pictureChanged(sourceId));
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
});
