import { Push } from 'zeromq';
import { listenAsConfigured } from './address-in-use';
import { createMetricsRegistry, startObservabilityServer } from './observability-server';

describe('listenAsConfigured: an address already taken, named by the variable that chose it', () => {
  it('a metrics server on a port already taken fails naming METRICS_PORT and the likely cause', async () => {
    const first = await startObservabilityServer({ port: 0, host: '127.0.0.1', registry: createMetricsRegistry('first'), health: () => ({ healthy: true }) });
    try {
      const second = startObservabilityServer({ port: first.port, host: '127.0.0.1', registry: createMetricsRegistry('second'), health: () => ({ healthy: true }) });
      await expect(second).rejects.toMatchObject({
        code: 'EADDRINUSE',
        message: `METRICS_PORT: 127.0.0.1:${first.port} is already in use; another instance may be running (stop it), or set METRICS_PORT to a free port`,
      });
    } finally {
      await first.close();
    }
  });

  it('names a ZeroMQ bind by its endpoint', async () => {
    const endpoint = 'tcp://127.0.0.1:0';
    const taken = new Push({ linger: 0 });
    const second = new Push({ linger: 0 });
    try {
      await taken.bind(endpoint);
      const bound = taken.lastEndpoint as string;
      await expect(listenAsConfigured('FRAMES_BIND', second.bind(bound))).rejects.toThrow(`FRAMES_BIND: ${bound} is already in use`);
    } finally {
      taken.close();
      second.close();
    }
  });

  it('passes other failures through as they are', async () => {
    const denied = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' });
    await expect(listenAsConfigured('PREVIEW_PORT', Promise.reject(denied))).rejects.toBe(denied);
  });
});
