import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

export interface HealthReport {
  healthy: boolean;
  [detail: string]: unknown;
}

export interface ObservabilityServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  registry: Registry;
  health: () => HealthReport;
}

/** A module's Prometheus registry with Node's default process metrics, labelled with the module name. */
export function createMetricsRegistry(module: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ module });
  collectDefaultMetrics({ register: registry, prefix: 'iev_' });
  return registry;
}

export interface ObservabilityServer {
  server: Server;
  port: number;
  /** Replaces the health report: a module serves one while it starts (e.g. "building engine"), another once running. */
  setHealth(health: () => HealthReport): void;
  close(): Promise<void>;
}

/** GET /metrics (Prometheus text), /health (200 or 503 with a JSON report), /live (process is up). */
export async function startObservabilityServer(options: ObservabilityServerOptions): Promise<ObservabilityServer> {
  let health = options.health;
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405).end();
    } else if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    } else if (path === '/health') {
      const report = health();
      response.writeHead(report.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report));
    } else if (path === '/live') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    setHealth: (next) => {
      health = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A Prometheus counter whose value is read from elsewhere (e.g. a transport's own stats) at scrape time. */
export function counterReadAtScrape(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
