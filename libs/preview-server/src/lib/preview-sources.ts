import { AnnouncedCameras, PixelBufferPool, type DetectedBox, type Detections, type Frame, type RegionsAnnouncement, type SourcesAnnouncement } from '@iev/frame-protocol';
import { Arrivals, RateMeter, SequenceGaps } from '@iev/service-runtime';
import type { ImageView } from '@iev/text-detection';
import { AnnouncedRegions, type RegionOutline } from './announced-regions';
import { KeptFrame } from './kept-frames';

/** Frames kept per source, waiting for their detections: 1.6 s at 5 fps, more than inference's usual latency. */
const KEPT_FRAMES = 8;
/** Detections remembered per source by sequence, for frames that arrive after them (rare: capture sends the frame first). */
const KEPT_DETECTIONS = 32;
/**
 * A source not among the expected ones that sent neither a frame nor detections for this long is forgotten, frames and
 * all: a camera removed or renamed leaves the page and the preview's memory instead of staying for good.
 */
export const FORGET_SILENT_SOURCE_MS = 5 * 60_000;
/** A source is stalled once nothing came for this long, or for three of its own intervals where it is slower (Arrivals). */
const STALL_AFTER_MS = 5000;
/**
 * Newest boxes are drawn on a frame they were not found in only if captured at most this long before it: with
 * inference stopped, boxes of a minute ago would otherwise sit on the live picture for good. Above any inference
 * latency a small CPU has at the `seed` preset.
 */
const UNPAIRED_BOXES_MAX_AGE_MS = 10_000;

/** What the page shows of one source. */
export interface SourceSummary {
  sourceId: string;
  /** No frame of this source has arrived yet. */
  waiting: boolean;
  width: number;
  height: number;
  /** The newest frame the preview received. */
  sequence: number;
  /** Frames a second reaching the preview (its own rate, at most PREVIEW_FPS). */
  previewFps: number;
  /** Detections a second from inference. */
  detectionFps: number;
  /** Frames inference skipped, from the gaps in the sequences of its detections. */
  framesSkipped: number;
  /** Capture time to detections published, of the newest detections (ms). */
  latencyMs: number | null;
  /** Boxes in the newest detections. */
  boxes: number;
  /**
   * The camera's ignore regions inference announced, in pixels of its newest frame (or detections), and the boxes the
   * newest detections left out in them.
   */
  regions: RegionOutline[];
  ignored: number;
  /** Since the newest frame reached the preview, and since the newest detections did (ms); null before the first. */
  frameAgeMs: number | null;
  detectionsAgeMs: number | null;
  /**
   * No frame, or no detections, for STALL_AFTER_MS or three of the source's own intervals, whichever is longer: a camera
   * that is down, or an inference that is, while the page still shows what came last.
   */
  framesStalled: boolean;
  detectionsStalled: boolean;
}

/** What changed a source's picture: a frame or detections arrived, or its ignore regions changed. */
export type PictureChange = 'frame' | 'detections' | 'regions';

/** The picture to draw: a frame and the boxes drawn on it. */
export interface SourcePicture {
  sourceId: string;
  /** The same for the same picture (frame, boxes and regions), another when any changes: what a viewer has already seen. */
  key: string;
  image: ImageView;
  sequence: number;
  boxes: readonly DetectedBox[];
  /** The boxes are this frame's own detections (true), or the newest ones, of a frame the preview never got (false). */
  paired: boolean;
  /** The camera's ignore regions in force, in the picture's pixels: shaded wherever the picture is shown. */
  regions: RegionOutline[];
  /** Changes whenever the regions do (the camera's regions version, the picture's size; a camera added again gets a new one): what a viewer has already been sent. */
  regionsKey: string;
  /** The camera's regions version: another once they change, not with the picture's size (regionsKey does). */
  regionsVersion: number;
  /**
   * The image's pixels are reused once the frame is no longer kept: whoever reads them later than the call that
   * returned the picture (an encoding) holds them until it calls the function returned.
   */
  hold(): () => void;
}

class SourceState {
  /**
   * Which of the announcements' changes its regions are as of (PreviewSources.regionsChanges): another once they change,
   * never one of other regions, a camera forgotten and back included. Keys its pictures without their outlines.
   */
  constructor(public regionsVersion: number) {}

  readonly frames: KeptFrame[] = [];
  readonly detections = new Map<number, Detections>();
  latest?: Detections;
  readonly frameRate = new RateMeter();
  readonly detectionRate = new RateMeter();
  readonly gaps = new SequenceGaps();
  framesSkipped = 0;
  /** When a frame or detections of it last arrived (performance.now()). */
  heardAt = performance.now();
  readonly frameArrivals = new Arrivals();
  readonly detectionsArrivals = new Arrivals();
}

/**
 * The newest frames and detections of every source, paired by (sourceId, sequence, capture time). The preview and
 * inference take frames from capture each at its own pace, so only some of the preview's frames have detections of
 * their own: the picture is the newest kept frame that has them, so boxes sit exactly on what they found; until one
 * has (or when none of the kept frames does), the newest frame with the newest boxes, which lag it by inference's
 * latency.
 */
export class PreviewSources {
  private readonly sources = new Map<string, SourceState>();
  private readonly expected: ReadonlySet<string>;
  private readonly listeners: Array<(sourceId: string, arrived: PictureChange) => void> = [];
  private readonly forgetListeners: Array<(sourceId: string) => void> = [];
  private readonly detectionsListeners: Array<(detections: Detections) => void> = [];
  private readonly pairedListeners: Array<(detections: Detections, frame: KeptFrame) => void> = [];
  private readonly buffers = new PixelBufferPool();
  /** The cameras the module that decodes them announces (inference with CAPTURE_SOURCES). */
  private readonly announced = new AnnouncedCameras();
  /** The regions replaced so far (each announcement taken, and their lapse): a camera's regions version is one of these counts. */
  private regionsChanges = 0;
  private readonly regions = new AnnouncedRegions((changedFor) => {
    this.regionsChanges++;
    for (const [sourceId, state] of this.sources)
      if (changedFor(sourceId)) {
        state.regionsVersion = this.regionsChanges;
        this.changed(sourceId, 'regions');
      }
  });

  /** `expected`: the sources shown as waiting until their first frame (others appear with theirs), always listed. */
  constructor(expected: readonly string[] = []) {
    this.expected = new Set(expected);
    for (const sourceId of expected) this.sources.set(sourceId, this.newState());
  }

  /**
   * Keeps a copy of the frame (the one received goes back to the transport once copied: releaseReceived), in RGB:
   * turned once here, not again for each JPEG of it.
   */
  addFrame(frame: Frame): void {
    if (!this.accepts(frame.sourceId)) return;
    const state = this.state(frame.sourceId);
    const newest = state.frames.at(-1);
    if (newest && frameKey(newest) === frameKey(frame)) return; // the newest frame, sent again
    const kept = KeptFrame.copy(frame, this.buffers);
    // Any other frame whose sequence does not go forward (the same number included): capture restarted and numbers
    // from 0 again. The old run's frames go, and so do its newest boxes, which would otherwise be drawn on the new
    // run's frames until its first detections.
    if (newest && frame.sequence <= newest.sequence) {
      state.frames.splice(0).forEach((old) => old.drop());
      state.latest = undefined;
    }
    state.frames.push(kept);
    if (state.frames.length > KEPT_FRAMES) state.frames.shift()?.drop();
    state.frameRate.mark();
    state.frameArrivals.mark(performance.now());
    const own = state.detections.get(frame.sequence);
    if (own?.frame.captureTimeMs === frame.captureTimeMs) this.paired(own, kept);
    this.changed(frame.sourceId, 'frame');
  }

  addDetections(detections: Detections): void {
    const { sourceId, sequence } = detections.frame;
    if (!this.accepts(sourceId)) return;
    const state = this.state(sourceId);
    const newest = state.frames.at(-1);
    // A restarted capture's old run, still in inference when the new run's frames came: its boxes belong on no frame kept.
    if (newest && !sameRun(detections.frame, newest)) return;
    state.framesSkipped += state.gaps.observe(sourceId, sequence);
    state.latest = detections;
    state.detections.set(sequence, detections);
    if (state.detections.size > KEPT_DETECTIONS) state.detections.delete(state.detections.keys().next().value as number);
    state.detectionRate.mark();
    state.detectionsArrivals.mark(performance.now());
    for (const listener of this.detectionsListeners) listener(detections);
    const frame = state.frames.find((kept) => kept.sequence === sequence && kept.captureTimeMs === detections.frame.captureTimeMs);
    if (frame) this.paired(detections, frame);
    this.changed(sourceId, 'detections');
  }

  /** Called with each source's detections as they are taken. */
  onDetections(listener: (detections: Detections) => void): void {
    this.detectionsListeners.push(listener);
  }

  /**
   * Called once the preview holds both a frame and the detections found in it, whichever came last (the frame does
   * where inference published them before the preview asked for it): its pixels for the duration of the call, held
   * (KeptFrame.hold) to be read later.
   */
  onPaired(listener: (detections: Detections, frame: KeptFrame) => void): void {
    this.pairedListeners.push(listener);
  }

  /**
   * Called with a source's id, and what changed, each time a frame or detections of it arrive or its ignore regions
   * change (the picture may have changed).
   */
  onChange(listener: (sourceId: string, arrived: PictureChange) => void): void {
    this.listeners.push(listener);
  }

  /**
   * The cameras the module that decodes them announced: each is listed (waiting until its first frame), and one it
   * removed (its twin) is forgotten at once, and refused while the announcements keep coming: its frames and
   * detections still on their way. One a restarted module's complete list leaves out (removed while it was down) is
   * forgotten too. One PREVIEW_SOURCES names is listed again, waiting.
   */
  announce(announcement: SourcesAnnouncement, now = performance.now()): void {
    for (const sourceId of this.announced.take(announcement, now)) {
      const state = this.sources.get(sourceId);
      if (state) this.forget(sourceId, state);
    }
    for (const sourceId of announcement.sourceIds) if (!this.sources.has(sourceId)) this.sources.set(sourceId, this.newState());
  }

  /**
   * The ignore regions inference applies, every camera's: each camera's picture is shaded with them, its last one too
   * while its frames have stopped. Those they change are told to the listeners (onChange), as are those that lapse.
   */
  announceRegions(announcement: RegionsAnnouncement): void {
    this.regions.take(announcement);
  }

  /** Whether frames and detections of this source are taken: any but those of a camera its module removed. */
  accepts(sourceId: string, now = performance.now()): boolean {
    return !this.announced.removes(sourceId, now);
  }

  /** Called with a source's id when it is forgotten (forgetSilent, announce): whatever is kept for it can go too. */
  onForget(listener: (sourceId: string) => void): void {
    this.forgetListeners.push(listener);
  }

  /** Forgets the sources neither expected nor announced that were silent for FORGET_SILENT_SOURCE_MS: call it now and then. */
  forgetSilent(now = performance.now()): void {
    for (const [sourceId, state] of this.sources) {
      if (this.expected.has(sourceId) || this.announced.lists(sourceId, now) || now - state.heardAt < FORGET_SILENT_SOURCE_MS) continue;
      this.forget(sourceId, state);
    }
  }

  sourceIds(): string[] {
    return [...this.sources.keys()];
  }

  /** An expected source, or one heard from and not forgotten since. */
  has(sourceId: string): boolean {
    return this.sources.has(sourceId);
  }

  /** Undefined while no frame of the source has arrived. */
  picture(sourceId: string): SourcePicture | undefined {
    const state = this.sources.get(sourceId);
    const newest = state?.frames.at(-1);
    if (!state || !newest) return undefined;
    // In the pixels of the picture drawn, which is not the newest frame while that waits for its detections (of
    // another size once the camera is switched to one). They are part of the picture: changed, it is another. Keyed
    // by version and size, not by the outlines' JSON: kilobytes at every call near IGNORE_REGIONS' limit.
    const regionsOn = ({ width, height }: ImageView) => ({
      regions: this.regions.outlinesOf(sourceId, width, height),
      regionsKey: `regions ${state.regionsVersion} at ${width}x${height}`,
      regionsVersion: state.regionsVersion,
    });
    // Its own detections: the same sequence and capture time, as capture numbers from 0 again when it restarts.
    const own = (frame: KeptFrame) => state.detections.get(frame.sequence)?.frame.captureTimeMs === frame.captureTimeMs;
    const paired = [...state.frames].reverse().find(own);
    if (paired) {
      const boxes = state.detections.get(paired.sequence)?.boxes ?? [];
      const onPaired = regionsOn(paired.image);
      return { sourceId, key: `${frameKey(paired)} in ${onPaired.regionsKey}`, image: paired.image, sequence: paired.sequence, boxes, paired: true, ...onPaired, hold: () => paired.hold() };
    }
    const recent = state.latest && newest.captureTimeMs - state.latest.frame.captureTimeMs <= UNPAIRED_BOXES_MAX_AGE_MS ? state.latest : undefined;
    const boxesOf = recent && frameKey(recent.frame);
    const boxes = recent?.boxes ?? [];
    const onNewest = regionsOn(newest.image);
    return { sourceId, key: `${frameKey(newest)} with boxes of ${boxesOf ?? 'none'} in ${onNewest.regionsKey}`, image: newest.image, sequence: newest.sequence, boxes, paired: false, ...onNewest, hold: () => newest.hold() };
  }

  summaries(now = performance.now()): SourceSummary[] {
    return [...this.sources].map(([sourceId, state]) => {
      const newest = state.frames.at(-1);
      const latest = state.latest;
      const [width, height] = [newest?.image.width ?? latest?.width ?? 0, newest?.image.height ?? latest?.height ?? 0];
      return {
        sourceId,
        waiting: newest === undefined,
        width,
        height,
        sequence: newest?.sequence ?? -1,
        previewFps: round(state.frameRate.perSecond()),
        detectionFps: round(state.detectionRate.perSecond()),
        framesSkipped: state.framesSkipped,
        latencyMs: latest ? round(latest.publishedAtMs - latest.frame.captureTimeMs) : null,
        boxes: latest?.boxes.length ?? 0,
        regions: this.regions.outlinesOf(sourceId, width, height),
        ignored: latest?.ignored ?? 0,
        frameAgeMs: state.frameArrivals.ageMs(now),
        detectionsAgeMs: state.detectionsArrivals.ageMs(now),
        framesStalled: state.frameArrivals.stalled(now, STALL_AFTER_MS),
        detectionsStalled: state.detectionsArrivals.stalled(now, STALL_AFTER_MS),
      };
    });
  }

  /** The source's state, made on its first frame or detections; marked as heard from now. */
  private state(sourceId: string): SourceState {
    let state = this.sources.get(sourceId);
    if (!state) this.sources.set(sourceId, (state = this.newState()));
    state.heardAt = performance.now();
    return state;
  }

  /** Lets go of the source's frames and tells the listeners; one expected is listed again, waiting. */
  private forget(sourceId: string, state: SourceState): void {
    this.sources.delete(sourceId);
    state.frames.forEach((frame) => frame.drop());
    for (const listener of this.forgetListeners) listener(sourceId);
    if (this.expected.has(sourceId)) this.sources.set(sourceId, this.newState());
  }

  /** A source's state, its regions as of the last announcement (what a forgotten one was sent may have changed since). */
  private newState(): SourceState {
    return new SourceState(this.regionsChanges);
  }

  private paired(detections: Detections, frame: KeptFrame): void {
    for (const listener of this.pairedListeners) listener(detections, frame);
  }

  private changed(sourceId: string, arrived: PictureChange): void {
    for (const listener of this.listeners) listener(sourceId, arrived);
  }
}

/**
 * The frame a sequence and capture time name. A sequence alone may name two: capture numbers from 0 again when it
 * restarts, and a key that took the new run's frame for the old one's would keep it from viewers already sent that.
 */
type FrameKey = { sequence: number; captureTimeMs: number };
const frameKey = ({ sequence, captureTimeMs }: FrameKey) => `${sequence}@${captureTimeMs}`;

/**
 * Whether two frames of a source can be of one capture run: within a run a later capture has a larger sequence.
 * After a restart the old run's frames were captured earlier yet numbered higher.
 */
const sameRun = (a: FrameKey, b: FrameKey) => Math.sign(a.sequence - b.sequence) === Math.sign(a.captureTimeMs - b.captureTimeMs);

const round = (value: number) => Math.round(value * 10) / 10;
