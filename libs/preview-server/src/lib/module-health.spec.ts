import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@iev/testing';
import { ModuleHealth } from './module-health';

describe('ModuleHealth', () => {
  let server: Server;
  let port: number;
  let healthy = true;

  beforeAll(async () => {
    server = createServer((_request, response) => response.writeHead(healthy ? 200 : 503).end(healthy ? '{"healthy":true}' : '{"healthy":false,"status":"loading model"}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('shows a module up, unhealthy with its reason, or down when nothing answers', async () => {
    const closedPort = await freePort();

    const health = new ModuleHealth({ inference: `http://127.0.0.1:${port}/health`, telemetry: `http://127.0.0.1:${closedPort}/health` });
    await health.checkAll();
    expect(health.modules()).toEqual([
      expect.objectContaining({ name: 'inference', status: 'up' }),
      expect.objectContaining({ name: 'telemetry', status: 'down', detail: 'ECONNREFUSED' }),
    ]);
    healthy = false;
    await health.checkAll();
    expect(health.modules()[0]).toMatchObject({ status: 'unhealthy', detail: expect.stringContaining('loading model') });
  });
});
