import { AllSourcesSilence, OwnSilence } from '@iev/service-runtime';
import type { Logger } from 'pino';

/** How often silence is judged: an episode is logged whether or not anyone asks /health. */
const HEALTH_CHECK_MS = 1000;

/** What makes the preview degraded, as /health says it; each undefined while all is well. */
export interface PreviewTroubles {
  /** No frame from any capture for PREVIEW_SILENCE_MS (or three of each source's own intervals). */
  framesSilentForMs?: number;
  /** No detections from inference for as long. */
  detectionsSilentForMs?: number;
}

export interface PreviewHealth extends PreviewTroubles {
  healthy: boolean;
  /** 'degraded' while no frames or no detections arrive; absent while all is well. */
  status?: 'degraded';
}

/** The preview's part of /health: degraded, and so unhealthy, while it has nothing to show (PreviewSilence). */
export function previewHealth({ framesSilentForMs, detectionsSilentForMs }: PreviewTroubles): PreviewHealth {
  if (framesSilentForMs === undefined && detectionsSilentForMs === undefined) return { healthy: true };
  return {
    healthy: false,
    status: 'degraded',
    ...(framesSilentForMs !== undefined && { framesSilentForMs }),
    ...(detectionsSilentForMs !== undefined && { detectionsSilentForMs }),
  };
}

export interface PreviewSilenceOptions {
  /** PREVIEW_SILENCE_MS; 0: never judged. */
  limitMs: number;
  /** FRAMES_CONNECT and DETECTIONS_CONNECT, named in the log lines. */
  framesConnect: readonly string[];
  detectionsConnect: string;
  logger: Pick<Logger, 'info' | 'warn'>;
}

/**
 * The preview's frames and detections judged as telemetry judges its detections: silent once none arrives from any
 * source (AllSourcesSilence). The preview takes a frame a second of each source even with no one watching, and
 * inference publishes detections for every frame it processes, boxes or none, so a quiet page is no silence. One
 * camera of several out is told by its capture and on the page (`framesStalled`), not here: the rest still show.
 * With every camera out the preview cannot tell a dead camera from a wrong FRAMES_CONNECT, and has nothing to show in
 * either case: it says so, and capture's /health says why.
 */
export class PreviewSilence {
  /** This process's own silences (stopped, a suspended VM): what waited meanwhile was not silent. */
  private readonly ownSilence = new OwnSilence(HEALTH_CHECK_MS);
  private readonly activeClock = () => performance.now() - this.ownSilence.ms;
  readonly frames: AllSourcesSilence;
  readonly detections: AllSourcesSilence;
  private readonly timer: NodeJS.Timeout;

  constructor({ limitMs, framesConnect, detectionsConnect, logger }: PreviewSilenceOptions) {
    const silence = (what: string, endpoint: string, cause: string) =>
      new AllSourcesSilence({
        limitMs,
        clock: this.activeClock,
        telling: {
          began: (silentMs) => logger.warn({ silentSeconds: Math.round(silentMs / 1000), endpoint }, `no ${what} for ${Math.round(silentMs / 1000)} s on ${endpoint}: ${cause}`),
          ended: (silentMs) => logger.info({ silentSeconds: Math.round(silentMs / 1000) }, `${what} again after about ${Math.round(silentMs / 1000)} s`),
        },
      });
    this.frames = silence('frames', framesConnect.join(','), "capture stopped, unreachable or listening elsewhere, or its camera out (capture's /health says which)");
    this.detections = silence('detections', detectionsConnect, "inference stopped, unreachable or publishing elsewhere, or no camera delivering (capture's and inference's /health say which)");
    this.timer = setInterval(() => this.troubles(), HEALTH_CHECK_MS);
    this.timer.unref();
  }

  /** What makes /health degraded now, each episode logged once as it begins and once as it ends. */
  troubles(): PreviewTroubles {
    this.ownSilence.check(performance.now());
    return { framesSilentForMs: this.frames.check(), detectionsSilentForMs: this.detections.check() };
  }

  close(): void {
    clearInterval(this.timer);
  }
}
