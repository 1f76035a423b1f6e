import { convexPolygonIoU, pairByIoU, type ImageView } from '@iev/text-detection';
import type { ReadText } from './ctc-decoder';
import type { Corners } from './homography';
import { lineSignature, signatureDistance, type LineSignature } from './line-signature';

export interface LineTrackerOptions {
  /** A box continues a line of the previous frame when their quads overlap at least this much (IoU). */
  matchIoU: number;
  /** Re-read a line whose box has drifted from where it was last read: IoU with that box below this. */
  moveIoU: number;
  /** Re-read a line whose look changed this much since it was read (signatureDistance). */
  changeDistance: number;
  /** Re-read every line at least this often, so an early misread does not stand for long. */
  refreshMs: number;
  /** Forget a line not seen for this many frames in a row. */
  forgetAfterFrames: number;
}

/**
 * changeDistance measured on lines of sharp strokes (the worst case): a box jittering by a pixel over sensor noise
 * scores up to 0.96, one character changed 1.65-2.4, another word 2.4-2.6.
 */
export const DEFAULT_LINE_TRACKER_OPTIONS: LineTrackerOptions = {
  matchIoU: 0.5,
  moveIoU: 0.8,
  changeDistance: 1.5,
  refreshMs: 2000,
  forgetAfterFrames: 3,
};

interface TrackedLine {
  quad: Corners;
  /** The box and look the text was read from. */
  readQuad: Corners;
  readSignature: LineSignature;
  readAtMs: number;
  read: ReadText;
  missedFrames: number;
}

/** Why a box of this frame is read again instead of carrying its line's text. */
export type ReadReason = 'new' | 'moved' | 'changed' | 'refresh';

/** One frame's decision: which boxes carry a known line's text, which must be read. */
export interface TrackingStep {
  /** The text carried for each box, or undefined for a box in `toRead`. */
  readonly texts: (ReadText | undefined)[];
  /** Indices of the boxes to read, with why. */
  readonly toRead: readonly { index: number; reason: ReadReason }[];
  /** Hands over the reads of `toRead`, in its order: fills `texts` and remembers them for the next frames. */
  complete(reads: readonly ReadText[]): (ReadText | undefined)[];
}

/**
 * Video is not a pile of unrelated images: a sign stays in view for hundreds of frames. The tracker matches
 * each frame's boxes to the lines of the frame before (one-to-one, by IoU), carries a line's text while its box
 * stays where it was read and looks the same, and asks for a new read when the box is new, has moved, looks
 * different (its characters changed) or was read longer than `refreshMs` ago. One tracker per video source.
 */
export class LineTracker {
  private lines: TrackedLine[] = [];
  private readonly options: LineTrackerOptions;

  constructor(options: Partial<LineTrackerOptions> = {}) {
    this.options = { ...DEFAULT_LINE_TRACKER_OPTIONS, ...options };
  }

  /** Lines currently followed. */
  get size(): number {
    return this.lines.length;
  }

  track(image: ImageView, quads: readonly Corners[], nowMs: number): TrackingStep {
    const { matchIoU, moveIoU, changeDistance, refreshMs, forgetAfterFrames } = this.options;
    const matches = new Map(pairByIoU(quads, this.lines.map((line) => line.quad), matchIoU).map((pair) => [pair.a, pair.b]));
    const texts: (ReadText | undefined)[] = new Array(quads.length).fill(undefined);
    const toRead: { index: number; reason: ReadReason }[] = [];
    const signatures = quads.map((quad) => lineSignature(image, quad));
    const continued = new Set<number>();

    quads.forEach((quad, index) => {
      const lineIndex = matches.get(index);
      if (lineIndex === undefined) return toRead.push({ index, reason: 'new' });
      const line = this.lines[lineIndex];
      continued.add(lineIndex);
      line.quad = quad;
      line.missedFrames = 0;
      const reason: ReadReason | undefined =
        convexPolygonIoU(quad, line.readQuad) < moveIoU
          ? 'moved'
          : signatureDistance(signatures[index], line.readSignature) > changeDistance
            ? 'changed'
            : nowMs - line.readAtMs >= refreshMs
              ? 'refresh'
              : undefined;
      if (reason) toRead.push({ index, reason });
      else texts[index] = line.read;
    });

    const kept = this.lines.filter((line, lineIndex) => continued.has(lineIndex) || ++line.missedFrames < forgetAfterFrames);
    const lineOfBox = new Map([...matches].map(([boxIndex, lineIndex]) => [boxIndex, this.lines[lineIndex]]));
    this.lines = kept;

    return {
      texts,
      toRead,
      complete: (reads) => {
        if (reads.length !== toRead.length) throw new RangeError(`expected ${toRead.length} reads, got ${reads.length}`);
        toRead.forEach(({ index }, i) => {
          texts[index] = reads[i];
          const update = { quad: quads[index], readQuad: quads[index], readSignature: signatures[index], readAtMs: nowMs, read: reads[i], missedFrames: 0 };
          const line = lineOfBox.get(index);
          if (line) Object.assign(line, update);
          else this.lines.push(update);
        });
        return texts;
      },
    };
  }
}
