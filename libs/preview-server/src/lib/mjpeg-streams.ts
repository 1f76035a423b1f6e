import type { ServerResponse } from 'node:http';
import { detectionAnnotations, overlayPlan } from '@iev/frame-annotation';
import type { PreviewRenderer, RenderedJpeg } from './preview-renderer';

const BOUNDARY = 'ievframe';

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
  /** The key of the picture each viewer was sent last: the same picture is not sent twice. */
  private readonly sent = new WeakMap<ServerResponse, string>();
  private readonly sending = new Set<string>();
  private readonly pending = new Set<string>();

  constructor(
    private readonly renderer: PreviewRenderer,
    private readonly onError: (error: unknown) => void,
    private readonly partHeaders: PartHeaders = () => ({}),
  ) {}

  get viewerCount(): number {
    return [...this.viewers.values()].reduce((count, viewers) => count + viewers.size, 0);
  }

  /** Starts the stream on `response` with the newest picture, if any; it ends when the client goes away. */
  add(sourceId: string, response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      'cache-control': 'no-store',
      connection: 'close',
    });
    // Sent now, not with the first picture: the viewer of a source still waiting for its first frame has its answer.
    response.flushHeaders();
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

  /** Sends the source's new picture to its viewers; pictures arriving while one is encoded collapse into the next. */
  pictureChanged(sourceId: string): void {
    if (!this.viewers.has(sourceId)) return;
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
        for (const viewer of this.viewers.get(sourceId) ?? []) {
          if (viewer.writableNeedDrain || this.sent.get(viewer) === key) continue;
          this.sent.set(viewer, key);
          part ??= `--${BOUNDARY}\r\ncontent-type: image/jpeg\r\ncontent-length: ${jpeg.length}\r\n${this.headerLines(picture)}\r\n`;
          viewer.write(part);
          viewer.write(jpeg);
          viewer.write('\r\n');
        }
      })
      .catch(this.onError) // the next picture tries again
      .finally(() => {
        this.sending.delete(sourceId);
        if (this.pending.delete(sourceId)) this.pictureChanged(sourceId);
      });
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
  }
}
