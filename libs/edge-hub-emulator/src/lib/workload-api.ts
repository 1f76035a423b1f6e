import { lstatSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

/** What the workload API answers a sign request with: a digest, or an HTTP error. */
export type SignResult = { digest: string } | { status: number; message: string };

export interface WorkloadApiOptions {
  host: string;
  port: number;
  /** Also listen on this unix socket (`unix://` workload URIs), as iotedge does. */
  socketPath?: string;
  trustBundle: () => string;
  sign: (moduleId: string, generationId: string, keyId: string, data: Buffer) => SignResult;
}

export interface WorkloadApi {
  port: number;
  socketPath?: string;
  close(): Promise<void>;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether something accepts connections on the unix socket at `path`. */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Removes a socket left at `path` by a process that did not stop cleanly (listen would fail with EADDRINUSE), and
 * nothing else: a socket something listens on, or a file that is not a socket, is refused.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket: not removing it to listen there`);
  if (await socketIsLive(path)) {
    throw Object.assign(new Error(`something is already listening on ${path} (another emulator or an IoT Edge runtime?)`), { code: 'EADDRINUSE' });
  }
  unlinkSync(path);
}

const closeServer = (server: Server) => {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections(); // keep-alive connections would hold close() open
  return closed;
};

/**
 * The part of the IoT Edge workload API (iotedged, api-version 2018-06-28) that ModuleClient.fromEnvironment uses:
 * the trust bundle it verifies edgeHub's certificate with, and HMAC signing with the module's key, which it
 * turns into SAS tokens. Errors are `{ "message": ... }` like iotedged's.
 */
export async function startWorkloadApi(options: WorkloadApiOptions): Promise<WorkloadApi> {
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://workload');
    if (!url.searchParams.get('api-version')) return send(response, 400, { message: 'api-version is required' });
    if (request.method === 'GET' && url.pathname === '/trust-bundle') return send(response, 200, { certificate: options.trustBundle() });
    const sign = /^\/modules\/([^/]+)\/genid\/([^/]+)\/sign$/.exec(url.pathname);
    if (request.method === 'POST' && sign) {
      let body: { keyId?: unknown; algo?: unknown; data?: unknown };
      try {
        body = JSON.parse(await readBody(request));
      } catch {
        return send(response, 400, { message: 'the request body is not JSON' });
      }
      if (body.algo !== 'HMACSHA256') return send(response, 400, { message: `unsupported algo ${String(body.algo)}; expected HMACSHA256` });
      if (typeof body.keyId !== 'string' || typeof body.data !== 'string') return send(response, 400, { message: 'keyId and data (base64) are required' });
      const result = options.sign(decodeURIComponent(sign[1]), decodeURIComponent(sign[2]), body.keyId, Buffer.from(body.data, 'base64'));
      return 'digest' in result ? send(response, 200, result) : send(response, result.status, { message: result.message });
    }
    send(response, 404, { message: `no such workload API operation: ${request.method} ${url.pathname}` });
  };
  const newServer = () =>
    createServer((request, response) => {
      handle(request, response).catch((err: Error) => send(response, 500, { message: err.message }));
    });

  const listen = (server: Server, ...args: [number, string] | [string]) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(...(args as [number, string]), () => {
        server.off('error', reject);
        resolve();
      });
    });

  const servers: Server[] = [];
  const tcp = newServer();
  await listen(tcp, options.port, options.host);
  servers.push(tcp);
  if (options.socketPath) {
    try {
      await removeStaleSocket(options.socketPath);
      const unix = newServer();
      await listen(unix, options.socketPath);
      servers.push(unix);
    } catch (err) {
      await closeServer(tcp); // the caller gets no handle to close it with
      throw err;
    }
  }
  return {
    port: (tcp.address() as AddressInfo).port,
    socketPath: options.socketPath,
    close: async () => {
      await Promise.all(servers.map(closeServer));
    },
  };
}
