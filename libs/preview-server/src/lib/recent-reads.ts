import { randomBytes } from 'node:crypto';
import type { Detections } from '@iev/frame-protocol';
import type { KeptFrame } from './kept-frames';
import { encodeLineThumbnail, lineRect, thumbnailSize } from './line-thumbnail';
import type { PreviewSources } from './preview-sources';

/** Lines kept per source: the most recently seen. A scrolling ticker makes hundreds; the oldest go. */
export const RECENT_READS_PER_SOURCE = 50;

/** A text read of a line and the reader's confidence in it (0-1). */
export interface LineText {
  text: string;
  textScore: number;
}

/** One line of a source as /api/sources/<id>/reads lists it. */
export interface RecentRead {
  /** The publishing inference's run and its tracker's line id: one line, however often it was read. */
  runId: string | null;
  lineId: number;
  /** The best-scored read so far. */
  best: LineText;
  /** The newest read, where its text is not the best's. */
  latest?: LineText;
  /**
   * Read by an inference run before the one publishing now (inference restarted since): its tracker's ids start
   * afresh, so a line still in view is listed again under the new run, and this entry is its history.
   */
  earlierRun?: true;
  /** Capture times of the first and newest frames with the line (epoch ms), and since the newest (ms). */
  firstSeenMs: number;
  lastSeenMs: number;
  ageMs: number;
  /** The line cut out of the frame it was read best in (of those the preview took), at thumbnailSize; null before one. */
  thumbnail: { url: string; width: number; height: number; textScore: number } | null;
}

interface Thumbnail {
  /** Names it in its URL: a better read's picture gets another, so a browser may keep each as it is (a day). */
  version: number;
  textScore: number;
  width: number;
  height: number;
  jpeg: Promise<Buffer>;
}

interface TrackedLine {
  /** Orders lines that appeared in the same frame. */
  serial: number;
  runId?: string;
  lineId: number;
  best: LineText;
  latest: LineText;
  firstSeenMs: number;
  lastSeenMs: number;
  thumbnail?: Thumbnail;
}

/**
 * Per source, the lines inference read (boxes with a `lineId` and a `text`): the best-scored text of each and its
 * newest, when it was first and last seen, and a JPEG of the line cut out of the frame it was read best in. A crop is
 * encoded only when a line appears or its best read improves on a frame the preview kept (with its detections in
 * hand: the frames the preview takes, PREVIEW_FPS while watched, one a second otherwise), never per frame. Lines of a
 * forgotten source go with it.
 */
export class RecentReads {
  private readonly sources = new Map<string, Map<string, TrackedLine>>();
  /**
   * The inference run of the newest detections, any camera's: lines of another run are from before a restart. One for
   * all, as the preview takes one inference's detections (DETECTIONS_CONNECT): a camera whose detections stopped
   * before the restart has its lines marked too.
   */
  private currentRun?: string;
  /** Numbers lines and their thumbnails, never one twice in this process. */
  private serials = 0;
  /**
   * In every thumbnail's name with its number: a restarted preview numbers from 1 again, and a browser that cached the
   * last run's picture under the same URL would show it for another line.
   */
  private readonly run = randomBytes(4).toString('hex');
  /** Thumbnails encoded, for iev_preview_jpeg_encoded_total. */
  encoded = 0;

  constructor(
    sources: PreviewSources,
    private readonly encodingFailed: (error: unknown) => void,
    private readonly perSource = RECENT_READS_PER_SOURCE,
  ) {
    sources.onDetections((detections) => this.take(detections));
    sources.onPaired((detections, frame) => this.picture(detections, frame));
    sources.onForget((sourceId) => this.sources.delete(sourceId));
  }

  /** The source's lines, the one that appeared last first; `thumbnailBase`: the URL its thumbnails are under. */
  list(sourceId: string, thumbnailBase: string, now = Date.now()): RecentRead[] {
    const lines = [...(this.sources.get(sourceId)?.values() ?? [])].sort((a, b) => b.firstSeenMs - a.firstSeenMs || b.serial - a.serial);
    return lines.map(({ runId, lineId, best, latest, firstSeenMs, lastSeenMs, thumbnail }) => ({
      runId: runId ?? null,
      lineId,
      best,
      ...(latest.text !== best.text && { latest }),
      ...(runId !== this.currentRun && { earlierRun: true as const }),
      firstSeenMs,
      lastSeenMs,
      ageMs: Math.max(0, Math.round(now - lastSeenMs)),
      thumbnail: thumbnail ? { url: `${thumbnailBase}/${this.thumbnailName(thumbnail)}`, width: thumbnail.width, height: thumbnail.height, textScore: thumbnail.textScore } : null,
    }));
  }

  /** The thumbnail a URL of list() names; undefined once its line is gone or read better. */
  thumbnail(sourceId: string, name: string): Promise<Buffer> | undefined {
    for (const { thumbnail } of this.sources.get(sourceId)?.values() ?? []) {
      if (thumbnail && this.thumbnailName(thumbnail) === name) return thumbnail.jpeg;
    }
    return undefined;
  }

  private thumbnailName({ version }: Thumbnail): string {
    return `${this.run}-${version}.jpg`;
  }

  /** The detections' lines read: new ones listed, known ones' texts and times brought up to date. */
  private take(detections: Detections): void {
    const { sourceId, captureTimeMs } = detections.frame;
    // A restart is seen with the new run's first detections, before it reads anything.
    this.currentRun = detections.runId;
    let lines = this.sources.get(sourceId);
    for (const { text, textScore, lineId } of detections.boxes) {
      if (lineId === undefined || text === undefined || textScore === undefined) continue;
      if (!lines) this.sources.set(sourceId, (lines = new Map()));
      const key = lineKey(detections.runId, lineId);
      const read = { text, textScore };
      let line = lines.get(key);
      if (line) {
        lines.delete(key); // put back last: the map holds its lines least recently seen first
        line.latest = read;
        if (textScore > line.best.textScore) line.best = read;
        line.lastSeenMs = Math.max(line.lastSeenMs, captureTimeMs);
        line.firstSeenMs = Math.min(line.firstSeenMs, captureTimeMs);
      } else {
        line = { serial: ++this.serials, runId: detections.runId, lineId, best: read, latest: read, firstSeenMs: captureTimeMs, lastSeenMs: captureTimeMs };
      }
      lines.set(key, line);
    }
    while (lines && lines.size > this.perSource) lines.delete(lines.keys().next().value as string);
  }

  /** The frame the detections were found in: each listed line read there better than its picture is cut out again. */
  private picture(detections: Detections, frame: KeptFrame): void {
    const lines = this.sources.get(detections.frame.sourceId);
    for (const { points, textScore, lineId } of detections.boxes) {
      const line = lineId === undefined ? undefined : lines?.get(lineKey(detections.runId, lineId));
      if (line && textScore !== undefined && (!line.thumbnail || textScore > line.thumbnail.textScore)) this.cropAndEncode(line, textScore, points, frame);
    }
  }

  private cropAndEncode(line: TrackedLine, textScore: number, points: Detections['boxes'][number]['points'], frame: KeptFrame): void {
    const rect = lineRect(points, frame.image.width, frame.image.height);
    if (!rect) return;
    const release = frame.hold();
    // In a promise: a throw would otherwise reach the detections' handler, and keep the frame held.
    const jpeg = Promise.resolve(frame.image)
      .then((image) => encodeLineThumbnail(image, rect))
      .finally(release);
    const thumbnail = { version: ++this.serials, textScore, ...thumbnailSize(rect), jpeg };
    line.thumbnail = thumbnail;
    jpeg.then(
      () => this.encoded++,
      (error: unknown) => {
        // Tried again with the line's next read.
        if (line.thumbnail === thumbnail) line.thumbnail = undefined;
        this.encodingFailed(error);
      },
    );
  }
}

const lineKey = (runId: string | undefined, lineId: number) => `${runId ?? ''}/${lineId}`;
