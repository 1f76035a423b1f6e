import type { Logger } from 'pino';
import { AllSourcesSilence } from './all-sources-silence';
import { OwnSilence } from './own-silence';

/** How often silences are judged: an episode is logged whether or not anyone asks /health. */
const CHECK_EVERY_MS = 1000;

/** Why no detections arrive, as a module downstream of inference can tell it. */
export const NO_DETECTIONS_CAUSE = "inference stopped, unreachable or publishing elsewhere, or no camera delivering (capture's and inference's /health say which)";

export interface SilenceWatchOptions {
  /** Silent once nothing arrived from any source for this long (AllSourcesSilence); 0: never judged. */
  limitMs: number;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Monotonic milliseconds: performance.now(), a spec's own clock. */
  now?: () => number;
}

/**
 * A module's silences (AllSourcesSilence: its detections, its frames), judged every second on one clock that leaves
 * out the module's own silences (stopped, a suspended VM: what waited meanwhile was not silent, OwnSilence), each
 * logged once as it begins and once as it ends, in the same words in every module.
 */
export class SilenceWatch {
  private readonly now: () => number;
  private readonly ownSilence = new OwnSilence(CHECK_EVERY_MS);
  /** Monotonic, less this process's own silence: what arrivals are timed on. */
  private readonly activeClock = () => this.now() - this.ownSilence.ms;
  private readonly watched: Array<{ check(): unknown }> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: SilenceWatchOptions) {
    this.now = options.now ?? (() => performance.now());
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  /**
   * The arrivals of `what` (frames, detections) on `endpoint`, which the log line names under the setting it came
   * from (`setting`: detectionsConnect); `cause` says there what a silence may mean.
   */
  silence({ what, setting, endpoint, cause }: { what: string; setting: string; endpoint: string; cause: string }): AllSourcesSilence {
    const { limitMs, logger } = this.options;
    const silence = new AllSourcesSilence({
      limitMs,
      clock: this.activeClock,
      telling: {
        began: (silentMs) => logger.warn({ silentSeconds: Math.round(silentMs / 1000), [setting]: endpoint }, `no ${what} for ${Math.round(silentMs / 1000)} s on ${endpoint}: ${cause}`),
        ended: (silentMs) => logger.info({ silentSeconds: Math.round(silentMs / 1000) }, `${what} again after about ${Math.round(silentMs / 1000)} s`),
      },
    });
    this.watched.push(silence);
    return silence;
  }

  /** Another lasting trouble (EpisodeWatch: edgeHub away, say) judged at the same pace. */
  alsoCheck(episodes: { check(): unknown }): void {
    this.watched.push(episodes);
  }

  /** Measures the own silence, then judges each silence and trouble; read their `current` after it. */
  check(): void {
    this.ownSilence.check(this.now());
    for (const episodes of this.watched) episodes.check();
  }

  close(): void {
    clearInterval(this.timer);
  }
}
