import { pairByIoU, type ImageView } from '@iev/text-detection';
import type { ReadText } from './ctc-decoder';
import { cornerDistance, type Corners } from './homography';
import { lineSignature, readsVertically, signatureDistance, type LineSignature } from './line-signature';

export interface LineTrackerOptions {
  /** A box continues a line of the previous frame when their quads overlap at least this much (IoU). */
  matchIoU: number;
  /** Re-read a line whose box grew or shrank by more than this fraction (width or height) since it was read. */
  resizeRatio: number;
  /** Re-read a line whose look changed this much since it was read (signatureDistance). */
  changeDistance: number;
  /** Re-read every line at least this often, so an early misread does not stand for long. */
  refreshMs: number;
  /**
   * Each read that gives a line the text it already had doubles its refresh interval, up to this (a sign in view
   * all day is read about once a minute, not every refreshMs); a read that gives another text takes it back to
   * refreshMs. At or below refreshMs: every line is refreshed every refreshMs.
   */
  refreshMaxMs: number;
  /**
   * Re-read a line that changed or was resized no sooner than this after its last read: text that keeps changing
   * (a scrolling ticker, a running clock) would otherwise take the reader every time it is free, and its CPU from
   * detection.
   */
  rereadMs: number;
  /**
   * A followed line's look is compared with how it was read (lineSignature: 1,024 samples of the frame) at most this
   * often; its size every frame. Comparing every frame was most of the tracker's time at 25 fps, to notice a change
   * within 40 ms where the reader takes longer than that to get to it.
   */
  lookEveryMs: number;
  /**
   * A new line is read once it has been followed in this many frames, its first included: a box seen in one frame
   * only (a fragment of text scrolling past, a flicker of the detector) is not worth the reader's time, and its
   * text would have no box to show with. 1 reads a line in the frame it appears.
   */
  confirmFrames: number;
  /** Stop following a line not seen for this many frames in a row. */
  forgetAfterFrames: number;
  /**
   * A line no longer followed is kept this long, and a new box where it was that looks as it did when read takes
   * up its text: detection flickers (a box missed for a few frames, or split and merged again), and each comeback
   * would otherwise be read as a new line.
   */
  reviveMs: number;
}

/**
 * changeDistance measured on the demo video (24 s at 5 frames a second, pairs of frames 0.2 and 1 s apart, the
 * `default` detector's boxes): a line that stays put, compared where it was read, scored at most 0.53 over 2,359
 * pairs through the video's noise and its boxes' jitter, and one character changed in place (3 min → 2 min,
 * 1.89 → 1.94) 0.76-1.82; scaled to 480x360, at most 0.47 and at least 0.69; re-encoded at 960x720, 0.18 and 0.74.
 * Compared only where the box is now, as before, the lines that stayed scored up to 2.6, the changes as little as
 * 0.69: a box a tenth wider shifts every sample.
 */
export const DEFAULT_LINE_TRACKER_OPTIONS: LineTrackerOptions = {
  matchIoU: 0.5,
  resizeRatio: 0.15,
  changeDistance: 0.6,
  refreshMs: 5000,
  refreshMaxMs: 60_000,
  rereadMs: 1000,
  lookEveryMs: 200,
  confirmFrames: 2,
  forgetAfterFrames: 3,
  reviveMs: 2000,
};

/** Why a box is to be read rather than carry its line's text, most urgent first. */
export type ReadReason = 'new' | 'resized' | 'changed' | 'refresh';
const URGENCY: Record<ReadReason, number> = { new: 0, resized: 1, changed: 2, refresh: 3 };

interface TrackedLine {
  /** Its identity while followed and once revived (lineIds). */
  id: number;
  quad: Corners;
  /** The box and look of the last read, once a read was asked for. */
  readQuad?: Corners;
  readSignature?: LineSignature;
  readAtMs?: number;
  /** When its look was last compared with readSignature. */
  lookedAtMs?: number;
  read?: ReadText;
  /** The best score any of its reads had: a line read well once is text, whatever a blurred re-read scores. */
  bestScore?: number;
  /** Its refresh interval: refreshMs, doubled by each read that confirmed its text (refreshMaxMs). */
  refreshEveryMs?: number;
  /** A read of this line is under way: it is not asked for again meanwhile. */
  pending: boolean;
  /** Frames it was followed in. */
  seenFrames: number;
  missedFrames: number;
  /** The tracker's clock when the line first appeared, until its first read shows (then undefined). */
  awaitingTextSinceMs?: number;
  /** When it stopped being followed, while it may be revived. */
  lostAtMs?: number;
}

/** A box whose line should be read, with why. */
export interface ReadRequest {
  index: number;
  reason: ReadReason;
}

/** One frame's decision: what each box's line is known to say, and which boxes should be read. */
export interface TrackingStep {
  /** Each box's line's last read, or undefined for a line never read yet. */
  readonly texts: readonly (ReadText | undefined)[];
  /**
   * Each box's line's id: kept while the line is followed and when it is revived, never given to another line in this
   * process (every tracker's ids come from one count), so downstream can tell the same line from another with its text.
   */
  readonly lineIds: readonly number[];
  /** Each box's line's best read score so far, or undefined for a line never read yet. */
  readonly bestScores: readonly (number | undefined)[];
  /** Boxes to read, most urgent first (new lines, then resized, changed, due for a refresh). */
  readonly toRead: readonly ReadRequest[];
  /** For each line whose first read shows in this frame: time since the line first appeared (the tracker's clock). */
  readonly textAfterMs: number[];
  /**
   * Starts reading some of `toRead` (a caller with a budget takes the first few): their lines are not asked for
   * again until the returned function hands over the reads, in the same order, which may be frames later.
   */
  begin(requests: readonly ReadRequest[]): (reads: readonly ReadText[]) => void;
}

/** The last line id given, by any tracker: a source's tracker replaced (idle, a reader reloaded) gives no id again. */
let lastLineId = 0;

/**
 * Video is not a pile of unrelated images: a sign stays in view for hundreds of frames. The tracker matches
 * each frame's boxes to the lines of the frame before (one-to-one, by IoU) and carries a line's text while it
 * looks as it did when it was read, wherever the box moves. It asks for a read when a line is new (once followed
 * for `confirmFrames`), looks different (its characters changed), grew or shrank (text scrolled in or out), or is
 * due for a refresh (`refreshMs`, backing off while reads agree). Reads may finish frames later. One tracker per
 * video source.
 */
export class LineTracker {
  private lines: TrackedLine[] = [];
  /** Lines no longer followed, with a read, kept reviveMs for a box that comes back. */
  private lost: TrackedLine[] = [];
  private readonly options: LineTrackerOptions;
  /**
   * Added to the frames' clock to make the tracker's: each step back the frames' clock takes (a restarted capture, a
   * wall clock set back) is absorbed here, so time since a read keeps growing and re-reads, refreshes and forgetting go on.
   */
  private clockOffsetMs = 0;
  private lastNowMs = Number.NEGATIVE_INFINITY;

  constructor(options: Partial<LineTrackerOptions> = {}) {
    // An option given as undefined keeps its default rather than turning its rule off.
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.options = { ...DEFAULT_LINE_TRACKER_OPTIONS, ...given };
  }

  /** Lines currently followed. */
  get size(): number {
    return this.lines.length;
  }

  /** @param frameMs the frame's time; the source's clock may step back, the tracker's own does not. */
  track(image: ImageView, quads: readonly Corners[], frameMs: number): TrackingStep {
    const { matchIoU, forgetAfterFrames } = this.options;
    if (frameMs + this.clockOffsetMs < this.lastNowMs) this.clockOffsetMs = this.lastNowMs - frameMs;
    const nowMs = (this.lastNowMs = frameMs + this.clockOffsetMs);
    const matches = new Map(pairByIoU(quads, this.lines.map((line) => line.quad), matchIoU).map((pair) => [pair.a, pair.b]));
    const continued = new Set(matches.values());
    const survivors: TrackedLine[] = [];
    this.lines.forEach((line, index) => {
      if (continued.has(index) || ++line.missedFrames < forgetAfterFrames) survivors.push(line);
      else if (line.readSignature) this.lost.push(Object.assign(line, { lostAtMs: nowMs }));
    });
    // Its look is needed only to tell a change, to revive a lost line, or to keep with a read: sampled in its own
    // orientation, or in that of the read it is compared with (keyed by box and orientation).
    const signatures = new Map<number, LineSignature>();
    const signatureOf = (index: number, vertical = readsVertically(quads[index])) => {
      const key = 2 * index + (vertical ? 1 : 0);
      let known = signatures.get(key);
      if (!known) signatures.set(key, (known = lineSignature(image, quads[index], vertical)));
      return known;
    };
    // The frame through box `index`'s own quad (cached), or through another place its line may be compared in.
    const lookAtFor =
      (index: number): LookAt =>
      (place, vertical) =>
        place === quads[index] ? signatureOf(index, vertical) : lineSignature(image, place, vertical);
    const revived = this.revive(quads, matches, lookAtFor, nowMs);
    const lineOfBox = quads.map((quad, index) => {
      const matched = matches.get(index);
      const line: TrackedLine = matched !== undefined ? this.lines[matched] : (revived.get(index) ?? { id: ++lastLineId, quad, pending: false, seenFrames: 0, missedFrames: 0, awaitingTextSinceMs: nowMs });
      line.quad = quad;
      line.seenFrames++;
      line.missedFrames = 0;
      if (matched === undefined) survivors.push(line);
      return line;
    });
    this.lines = survivors;

    const toRead: ReadRequest[] = [];
    lineOfBox.forEach((line, index) => {
      if (line.pending) return;
      const reason = this.reasonToRead(line, quads[index], lookAtFor(index), nowMs);
      if (!reason) return;
      signatureOf(index); // kept with the read: now, while the frame is there
      toRead.push({ index, reason });
    });
    toRead.sort((a, b) => URGENCY[a.reason] - URGENCY[b.reason] || a.index - b.index);

    const textAfterMs: number[] = [];
    for (const line of lineOfBox) {
      if (!line.read || line.awaitingTextSinceMs === undefined) continue;
      textAfterMs.push(nowMs - line.awaitingTextSinceMs);
      line.awaitingTextSinceMs = undefined;
    }
    return {
      texts: lineOfBox.map((line) => line.read),
      lineIds: lineOfBox.map((line) => line.id),
      bestScores: lineOfBox.map((line) => line.bestScore),
      toRead,
      textAfterMs,
      begin: (requests) => {
        const reading = requests.map(({ index }) => {
          const line = lineOfBox[index];
          Object.assign(line, { pending: true, readQuad: quads[index], readSignature: signatureOf(index), readAtMs: nowMs });
          return line;
        });
        return (reads) => {
          if (reads.length !== reading.length) throw new RangeError(`expected ${reading.length} reads, got ${reads.length}`);
          reading.forEach((line, i) =>
            Object.assign(line, { read: reads[i], bestScore: Math.max(line.bestScore ?? 0, reads[i].score), pending: false, refreshEveryMs: this.refreshAfter(line, reads[i]) }),
          );
        };
      },
    };
  }

  /**
   * Lost lines taken up by boxes that continue no followed line: a box where a lost line was (IoU), of the size and
   * look it was read with. Lines lost longer than reviveMs are dropped.
   */
  private revive(quads: readonly Corners[], matches: ReadonlyMap<number, number>, lookAtFor: (index: number) => LookAt, nowMs: number): Map<number, TrackedLine> {
    const { matchIoU, reviveMs } = this.options;
    this.lost = this.lost.filter((line) => nowMs - (line.lostAtMs ?? nowMs) <= reviveMs);
    const revived = new Map<number, TrackedLine>();
    const unmatched = quads.flatMap((_, index) => (matches.has(index) ? [] : [index]));
    if (unmatched.length === 0 || this.lost.length === 0) return revived;
    for (const { a, b } of pairByIoU(unmatched.map((index) => quads[index]), this.lost.map((line) => line.quad), matchIoU)) {
      const index = unmatched[a];
      const line = this.lost[b];
      if (this.changeSinceRead(line, quads[index], lookAtFor(index))) continue;
      revived.set(index, Object.assign(line, { lostAtMs: undefined }));
    }
    this.lost = this.lost.filter((line) => line.lostAtMs !== undefined);
    return revived;
  }

  /**
   * How the box no longer looks as it did when the line was read ('new' for a line never read), if it does not;
   * without `lookAt` (the frame sampled through any quad), only its size is compared.
   */
  private changeSinceRead(line: TrackedLine, quad: Corners, lookAt?: LookAt): ReadReason | undefined {
    if (!line.readQuad || !line.readSignature) return 'new';
    const { resizeRatio } = this.options;
    const [width, height] = sideLengths(quad);
    const [readWidth, readHeight] = sideLengths(line.readQuad);
    if (Math.abs(width / readWidth - 1) > resizeRatio || Math.abs(height / readHeight - 1) > resizeRatio) return 'resized';
    return lookAt && !this.looksAsRead(line.readQuad, line.readSignature, quad, lookAt) ? 'changed' : undefined;
  }

  /**
   * Whether the line still looks as it was read in one of three places: where its box is now (a line that moves, or
   * a camera that shakes), where it was read (a sign that stays put while the detector's box jitters by a pixel, or by
   * a tenth of its width on one side, which shifts every sample of the box's own grid), and the box it was read in
   * moved by as much as the box's centre. Sampled in the orientation of the read (readsVertically).
   */
  private looksAsRead(readQuad: Corners, readSignature: LineSignature, quad: Corners, lookAt: LookAt): boolean {
    const vertical = readsVertically(readQuad);
    const [[x, y], [readX, readY]] = [centre(quad), centre(readQuad)];
    const places = [quad, readQuad, readQuad.map(([px, py]) => [px + x - readX, py + y - readY]) as unknown as Corners];
    return places.some((place) => signatureDistance(lookAt(place, vertical), readSignature) <= this.options.changeDistance);
  }

  private reasonToRead(line: TrackedLine, quad: Corners, lookAt: LookAt, nowMs: number): ReadReason | undefined {
    const { refreshMs, rereadMs, lookEveryMs, confirmFrames } = this.options;
    if (!line.readQuad || !line.readSignature || line.readAtMs === undefined) return line.seenFrames >= confirmFrames ? 'new' : undefined;
    const sinceRead = nowMs - line.readAtMs;
    let change: ReadReason | undefined;
    if (sinceRead >= rereadMs) {
      const look = nowMs - (line.lookedAtMs ?? -Infinity) >= lookEveryMs;
      if (look) line.lookedAtMs = nowMs;
      change = this.changeSinceRead(line, quad, look ? lookAt : undefined);
    }
    return change ?? (sinceRead >= (line.refreshEveryMs ?? refreshMs) ? 'refresh' : undefined);
  }

  /** The line's refresh interval after this read: doubled when it confirms the text the line had, else refreshMs. */
  private refreshAfter(line: TrackedLine, read: ReadText): number {
    const { refreshMs, refreshMaxMs } = this.options;
    const confirmed = read.score > 0 && line.read !== undefined && read.text === line.read.text;
    return confirmed ? Math.max(refreshMs, Math.min(2 * (line.refreshEveryMs ?? refreshMs), refreshMaxMs)) : refreshMs;
  }
}

/** The frame sampled through a quad (lineSignature), in the given orientation. */
type LookAt = (quad: Corners, vertical: boolean) => LineSignature;

const centre = (quad: Corners): [number, number] => [quad.reduce((sum, [x]) => sum + x, 0) / 4, quad.reduce((sum, [, y]) => sum + y, 0) / 4];

/** A quad's mean width and height (top and bottom edges, left and right edges). */
function sideLengths([p0, p1, p2, p3]: Corners): [number, number] {
  return [(cornerDistance(p0, p1) + cornerDistance(p3, p2)) / 2 || 1, (cornerDistance(p0, p3) + cornerDistance(p1, p2)) / 2 || 1];
}
