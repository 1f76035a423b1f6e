import { once } from 'node:events';
import { createServer, get, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from '@iev/testing';
import { MjpegStreams } from './mjpeg-streams';
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
});
