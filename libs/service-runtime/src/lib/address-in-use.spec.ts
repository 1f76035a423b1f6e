import { freePort } from '@iev/testing';
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

  it('names a ZeroMQ bind refused for a taken address even when its code reads otherwise', async () => {
    // libzmq tells the socket's monitor of the failed bind before zmq_bind returns; a pause of about a millisecond
    // between its two reports (a thread preempted under load) makes that report leave errno at EAGAIN.
    const overwritten = (address: string) => Object.assign(new Error('Operation was not possible or timed out'), { code: 'EAGAIN', address });
    const taken = new Push({ linger: 0 });
    try {
      await taken.bind('tcp://127.0.0.1:0');
      const bound = taken.lastEndpoint as string;
      await expect(listenAsConfigured('FRAMES_BIND', Promise.reject(overwritten(bound)))).rejects.toThrow(`FRAMES_BIND: ${bound} is already in use`);
      // ZeroMQ also binds to an interface by its name: the loopback's address is the one taken.
      const byInterface = bound.replace('127.0.0.1', 'lo');
      await expect(listenAsConfigured('FRAMES_BIND', Promise.reject(overwritten(byInterface)))).rejects.toThrow(`FRAMES_BIND: ${byInterface} is already in use`);
    } finally {
      taken.close();
    }
    // On a free address the failure is not the address's: it passes through as it is.
    const notTheAddress = overwritten(`tcp://127.0.0.1:${await freePort()}`);
    await expect(listenAsConfigured('FRAMES_BIND', Promise.reject(notTheAddress))).rejects.toBe(notTheAddress);
  });

  it('names the host variable for a host that is not this machine: an address it lacks, a name that does not resolve', async () => {
    const options = { port: 0, registry: createMetricsRegistry('elsewhere'), health: () => ({ healthy: true }) };
    // 192.0.2.0/24 is TEST-NET-1, never a local address; .invalid never resolves.
    await expect(startObservabilityServer({ ...options, host: '192.0.2.1' })).rejects.toThrow(/^LISTEN_HOST: cannot listen on 192\.0\.2\.1: no address of this machine \(EADDRNOTAVAIL\)/);
    await expect(startObservabilityServer({ ...options, host: 'camera.invalid' })).rejects.toThrow(/^LISTEN_HOST: cannot listen on camera\.invalid: no address of this machine \((ENOTFOUND|EAI_AGAIN)\)/);
    const socket = new Push({ linger: 0 });
    try {
      await expect(listenAsConfigured('FRAMES_BIND', socket.bind('tcp://192.0.2.1:5555'))).rejects.toThrow(/^FRAMES_BIND: cannot listen on tcp:\/\/192\.0\.2\.1:5555: no address of this machine/);
    } finally {
      socket.close();
    }
  });

  it('passes other failures through as they are', async () => {
    const denied = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' });
    await expect(listenAsConfigured('PREVIEW_PORT', Promise.reject(denied))).rejects.toBe(denied);
  });
});
