import { Counter } from 'prom-client';
import { counterReadAtScrape, createMetricsRegistry, fleetLabels, startObservabilityServer } from './observability-server';

describe('observability server', () => {
  const registry = createMetricsRegistry('test-module');
  const frames = new Counter({ name: 'iev_test_frames_total', help: 'frames', registers: [registry] });
  let healthy = true;
  let server: Awaited<ReturnType<typeof startObservabilityServer>>;

  beforeAll(async () => {
    server = await startObservabilityServer({ port: 0, host: '127.0.0.1', registry, health: () => ({ healthy, source: 'file' }) });
  });
  afterAll(() => server.close());

  const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);

  it('serves Prometheus metrics with the module and instance labels', async () => {
    frames.inc(3);
    const response = await get('/metrics');
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/^iev_test_frames_total\{module="test-module",instance_number="[0-9a-f-]{36}"\} 3$/m);
    expect(text).toContain('iev_process_cpu_user_seconds_total');
  });

  it('answers /health with 200 when healthy and 503 when not', async () => {
    healthy = true;
    let response = await get('/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ healthy: true, source: 'file' });
    healthy = false;
    response = await get('/health');
    expect(response.status).toBe(503);
  });

  it('serves the health report set later, as a module does once its slow start is over', async () => {
    const starting = await startObservabilityServer({ port: 0, host: '127.0.0.1', registry, health: () => ({ healthy: false, status: 'building engine' }) });
    try {
      const health = () => fetch(`http://127.0.0.1:${starting.port}/health`);
      let response = await health();
      expect({ status: response.status, body: await response.json() }).toEqual({ status: 503, body: { healthy: false, status: 'building engine' } });
      expect((await fetch(`http://127.0.0.1:${starting.port}/live`)).status).toBe(200);
      starting.setHealth(() => ({ healthy: true, backend: 'tensorrt' }));
      response = await health();
      expect({ status: response.status, body: await response.json() }).toEqual({ status: 200, body: { healthy: true, backend: 'tensorrt' } });
    } finally {
      await starting.close();
    }
  });

  it('answers HEAD as GET without the body (health checkers such as wget --spider send it), and other methods 405 naming both', async () => {
    healthy = true;
    for (const path of ['/health', '/live', '/metrics']) {
      const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { method: 'HEAD' });
      expect([path, response.status, await response.text()]).toEqual([path, 200, '']);
    }
    for (const method of ['POST', 'OPTIONS', 'DELETE']) {
      const response = await fetch(`http://127.0.0.1:${server.port}/health`, { method });
      expect([method, response.status, response.headers.get('allow')]).toEqual([method, 405, 'GET, HEAD']);
    }
  });

  it('reads a counter kept elsewhere at each scrape', async () => {
    let dropped = 2;
    counterReadAtScrape(registry, 'iev_test_dropped_total', 'dropped', () => dropped);
    expect(await (await get('/metrics')).text()).toMatch(/^iev_test_dropped_total\{module="test-module",[^}]*\} 2$/m);
    dropped = 7;
    expect(await (await get('/metrics')).text()).toMatch(/^iev_test_dropped_total\{module="test-module",[^}]*\} 7$/m);
  });

  it("labels a fleet's series with hub, device, module and instance under IoT Edge, as its built-in metrics are", () => {
    const env = { IOTEDGE_IOTHUBHOSTNAME: 'hub1.azure-devices.net', IOTEDGE_DEVICEID: 'jetson-01', IOTEDGE_MODULEID: 'inference-b' };
    const labels = fleetLabels('inference', env);
    expect(labels).toEqual({ iothub: 'hub1.azure-devices.net', edge_device: 'jetson-01', module: 'inference-b', instance_number: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    // One run, one instance: the same id for every registry of the process.
    expect(fleetLabels('capture', {}).instance_number).toBe(labels['instance_number']);
    expect(fleetLabels('capture', {})).toEqual({ module: 'capture', instance_number: labels['instance_number'] });
  });

  it('answers 500 for a health report it cannot write, and keeps serving', async () => {
    const broken = await startObservabilityServer({ port: 0, host: '127.0.0.1', registry, health: () => ({ healthy: true, frames: 1n }) });
    try {
      const response = await fetch(`http://127.0.0.1:${broken.port}/health`);
      expect(response.status).toBe(500);
      expect(await response.text()).toMatch(/^cannot report health: .*BigInt/);
      expect((await fetch(`http://127.0.0.1:${broken.port}/live`)).status).toBe(200);
    } finally {
      await broken.close();
    }
  });

  it('answers unknown paths with 404', async () => {
    expect((await get('/nope')).status).toBe(404);
  });
});
