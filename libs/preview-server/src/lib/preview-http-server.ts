import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModuleHealth } from './module-health';
import type { MjpegStreams } from './mjpeg-streams';
import { PREVIEW_PAGE } from './preview-page';
import type { PreviewRenderer } from './preview-renderer';
import type { PreviewSources } from './preview-sources';

export interface PreviewHttpOptions {
  port: number;
  host: string;
  sources: PreviewSources;
  /** Annotated pictures: latest.jpg. */
  renderer: PreviewRenderer;
  /** stream.mjpeg: boxes and text drawn in by the preview, for any MJPEG viewer. */
  streams: MjpegStreams;
  /** live.mjpeg: the plain frames, each part's boxes in its `x-picture` header; what the page draws from. */
  liveStreams: MjpegStreams;
  health: ModuleHealth;
}

export interface PreviewHttpServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

const SOURCE_ROUTE = /^\/sources\/([^/]+)\/(latest\.jpg|stream\.mjpeg|live\.mjpeg)$/;

/** GET / (the page), /api/sources (JSON), /sources/:id/latest.jpg, /sources/:id/stream.mjpeg, /sources/:id/live.mjpeg. */
export async function startPreviewHttpServer(options: PreviewHttpOptions): Promise<PreviewHttpServer> {
  const server = createServer((request, response) => route(options, request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        options.streams.close();
        options.liveStreams.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function route({ sources, renderer, streams, liveStreams, health }: PreviewHttpOptions, request: IncomingMessage, response: ServerResponse): void {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET') {
    response.writeHead(405, { allow: 'GET' }).end();
    return;
  }
  if (path === '/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PREVIEW_PAGE);
    return;
  }
  if (path === '/api/sources') {
    json(response, 200, { sources: sources.summaries(), modules: health.modules() });
    return;
  }
  const match = SOURCE_ROUTE.exec(path);
  if (!match) {
    json(response, 404, { error: `no such page: ${path}` });
    return;
  }
  const sourceId = decodeURIComponent(match[1]);
  if (match[2] !== 'latest.jpg') {
    (match[2] === 'live.mjpeg' ? liveStreams : streams).add(sourceId, response);
    return;
  }
  const rendered = renderer.latest(sourceId);
  if (!rendered) {
    json(response, 503, { error: `waiting for ${sourceId}: no frame yet`, waiting: true });
    return;
  }
  rendered.then(
    ({ jpeg, sequence, paired }) =>
      response.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'no-store', 'x-frame-sequence': String(sequence), 'x-boxes-paired': String(paired) }).end(jpeg),
    (error: Error) => json(response, 500, { error: `could not encode ${sourceId}'s frame: ${error.message}` }),
  );
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
