import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { ModuleHealth } from './module-health';
import { MAX_VIEWER_FPS, MIN_VIEWER_FPS, type MjpegStreams } from './mjpeg-streams';
import { PREVIEW_PAGE } from './preview-page';
import type { PreviewRenderer } from './preview-renderer';
import type { PreviewSources } from './preview-sources';
import type { RecentReads } from './recent-reads';

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
  /** Each source's lines read: /api/sources/:id/reads and their thumbnails. */
  reads: RecentReads;
  /** A request the preview failed to answer (answered 500 instead): a bug, to log. */
  onError(error: unknown): void;
}

export interface PreviewHttpServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

const SOURCE_ROUTE = /^\/sources\/([^/]+)\/(latest\.jpg|stream\.mjpeg|live\.mjpeg|reads\/[^/]+\.jpg)$/;
const READS_ROUTE = /^\/api\/sources\/([^/]+)\/(reads)$/;
const THUMBNAIL_PREFIX = 'reads/';

/**
 * GET / (the page), /api/sources (JSON), /api/sources/:id/reads (JSON, its thumbnails under /sources/:id/reads/),
 * /sources/:id/latest.jpg, /sources/:id/stream.mjpeg, /sources/:id/live.mjpeg.
 * A forgotten source's streams end. The streams take `?fps=` (pictures a second of each source, for this viewer).
 */
export async function startPreviewHttpServer(options: PreviewHttpOptions): Promise<PreviewHttpServer> {
  const server = createServer((request, response) => {
    // A throw in a request listener would end the process: one bad request must not take the preview down.
    try {
      route(options, request, response);
    } catch (error) {
      options.onError(error);
      if (response.headersSent) response.destroy();
      else json(response, 500, { error: `could not answer ${request.url}` });
    }
  });
  options.sources.onForget((sourceId) => [options.streams, options.liveStreams].forEach((streams) => streams.end(sourceId)));
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

function route({ sources, renderer, streams, liveStreams, health, reads }: PreviewHttpOptions, request: IncomingMessage, response: ServerResponse): void {
  const url = request.url ?? '/';
  const path = url.split('?')[0];
  const parameters = new URLSearchParams(url.slice(path.length + 1));
  if (request.method !== 'GET') {
    response.writeHead(405, { allow: 'GET' }).end();
    return;
  }
  if (path === '/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PREVIEW_PAGE);
    return;
  }
  // Every source's plain frames on one stream, each part naming its source: what the page draws from.
  if (path === '/live.mjpeg') {
    const fps = viewerFps(parameters, 'fps', response);
    if (fps === null) return;
    const sourceFps = new Map<string, number>();
    for (const name of new Set(parameters.keys())) {
      if (!name.startsWith(SOURCE_FPS_PREFIX)) continue;
      const rate = viewerFps(parameters, name, response);
      if (rate === null) return;
      if (rate !== undefined) sourceFps.set(name.slice(SOURCE_FPS_PREFIX.length), rate);
    }
    liveStreams.addAll(response, sources.sourceIds(), fps, sourceFps);
    return;
  }
  if (path === '/api/sources') {
    json(response, 200, { sources: sources.summaries(), modules: health.modules() });
    return;
  }
  const match = SOURCE_ROUTE.exec(path) ?? READS_ROUTE.exec(path);
  if (!match) {
    json(response, 404, { error: `no such page: ${path}` });
    return;
  }
  const sourceId = decodedSourceId(match[1]);
  if (sourceId === undefined) {
    json(response, 400, { error: `bad escape in the source id: ${match[1]}` });
    return;
  }
  // Neither expected nor heard from: nothing will ever come (and a stream of it would count as a viewer).
  if (!sources.has(sourceId)) {
    json(response, 404, { error: `no such source: ${sourceId}` });
    return;
  }
  if (match[2] === 'reads') {
    json(response, 200, { sourceId, reads: reads.list(sourceId, `/sources/${encodeURIComponent(sourceId)}/reads`) }, request);
    return;
  }
  if (match[2].startsWith(THUMBNAIL_PREFIX)) {
    thumbnail(reads, sourceId, match[2].slice(THUMBNAIL_PREFIX.length), response);
    return;
  }
  if (match[2] !== 'latest.jpg') {
    const fps = viewerFps(parameters, 'fps', response);
    if (fps !== null) (match[2] === 'live.mjpeg' ? liveStreams : streams).add(sourceId, response, fps);
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

/**
 * A line's thumbnail, cached by the browser a day (immutable): its URL names that picture alone (a better read's has another).
 * 404 once the line is gone or read better.
 */
function thumbnail(reads: RecentReads, sourceId: string, name: string, response: ServerResponse): void {
  const jpeg = reads.thumbnail(sourceId, name);
  if (!jpeg) {
    json(response, 404, { error: `no such thumbnail of ${sourceId}: ${name} (its line is gone, or was read better since)` });
    return;
  }
  jpeg.then(
    (body) => response.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'private, max-age=86400, immutable' }).end(body),
    (error: Error) => json(response, 500, { error: `could not encode ${sourceId}'s thumbnail: ${error.message}` }),
  );
}

/** live.mjpeg's `fps.<source id>`: that source's pictures a second, where `fps` is every other source's. */
const SOURCE_FPS_PREFIX = 'fps.';

/**
 * The pictures a second the viewer asks for in the parameter `name` (`fps`, or `fps.<source id>`; undefined: every
 * picture), or null when it is no number in MIN_VIEWER_FPS..MAX_VIEWER_FPS, answered 400.
 */
function viewerFps(parameters: URLSearchParams, name: string, response: ServerResponse): number | undefined | null {
  const asked = parameters.get(name);
  if (asked === null) return undefined;
  const fps = Number(asked);
  if (asked.trim() !== '' && fps >= MIN_VIEWER_FPS && fps <= MAX_VIEWER_FPS) return fps;
  json(response, 400, { error: `${name} must be pictures a second from ${MIN_VIEWER_FPS} to ${MAX_VIEWER_FPS}: got '${asked}'` });
  return null;
}

/** Undefined for a malformed escape (`%E0%A4%A`, `%`), which decodeURIComponent throws on. */
function decodedSourceId(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

/**
 * With the `request`, gzipped where its browser takes that: a list polled every second per camera (~10-20 kB, its
 * times and ages new in each) would otherwise take a fifth of a 100 kB/s link from the pictures; ~0.4 ms to compress.
 */
function json(response: ServerResponse, status: number, body: unknown, request?: IncomingMessage): void {
  const text = JSON.stringify(body);
  const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (request && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
    response.writeHead(status, { ...headers, 'content-encoding': 'gzip', vary: 'accept-encoding' }).end(gzipSync(text));
    return;
  }
  response.writeHead(status, headers).end(text);
}
