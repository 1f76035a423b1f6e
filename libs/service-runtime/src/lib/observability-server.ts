import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { listenAsConfigured } from './address-in-use';
import { listenHost, type EnvSource } from './env';

export interface HealthReport {
  healthy: boolean;
  [detail: string]: unknown;
}

export interface ObservabilityServerOptions {
  /** The module's METRICS_PORT; 0 picks a free port. */
  port: number;
  /** Default listenHost(): LISTEN_HOST, else 127.0.0.1. */
  host?: string;
  registry: Registry;
  health: () => HealthReport;
}

/** This process's run: a new one after every restart, so counters that start over can be told apart. */
const INSTANCE_NUMBER = randomUUID();

/**
 * The labels every series of a module carries, so a fleet's metrics (IoT Edge's metrics collector sends them to
 * one workspace) tell hub, device, module and run apart, named as in IoT Edge's own built-in metrics: `iothub`,
 * `edge_device` (from IOTEDGE_IOTHUBHOSTNAME, IOTEDGE_DEVICEID; absent outside IoT Edge), `module` (the
 * deployment's module id, IOTEDGE_MODULEID, else the module's name) and `instance_number`.
 */
export function fleetLabels(module: string, source: EnvSource = process.env): Record<string, string> {
  return {
    ...(source['IOTEDGE_IOTHUBHOSTNAME'] && { iothub: source['IOTEDGE_IOTHUBHOSTNAME'] }),
    ...(source['IOTEDGE_DEVICEID'] && { edge_device: source['IOTEDGE_DEVICEID'] }),
    module: source['IOTEDGE_MODULEID'] || module,
    instance_number: INSTANCE_NUMBER,
  };
}

/**
 * A module's Prometheus registry with Node's default process metrics and the fleet labels; `labels` adds more
 * to every series (e.g. `source_id` for a module that serves one source).
 */
export function createMetricsRegistry(module: string, labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ ...fleetLabels(module), ...labels });
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

/** GET (or HEAD) /metrics (Prometheus text), /health (200 or 503 with a JSON report), /live (process is up). */
export async function startObservabilityServer(options: ObservabilityServerOptions): Promise<ObservabilityServer> {
  let health = options.health;
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    // HEAD is answered as GET, Node leaving the body out: health checkers (wget --spider) send it.
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    } else if (path === '/health') {
      // A health report that cannot be made or written answers 500: a thrown error here would end the process.
      let report: HealthReport;
      let body: string;
      try {
        report = health();
        body = JSON.stringify(report);
      } catch (error) {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`cannot report health: ${(error as Error).message}`);
        return;
      }
      response.writeHead(report.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(body);
    } else if (path === '/live') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else {
      response.writeHead(404).end();
    }
  });
  await listenAsConfigured(
    'METRICS_PORT',
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host ?? listenHost(), () => resolve());
    }),
    'LISTEN_HOST',
  );
  return {
    server,
    port: (server.address() as AddressInfo).port,
    setHealth: (next) => {
      health = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A Prometheus gauge whose value is read from elsewhere (e.g. a source's state) at scrape time. */
export function gaugeReadAtScrape(registry: Registry, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
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
