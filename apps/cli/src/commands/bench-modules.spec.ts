import { createMetricsRegistry, startObservabilityServer, type ObservabilityServer } from '@iev/service-runtime';
import type { ChildProcess } from 'node:child_process';
import { Counter } from 'prom-client';
import { CAPTURE_DECODED_FRAMES_METRIC, lookAt } from './bench-modules';

describe('lookAt (a real metrics server of the modules\' kind, this process as the module)', () => {
  let server: ObservabilityServer;
  afterEach(() => server?.close());

  it("reads the main thread's GC time from prom-client's default metrics, the decoded frames, and the threads' CPU", async () => {
    const registry = createMetricsRegistry('capture');
    const decoded = new Counter({ name: CAPTURE_DECODED_FRAMES_METRIC, help: 'frames', registers: [registry] });
    decoded.inc(12);
    server = await startObservabilityServer({ port: 0, registry, health: () => ({ healthy: true }) });
    // Garbage enough for a few collections, which prom-client times as they happen.
    let kept = 0;
    for (let i = 0; i < 200_000; i++) kept += new Array(64).fill(i).length;
    expect(kept).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const look = await lookAt({ process: { pid: process.pid } as ChildProcess, metricsPort: server.port });
    expect(look.gcMs).toBeGreaterThan(0);
    expect(look.framesDecoded).toBe(12);
    expect(look.cpu.threads.get(process.pid)?.group).toBe('main');
    expect(look.cpu.threads.get(process.pid)?.cpuMs).toBeGreaterThan(0);
  });
});
