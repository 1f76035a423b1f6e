import type { ServerResponse } from 'node:http';
import { detectionAnnotations, overlayPlan } from '@iev/frame-annotation';
import type { PreviewRenderer, RenderedJpeg } from './preview-renderer';

const BOUNDARY = 'ievframe';

/**
 * A viewer whose socket has taken none of a picture for this long (a tab the browser froze, a stalled link, a client
 * gone without a word) is cut: skipping pictures keeps its memory to one, but it would hold the megabytes of its
 * socket's buffers and count as watching, which keeps the preview taking PREVIEW_FPS, for as long as TCP lets it.
 */
export const STALLED_VIEWER_MS = 30_000;

/** Headers a part carries beside its JPEG (ASCII values): what a viewer that reads the stream itself needs. */
export type PartHeaders = (rendered: RenderedJpeg) => Record<string, string>;

/**
 * The picture's sequence and its overlay (outlines and labels with the text read, placed and styled as in the
 * annotated JPEGs) as URI-encoded JSON in `x-picture`: the page draws it over the plain frame itself, so the boxes
 * belong to exactly that frame and the preview spends no time drawing.
 */
export const pictureHeader: PartHeaders = ({ sequence, paired, width, height, boxes }) => ({
  'x-picture': encodeURIComponent(JSON.stringify({ sequence, paired, overlay: overlayPlan(width, height, detectionAnnotations(boxes)) })),
});

/**
 * MJPEG (`multipart/x-mixed-replace`) streams per source: every browser shows one in a plain <img>, with no script
 * and no decoder on the page, and a script may read the parts' headers. A new picture is encoded once for all of a
 * source's viewers, and only while someone watches; a viewer still busy with the previous frame (its socket's buffer
 * not drained) skips this one instead of queueing frames in memory.
 */
export class MjpegStreams {
  private readonly viewers = new Map<string, Set<ServerResponse>>();
  /**
   * Viewers of every source on one response (addAll): a browser opens at most six connections to a host, so a page
   * with a stream per source would never see a sixth camera, nor get its figures polled.
   */
  private readonly everySource = new Set<ServerResponse>();
  /** The key of the picture of each source each viewer was sent last: the same picture is not sent twice. */
  private readonly sent = new WeakMap<ServerResponse, Map<string, string>>();
  private readonly sending = new Set<string>();
  private readonly pending = new Set<string>();

  constructor(
    private readonly renderer: PreviewRenderer,
    private readonly onError: (error: unknown) => void,
    private readonly partHeaders: PartHeaders = () => ({}),
    private readonly stalledViewerMs = STALLED_VIEWER_MS,
  ) {}

  get viewerCount(): number {
    return [...this.viewers.values()].reduce((count, viewers) => count + viewers.size, this.everySource.size);
  }

  /** Starts the stream on `response` with the newest picture, if any; it ends when the client goes away. */
  add(sourceId: string, response: ServerResponse): void {
    startStream(response);
    let viewers = this.viewers.get(sourceId);
    if (!viewers) this.viewers.set(sourceId, (viewers = new Set()));
    viewers.add(response);
    response.on('close', () => {
      viewers.delete(response);
      // Not the set of viewers who came after end(sourceId).
      if (viewers.size === 0 && this.viewers.get(sourceId) === viewers) this.viewers.delete(sourceId);
    });
    this.pictureChanged(sourceId);
  }

  /**
   * Starts one stream on `response` with the pictures of every source (each part's `x-source` header names its source,
   * URI-encoded), the newest of each of `sourceIds` first; it ends when the client goes away.
   */
  addAll(response: ServerResponse, sourceIds: readonly string[]): void {
    startStream(response);
    this.everySource.add(response);
    response.on('close', () => this.everySource.delete(response));
    for (const sourceId of sourceIds) this.pictureChanged(sourceId);
  }

  /** Sends the source's new picture to its viewers; pictures arriving while one is encoded collapse into the next. */
  pictureChanged(sourceId: string): void {
    if (!this.viewers.has(sourceId) && this.everySource.size === 0) return;
    if (this.sending.has(sourceId)) {
      this.pending.add(sourceId);
      return;
    }
    const rendered = this.renderer.latest(sourceId);
    if (!rendered) return;
    this.sending.add(sourceId);
    rendered
      .then((picture) => {
        const { key, jpeg } = picture;
        // Frames and detections each call here; the part's headers are built only when a viewer lacks this picture.
        let part: string | undefined;
        for (const viewer of [...(this.viewers.get(sourceId) ?? []), ...this.everySource]) {
          let sent = this.sent.get(viewer);
          if (!sent) this.sent.set(viewer, (sent = new Map()));
          if (viewer.writableNeedDrain || sent.get(sourceId) === key) continue;
          sent.set(sourceId, key);
          part ??= `--${BOUNDARY}\r\ncontent-type: image/jpeg\r\ncontent-length: ${jpeg.length}\r\nx-source: ${encodeURIComponent(sourceId)}\r\n${this.headerLines(picture)}\r\n`;
          viewer.write(part);
          viewer.write(jpeg);
          if (!viewer.write('\r\n')) this.cutUnlessDrained(viewer);
        }
      })
      .catch(this.onError) // the next picture tries again
      .finally(() => {
        this.sending.delete(sourceId);
        if (this.pending.delete(sourceId)) this.pictureChanged(sourceId);
      });
  }

  /** Ends the viewer's stream unless its socket drains within stalledViewerMs. */
  private cutUnlessDrained(viewer: ServerResponse): void {
    const cut = setTimeout(() => viewer.destroy(), this.stalledViewerMs).unref();
    const drained = () => {
      clearTimeout(cut);
      viewer.off('drain', drained).off('close', drained);
    };
    viewer.on('drain', drained).on('close', drained);
  }

  private headerLines(picture: RenderedJpeg): string {
    return Object.entries(this.partHeaders(picture))
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
  }

  /** Ends the source's streams (a source the preview forgot). */
  end(sourceId: string): void {
    const viewers = this.viewers.get(sourceId);
    this.viewers.delete(sourceId);
    for (const viewer of viewers ?? []) viewer.end();
  }

  close(): void {
    for (const sourceId of [...this.viewers.keys()]) this.end(sourceId);
    for (const viewer of this.everySource) viewer.end();
    this.everySource.clear();
  }
}

function startStream(response: ServerResponse): void {
  response.writeHead(200, {
    'content-type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
    'cache-control': 'no-store',
    connection: 'close',
  });
  // Sent now, not with the first picture: the viewer of a source still waiting for its first frame has its answer.
  response.flushHeaders();
}
