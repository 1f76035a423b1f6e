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

/**
 * Headers a part carries beside its JPEG (ASCII values): what a viewer that reads the stream itself needs.
 * `regionsKnown`: this viewer was sent the source's regions as they are (RenderedJpeg.regionsKey) on this connection.
 */
export type PartHeaders = (rendered: RenderedJpeg, regionsKnown: boolean) => Record<string, string>;

/**
 * The picture's sequence and its overlay (outlines and labels with the text read, placed and styled as in the
 * annotated JPEGs) as URI-encoded JSON in `x-picture`: the page draws it over the plain frame itself, so the boxes
 * belong to exactly that frame and the preview spends no time drawing. `regions`: the camera's ignore regions in the
 * picture's pixels, which the page shades, only where the viewer does not have them yet: a source's first part on a
 * connection and the first after they change (`[]`: none now). A camera's regions run to ~18.5 KB URI-encoded at
 * IGNORE_REGIONS' 4096 bytes, against ~1 KB of overlay: the viewer keeps them until told otherwise.
 */
export const pictureHeader: PartHeaders = ({ sequence, paired, width, height, boxes, regions }, regionsKnown) => ({
  'x-picture': encodeURIComponent(JSON.stringify({ sequence, paired, ...(!regionsKnown && { regions }), overlay: overlayPlan(width, height, detectionAnnotations(boxes)) })),
});

/** The most pictures a second a viewer may ask for (`?fps=`), of each source; PREVIEW_FPS's ceiling. */
export const MAX_VIEWER_FPS = 30;
/** The fewest: one picture every ten seconds. */
export const MIN_VIEWER_FPS = 0.1;

/**
 * A viewer: the key of the picture of each source it was sent last (the same picture is not sent twice), and when
 * (performance.now()).
 */
interface Viewer {
  /** At most this often a picture of each source (0: every picture), but those of sourceIntervalMs. */
  minIntervalMs: number;
  sourceIntervalMs: Map<string, number>;
  sent: Map<string, { key: string; atMs: number }>;
  /** The regions of each source this viewer was sent last: RenderedJpeg.regionsKey, and the version they are of. */
  regionsSent: Map<string, { key: string; version: number }>;
  /** A source's picture held back by minIntervalMs, sent once it is due. */
  due: Map<string, NodeJS.Timeout>;
  /** The sources whose picture was held back while the viewer's socket was full, sent once it drains. */
  awaitingDrain: Set<string>;
}

/**
 * MJPEG (`multipart/x-mixed-replace`) streams per source: every browser shows one in a plain <img>, with no script
 * and no decoder on the page, and a script may read the parts' headers. A new picture is encoded once for all of a
 * source's viewers, and only while someone watches; a viewer still busy with the previous frame (its socket's buffer
 * not drained) skips this one instead of queueing frames in memory. A viewer may ask for fewer pictures (`fps`): on
 * a link slower than the stream the kernel's TCP buffers queue megabytes before Node's fills, so only the viewer can
 * tell, and each part's `x-sent-at` (the preview's clock, ms) lets it see its pictures queue. A source's regions
 * changed are sent at once whatever the pace, that picture counting as the viewer's next; a new picture size alone
 * waits its turn.
 */
export class MjpegStreams {
  private readonly viewers = new Map<string, Set<ServerResponse>>();
  /**
   * Viewers of every source on one response (addAll): a browser opens at most six connections to a host, so a page
   * with a stream per source would never see a sixth camera, nor get its figures polled.
   */
  private readonly everySource = new Set<ServerResponse>();
  private readonly viewerStates = new Map<ServerResponse, Viewer>();
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

  /**
   * Starts the stream on `response` with the newest picture, if any, then at most `fps` pictures a second (every
   * picture when undefined); it ends when the client goes away.
   */
  add(sourceId: string, response: ServerResponse, fps?: number): void {
    this.start(response, fps);
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
   * URI-encoded), the newest of each of `sourceIds` first, then at most `fps` pictures a second of each source, or what
   * `sourceFps` says for it (a page on a slow link shares it out by the cameras' picture sizes); it ends when the client
   * goes away.
   */
  addAll(response: ServerResponse, sourceIds: readonly string[], fps?: number, sourceFps: ReadonlyMap<string, number> = new Map()): void {
    this.start(response, fps, sourceFps);
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
        const { key, jpeg, regionsKey, regionsVersion } = picture;
        // Frames and detections each call here; the part's headers are built only when a viewer lacks this picture,
        // with the regions and without them (a viewer that has them), each at most once.
        const parts = new Map<boolean, string>();
        // The pace by the monotonic clock: a wall clock stepped back (NTP) would hold a paced viewer's pictures back as long.
        const now = performance.now();
        for (const viewer of [...(this.viewers.get(sourceId) ?? []), ...this.everySource]) {
          const state = this.viewerStates.get(viewer);
          if (!state) continue;
          if (viewer.writableNeedDrain) {
            this.sendOnDrain(viewer, state, sourceId);
            continue;
          }
          if (state.sent.get(sourceId)?.key === key) continue;
          const regionsSent = state.regionsSent.get(sourceId);
          const regionsKnown = regionsSent?.key === regionsKey;
          // Changed regions are worth a picture at once, a paced viewer's too: a person drawing them on a stopped
          // camera would otherwise wait up to its interval (10 s at fps=0.1). It counts as the interval's picture.
          // A new picture size alone keeps the pace: the viewer's picture and regions still agree.
          if (regionsSent?.version === regionsVersion && !this.isDue(state, sourceId, now)) continue;
          state.sent.set(sourceId, { key, atMs: now });
          state.regionsSent.set(sourceId, { key: regionsKey, version: regionsVersion });
          let part = parts.get(regionsKnown);
          // One send time for all viewers: they are written to in this same turn.
          if (part === undefined) {
            part = `--${BOUNDARY}\r\ncontent-type: image/jpeg\r\ncontent-length: ${jpeg.length}\r\nx-source: ${encodeURIComponent(sourceId)}\r\n${this.headerLines(picture, regionsKnown)}x-sent-at: ${Date.now()}\r\n\r\n`;
            parts.set(regionsKnown, part);
          }
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

  private start(response: ServerResponse, fps: number | undefined, sourceFps: ReadonlyMap<string, number> = new Map()): void {
    startStream(response);
    const state: Viewer = {
      minIntervalMs: fps === undefined ? 0 : 1000 / fps,
      sourceIntervalMs: new Map([...sourceFps].map(([sourceId, rate]) => [sourceId, 1000 / rate])),
      sent: new Map(),
      regionsSent: new Map(),
      due: new Map(),
      awaitingDrain: new Set(),
    };
    this.viewerStates.set(response, state);
    response.on('close', () => {
      this.viewerStates.delete(response);
      for (const timer of state.due.values()) clearTimeout(timer);
    });
  }

  /**
   * Whether the viewer may have a picture of the source now; if not, the newest one is sent when it may: a picture
   * held back is not lost when the source sends no more (a camera at 1 fps, a viewer at 0.7).
   */
  private isDue(state: Viewer, sourceId: string, now: number): boolean {
    const waitMs = (state.sent.get(sourceId)?.atMs ?? -Infinity) + (state.sourceIntervalMs.get(sourceId) ?? state.minIntervalMs) - now;
    if (waitMs <= 0) return true;
    if (!state.due.has(sourceId)) {
      const timer = setTimeout(() => {
        state.due.delete(sourceId);
        this.pictureChanged(sourceId);
      }, waitMs);
      state.due.set(sourceId, timer);
    }
    return false;
  }

  /**
   * Sends the source's newest picture once the viewer's socket drains: a camera whose frames stopped sends no other,
   * so a viewer backlogged when its last frame came, or when its regions changed, would keep an older one.
   */
  private sendOnDrain(viewer: ServerResponse, state: Viewer, sourceId: string): void {
    if (state.awaitingDrain.size === 0) {
      viewer.once('drain', () => {
        const sourceIds = [...state.awaitingDrain];
        state.awaitingDrain.clear();
        for (const each of sourceIds) this.pictureChanged(each);
      });
    }
    state.awaitingDrain.add(sourceId);
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

  private headerLines(picture: RenderedJpeg, regionsKnown: boolean): string {
    return Object.entries(this.partHeaders(picture, regionsKnown))
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
