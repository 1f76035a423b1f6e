import type { DetectedBox, Detections } from '@iev/frame-protocol';
import { Arrivals } from '@iev/service-runtime';
import type { Logger } from 'pino';
import { MissingLineIds } from './missing-line-ids';
import { matchesText } from './text-match';

export interface TextEventSettings {
  /**
   * A line has gone once inference's tracker has stopped following it (TRACKER_FORGETS_AFTER_FRAMES of its source's
   * frames without it) and its source's frames have gone on this long more (by their capture times), or, with no
   * frame from the source at all (a camera stopped, inference gone), once telemetry has waited this long for one (and
   * three of the source's own intervals, where it is slower).
   */
  goneAfterMs: number;
  /**
   * A line's new text is sent as text-changed once it has been read that way this many times in a row
   * (TELEMETRY_TEXT_CONFIRM_READS; 1: at its first read): a misread that the next read takes back (`BUS 42 (` for a
   * steady `BUS 42`) sends nothing. Its first text is sent at once.
   */
  confirmReads: number;
  /** Only lines whose text matches make events (TELEMETRY_TEXT_MATCH); a change to a text that does not is not sent. */
  textMatch?: RegExp;
}

/** What every event says of its line: where and when it was seen, and its text. */
interface LineEvent {
  sourceId: string;
  /** Inference's run: line ids are unique within it (Detections.runId). Absent from an inference older than the field. */
  runId?: string;
  lineId: number;
  modelId: string;
  /** The text sent for the line: its new one, or for text-gone its last. */
  text: string;
  textScore: number;
  points: DetectedBox['points'];
  /** The frame the event is about (for text-gone, the last the line was seen in). */
  sequence: number;
  captureTimeMs: number;
}

export interface TextAppeared extends LineEvent {
  type: 'text-appeared';
}

export interface TextChanged extends LineEvent {
  type: 'text-changed';
  previousText: string;
}

export interface TextGone extends LineEvent {
  type: 'text-gone';
  firstSeenCaptureTimeMs: number;
  lastSeenCaptureTimeMs: number;
  /** From the first frame the line was seen in (read or not yet) to the last. */
  durationMs: number;
}

export type TextEvent = TextAppeared | TextChanged | TextGone;

export const TEXT_EVENT_TYPES = ['text-appeared', 'text-changed', 'text-gone'] as const satisfies ReadonlyArray<TextEvent['type']>;

const withoutSpaces = (text: string) => text.replace(/\s+/g, '');

/**
 * Inference's line tracker stops following a line after this many frames without it, then keeps it 2 s (reviveMs)
 * for a box that comes back under its id (libs/text-recognition DEFAULT_LINE_TRACKER_OPTIONS). Timed from there, a
 * line goneAfterMs (2 s by default) later can no longer come back: timed from its last frame, a line missed three
 * frames at 4 fps went and then appeared again under the same id.
 */
export const TRACKER_FORGETS_AFTER_FRAMES = 3;

interface FollowedLine {
  firstSeenMs: number;
  /** On the source's frame clock (SourceLines.framesMs): first and last seen. */
  firstSeenAtFramesMs: number;
  lastSeenAtFramesMs: number;
  /** The source's frames since it was last seen, and when the tracker stopped following it (TRACKER_FORGETS_AFTER_FRAMES). */
  missedFrames: number;
  lostAtFramesMs?: number;
  /** Where and when it was last seen, text or not. */
  last: Omit<LineEvent, 'text' | 'textScore'>;
  /** The text and score last sent for it: none before its text-appeared. */
  sent?: { text: string; textScore: number };
  /**
   * Its last read: inference carries a line's text and score unchanged between reads, so a box with another text or
   * score is a read.
   */
  lastRead?: { text: string; textScore: number };
  /** A text other than the one sent, and how many reads in a row gave it (confirmReads). */
  pending?: { text: string; reads: number };
}

interface SourceLines {
  runId?: string;
  /**
   * When its detections come (the events' monotonic clock): with none for goneAfterMs, nor for three of its own
   * intervals where it is slower (a camera at CAPTURE_FPS=0.2 between two frames), its lines have gone.
   */
  arrivals: Arrivals;
  /**
   * Time its frames have gone on, by their capture times, capture's clock set back counted as no time: NTP stepping
   * it back an hour kept the lines that had left in view that hour, and a line's time in view went negative.
   */
  framesMs: number;
  lastCaptureTimeMs?: number;
  lines: Map<number, FollowedLine>;
}

/**
 * Turns a source's detections into events about its lines, by the ids inference's line tracker gives them
 * (`lineId`): `text-appeared` once a line has a text, `text-changed` when its text differs from the one last sent
 * (a score or spaces alone do not: a re-read of a steady "BUS 42" may give "BUS42", the reader merging its words),
 * `text-gone` once the tracker has stopped following it and goneAfterMs more of its frames have passed; a new text
 * once confirmReads reads in a row gave it. Boxes without a line id (detection only, a tracker off, an older inference)
 * make none. A restarted inference numbers its lines afresh: at its first detections (another runId) the last run's
 * lines go, and its own appear as new, never as a change. A line id said gone that comes back (its box left out while
 * its reads were below a minTextScore raised live, then read above it; its camera's frames stopped a while, inference
 * keeping its lines a minute) is a line anew: it appears again.
 */
export class TextEvents {
  private readonly sources = new Map<string, SourceLines>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly settings: TextEventSettings,
    private readonly emit: (event: TextEvent) => void,
    /** Monotonic: NTP stepping the wall clock back would keep a stopped camera's lines as long as the step. */
    private readonly now: () => number = () => performance.now(),
    /** Told of each source whose boxes carry no line id, which makes no events. */
    private readonly missingLineIds?: MissingLineIds,
  ) {
    // A quarter of the wait: a silent source's lines go at most a quarter late.
    this.timer = setInterval(() => this.expireSilentSources(), Math.max(1, settings.goneAfterMs / 4));
    this.timer.unref();
  }

  add(detections: Detections): void {
    const { sourceId, sequence, captureTimeMs } = detections.frame;
    let source = this.sources.get(sourceId);
    if (source && source.runId !== detections.runId) {
      this.goAll(source);
      // The same camera: its pace stays.
      this.sources.set(sourceId, (source = { runId: detections.runId, arrivals: source.arrivals, framesMs: 0, lines: new Map() }));
    }
    if (!source) this.sources.set(sourceId, (source = { runId: detections.runId, arrivals: new Arrivals(), framesMs: 0, lines: new Map() }));
    source.arrivals.mark(this.now());
    this.missingLineIds?.saw(detections);
    source.framesMs += Math.max(0, captureTimeMs - (source.lastCaptureTimeMs ?? captureTimeMs));
    source.lastCaptureTimeMs = captureTimeMs;
    const seen = new Set<number>();
    for (const box of detections.boxes) {
      if (box.lineId === undefined) continue;
      seen.add(box.lineId);
      const last = { sourceId, ...(detections.runId !== undefined && { runId: detections.runId }), lineId: box.lineId, modelId: detections.modelId, points: box.points, sequence, captureTimeMs };
      let line = source.lines.get(box.lineId);
      if (line) Object.assign(line, { last, lastSeenAtFramesMs: source.framesMs, missedFrames: 0, lostAtFramesMs: undefined });
      else source.lines.set(box.lineId, (line = { firstSeenMs: captureTimeMs, firstSeenAtFramesMs: source.framesMs, lastSeenAtFramesMs: source.framesMs, missedFrames: 0, last }));
      if (box.text !== undefined && box.textScore !== undefined) this.read(line, box.text, box.textScore);
    }
    for (const [lineId, line] of source.lines) {
      if (seen.has(lineId)) continue;
      if (++line.missedFrames === TRACKER_FORGETS_AFTER_FRAMES) line.lostAtFramesMs = source.framesMs;
      if (line.lostAtFramesMs !== undefined && source.framesMs - line.lostAtFramesMs > this.settings.goneAfterMs) this.go(source, lineId, line);
    }
  }

  /**
   * A source gone for good (TELEMETRY_FORGET_SOURCE_MS, or a camera inference removed): its lines still in view go
   * now (a removed camera's last frame may be a moment ago), and its pace with them.
   */
  forget(sourceId: string): void {
    const source = this.sources.get(sourceId);
    if (source) this.goAll(source);
    this.sources.delete(sourceId);
    this.missingLineIds?.forget(sourceId);
  }

  /** Stops the timer; lines still in view are not said to have gone (they have not). */
  close(): void {
    clearInterval(this.timer);
  }

  private read(line: FollowedLine, text: string, textScore: number): void {
    if (line.lastRead?.text === text && line.lastRead.textScore === textScore) return;
    line.lastRead = { text, textScore };
    // Any read but one more of the pending text breaks its run: one not sent, or one giving the text sent.
    const pending = line.pending;
    line.pending = undefined;
    if (text === '' || !matchesText(this.settings.textMatch, text)) return;
    const previous = line.sent;
    if (previous && withoutSpaces(previous.text) === withoutSpaces(text)) return;
    if (previous && !this.confirmed(line, pending, text)) return;
    line.sent = { text, textScore };
    if (!previous) this.emit({ type: 'text-appeared', ...line.last, text, textScore });
    else this.emit({ type: 'text-changed', ...line.last, text, textScore, previousText: previous.text });
  }

  /** Whether this read of `text`, not the one sent, makes confirmReads in a row (spaces aside, as a change is judged). */
  private confirmed(line: FollowedLine, pending: FollowedLine['pending'], text: string): boolean {
    const reads = pending && withoutSpaces(pending.text) === withoutSpaces(text) ? pending.reads + 1 : 1;
    if (reads >= this.settings.confirmReads) return true;
    line.pending = { text, reads };
    return false;
  }

  private go(source: SourceLines, lineId: number, line: FollowedLine): void {
    source.lines.delete(lineId);
    if (!line.sent) return;
    const durationMs = line.lastSeenAtFramesMs - line.firstSeenAtFramesMs;
    this.emit({ type: 'text-gone', ...line.last, ...line.sent, firstSeenCaptureTimeMs: line.firstSeenMs, lastSeenCaptureTimeMs: line.last.captureTimeMs, durationMs });
  }

  private goAll(source: SourceLines): void {
    for (const [lineId, line] of source.lines) this.go(source, lineId, line);
  }

  private expireSilentSources(): void {
    const nowMs = this.now();
    for (const source of this.sources.values()) {
      // The source stays, its pace with it: a slow camera's lines go once, in its first gap, not at each frame.
      if (source.arrivals.stalled(nowMs, this.settings.goneAfterMs)) this.goAll(source);
    }
  }
}

/** What a sink sends of the detections: with `events`, events about the lines (TextEvents) instead of the frames. */
export interface SinkContent {
  /** TELEMETRY_TEXT_MATCH: only lines whose text matches are sent, or make events. */
  textMatch?: RegExp;
  /** TELEMETRY_EVENTS=on, with TELEMETRY_TEXT_GONE_MS and TELEMETRY_TEXT_CONFIRM_READS. */
  events?: Omit<TextEventSettings, 'textMatch'> & TextEventWatchers;
}

/** Who hears of the events besides their sink. */
export interface TextEventWatchers {
  /** Each event as the sink sends it (telemetry's metrics count them). */
  sent?: (event: TextEvent) => void;
  /** Warned of a source whose boxes carry no line id, and so makes no events (MissingLineIds). */
  logger?: Pick<Logger, 'warn'>;
}

/** The sink's events, where it sends events: each goes to `send`, then to the watchers. */
export function textEventsFor({ textMatch, events }: SinkContent, send: (event: TextEvent) => void): TextEvents | undefined {
  if (!events) return undefined;
  const { sent, logger, ...settings } = events;
  const sendAndTell = (event: TextEvent) => {
    send(event);
    sent?.(event);
  };
  return new TextEvents({ ...settings, textMatch }, sendAndTell, undefined, logger && new MissingLineIds(logger));
}
