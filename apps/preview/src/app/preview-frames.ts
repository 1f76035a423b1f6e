import { setTimeout as sleep } from 'node:timers/promises';
import { frameCodec, FRAMES_TOPIC, type Frame } from '@iev/frame-protocol';
import type { PreviewSources } from '@iev/preview-server';
import { releaseReceived, ServerZmqFanIn, type ServerZmqFanInOptions, type ZmqContext } from '@iev/zmq-transport';

/** A source not seen on a link for this long no longer counts among the link's sources. */
const SOURCE_SEEN_MS = 5000;

/**
 * The sources each link has carried lately: a link per capture carries one, inference offering the cameras it decodes
 * (CAPTURE_SOURCES) carries them all, in turn (FairFrameOffer).
 */
export class LinkSources {
  private readonly seen = new Map<string, Map<string, number>>();

  /** Notes a frame of `sourceId` on `link`; returns how many sources the link carried in the last SOURCE_SEEN_MS. */
  saw(link: string, sourceId: string, now = performance.now()): number {
    let sources = this.seen.get(link);
    if (!sources) this.seen.set(link, (sources = new Map()));
    sources.set(sourceId, now);
    for (const [id, seenAt] of sources) if (now - seenAt > SOURCE_SEEN_MS) sources.delete(id);
    return sources.size;
  }
}

/** Frames a source may have kept in a row after a pause: its pace averaged, not each gap held to an interval. */
const PACING_BURST = 2;

/**
 * Keeps each source's frames to one an interval on average. A link that carries several sources is asked as often as
 * it carries them, and answers each request with whichever source has a frame: where the others have none (a slow
 * camera, or one that stopped), a fast one's frames came more often than PREVIEW_FPS. Each source earns one frame an
 * interval of capture time, up to PACING_BURST: a frame that came early after one that came late (a link asked at
 * the interval, a camera or inference whose frames come unevenly) is kept, where holding every gap to the interval
 * would drop one frame in ten or more of a source barely faster than PREVIEW_FPS.
 */
export class SourcePacing {
  private readonly sources = new Map<string, { captureTimeMs: number; earned: number }>();

  /** Whether this frame is kept. By capture time, not arrival: a frame that waited on the link keeps its place. */
  keeps({ sourceId, captureTimeMs }: Pick<Frame, 'sourceId' | 'captureTimeMs'>, intervalMs: number): boolean {
    const last = this.sources.get(sourceId);
    // The first frame, or one captured before the last (the source's clock set back), starts over.
    const earned =
      last && captureTimeMs >= last.captureTimeMs ? Math.min(PACING_BURST, last.earned + (captureTimeMs - last.captureTimeMs) / intervalMs) : PACING_BURST;
    const kept = earned >= 1;
    this.sources.set(sourceId, { captureTimeMs, earned: kept ? earned - 1 : earned });
    return kept;
  }

  forget(sourceId: string): void {
    this.sources.delete(sourceId);
  }
}

/**
 * The pauses before one link asks again: `meanMs` on average, each anywhere from half to one and a half of it. Asked at a
 * fixed period, a preview beside another on inference's link is answered, each time, with the newest frame the
 * other was sent (DemandLedger), which the cameras' turns fix at the same phase of their round: one period two
 * thirds of the round (a preview that has yet to see the third camera paces for two) showed it none for as long as
 * both ran. Asked at random phases, it is shown every camera in turn. Each ask is moved off a fixed period by up to a
 * quarter of it, and each pause makes up for the move before: pauses drawn alone wandered off the period, their
 * capture times' gaps shorter than SourcePacing's interval for long enough that it dropped one frame in ~20 sent.
 */
export class AskPauses {
  /** How far the last ask was moved off the period, in periods. */
  private moved = 0;

  next(meanMs: number): number {
    const moved = (Math.random() - 0.5) / 2;
    const pause = meanMs * (1 + moved - this.moved);
    this.moved = moved;
    return pause;
  }
}

/**
 * One more consumer of each capture's frames, at its own pace: the handler resolves `intervalMs()` after it started
 * on average (divided among the sources the link carries; AskPauses), and that capture then sends the newest frame
 * inference took (frames on demand, following: each frame has detections of its own and none is decoded for the
 * preview alone; with no inference there, the newest). A source's frames beyond one an interval are dropped before
 * they are copied (SourcePacing). So every source is shown at up to PREVIEW_FPS whatever the others do, a
 * link per capture or several cameras on inference's one, and a slow camera's frame is taken within a fraction of
 * the interval.
 */
export class PreviewFrames extends ServerZmqFanIn {
  /** Cuts the handlers' waits short on close, which lets a running handler finish: 10 s at PREVIEW_FPS=0.1, Docker's whole stop timeout. */
  private readonly closing = new AbortController();
  private readonly linkSources = new LinkSources();
  private readonly pacing = new SourcePacing();
  private readonly pauses = new Map<string, AskPauses>();

  constructor(sources: PreviewSources, intervalMs: () => number, options: Pick<ServerZmqFanInOptions, 'endpoints' | 'curve'>) {
    super({ ...options, codecs: { [FRAMES_TOPIC]: frameCodec }, follow: true });
    sources.onForget((sourceId) => this.pacing.forget(sourceId));
    this.addHandler(
      FRAMES_TOPIC,
      async (frame: Frame, context: ZmqContext) => {
        const started = performance.now();
        const link = context.getEndpoint();
        const carried = this.linkSources.saw(link, frame.sourceId, started);
        // A camera removed (announced no more) is not paced: its pacing would outlive it.
        if (sources.accepts(frame.sourceId) && this.pacing.keeps(frame, intervalMs())) sources.addFrame(frame);
        releaseReceived(frame.pixels); // kept as a copy, if at all: see releaseReceived
        // Rejects only when aborted: closing, the frame is kept all the same.
        // Not below 0: a frame that took longer than the interval (a busy machine) is followed by the next at once.
        await sleep(Math.max(0, this.pausesOf(link).next(intervalMs() / carried) - (performance.now() - started)), undefined, { signal: this.closing.signal }).catch(() => undefined);
      },
      true,
    );
  }

  private pausesOf(link: string): AskPauses {
    let pauses = this.pauses.get(link);
    if (!pauses) this.pauses.set(link, (pauses = new AskPauses()));
    return pauses;
  }

  override async close(): Promise<void> {
    this.closing.abort();
    await super.close();
  }
}
