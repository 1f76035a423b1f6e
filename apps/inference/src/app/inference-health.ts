import type { InferenceBackend } from '@iev/inference-backends';

export interface InferenceHealth {
  healthy: boolean;
  /** 'degraded' while detection streams or cameras decoded here are down, or a frame is stuck in detection or a batch in reading; absent while all is well. */
  status?: 'degraded';
  streamsDown?: number;
  /** Cameras of CAPTURE_SOURCES not delivering frames: not yet, or retrying. */
  sourcesDown?: string[];
  /** How long a frame has been in detection, far longer than frames take (InferenceMetrics.stuckInDetectionMs): a stage hung. */
  stuckInDetectionMs?: number;
  /** How long a recognition batch has been at the model, far longer than batches take (InferenceMetrics.stuckInReadingMs): a recognition model run hung. */
  stuckInReadingMs?: number;
}

/** What else than its streams makes inference degraded: as /health says it, undefined (or none) while all is well. */
export type InferenceTroubles = Pick<InferenceHealth, 'stuckInDetectionMs' | 'stuckInReadingMs'> & { sourcesDown?: readonly string[] };

/**
 * Inference's part of /health: degraded, and so unhealthy, while any detection stream is down (its worker restarting
 * after a crash), any camera it decodes itself is (`sourcesDown`: not streaming yet, or retrying, as a capture
 * module is unhealthy for its one), though the rest keep detecting, or a frame has been in detection far longer than
 * frames take (`stuckInDetectionMs`), or a recognition batch at the model far longer than batches take
 * (`stuckInReadingMs`): a stage hung without failing (a model run in a native call that never returns) restarts no
 * worker and makes no camera stale.
 */
export function inferenceHealth(backend: Pick<InferenceBackend, 'streamsDown'>, { sourcesDown = [], stuckInDetectionMs, stuckInReadingMs }: InferenceTroubles = {}): InferenceHealth {
  const streamsDown = backend.streamsDown ?? 0;
  if (streamsDown === 0 && sourcesDown.length === 0 && stuckInDetectionMs === undefined && stuckInReadingMs === undefined) return { healthy: true };
  return {
    healthy: false,
    status: 'degraded',
    ...(streamsDown > 0 && { streamsDown }),
    ...(sourcesDown.length > 0 && { sourcesDown: [...sourcesDown] }),
    ...(stuckInDetectionMs !== undefined && { stuckInDetectionMs }),
    ...(stuckInReadingMs !== undefined && { stuckInReadingMs }),
  };
}
