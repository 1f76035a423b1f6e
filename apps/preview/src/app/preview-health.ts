import { NO_DETECTIONS_CAUSE, SilenceWatch, troublesHealth, type AllSourcesSilence, type TroublesHealth } from '@iev/service-runtime';
import type { Logger } from 'pino';

/** What makes the preview degraded, as /health says it; each undefined while all is well. */
export interface PreviewTroubles {
  /** No frame from any capture for PREVIEW_SILENCE_MS (or three of each source's own intervals). */
  framesSilentForMs?: number;
  /** No detections from inference for as long. */
  detectionsSilentForMs?: number;
}

export type PreviewHealth = TroublesHealth<PreviewTroubles>;

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
  private readonly watch: SilenceWatch;
  readonly frames: AllSourcesSilence;
  readonly detections: AllSourcesSilence;

  constructor({ limitMs, framesConnect, detectionsConnect, logger }: PreviewSilenceOptions) {
    this.watch = new SilenceWatch({ limitMs, logger });
    this.frames = this.watch.silence({
      what: 'frames',
      setting: 'framesConnect',
      endpoint: framesConnect.join(','),
      cause: "capture stopped, unreachable or listening elsewhere, or its camera out (capture's /health says which)",
    });
    this.detections = this.watch.silence({ what: 'detections', setting: 'detectionsConnect', endpoint: detectionsConnect, cause: NO_DETECTIONS_CAUSE });
  }

  /** The preview's part of /health: degraded, and so unhealthy, while it has nothing to show. */
  health(): PreviewHealth {
    this.watch.check();
    return troublesHealth<PreviewTroubles>({ framesSilentForMs: this.frames.silentForMs, detectionsSilentForMs: this.detections.silentForMs });
  }

  close(): void {
    this.watch.close();
  }
}
