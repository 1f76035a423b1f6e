import type { InferenceBackend } from '@iev/inference-backends';

export interface InferenceHealth {
  healthy: boolean;
  /** 'degraded' while detection streams or cameras decoded here are down, or a frame is held too long; absent while all is well. */
  status?: 'degraded';
  streamsDown?: number;
  /** Cameras of CAPTURE_SOURCES not delivering frames: not yet, or retrying. */
  sourcesDown?: string[];
  /** How long a frame has been in the model, far longer than a run takes (SourceActivity.heldTooLongMs): a stream may be hung. */
  frameHeldForMs?: number;
}

export interface InferenceTroubles {
  /** Cameras decoded here that deliver no frames. */
  sourcesDown?: readonly string[];
  /** SourceActivity.heldTooLongMs(): undefined while no frame is held too long. */
  frameHeldForMs?: number;
}

/**
 * Inference's part of /health: degraded, and so unhealthy, while any detection stream is down (its worker restarting
 * after a crash), any camera it decodes itself is (`sourcesDown`: not streaming yet, or retrying, as a capture
 * module is unhealthy for its one), though the rest keep detecting, or a frame has been in the model far longer than
 * a run takes (`frameHeldForMs`): a stream hung without crashing (a native call that never returns) restarts no worker
 * and makes no camera stale, as its frame keeps its camera unasked.
 */
export function inferenceHealth(backend: Pick<InferenceBackend, 'streamsDown'>, { sourcesDown = [], frameHeldForMs }: InferenceTroubles = {}): InferenceHealth {
  const streamsDown = backend.streamsDown ?? 0;
  if (streamsDown === 0 && sourcesDown.length === 0 && frameHeldForMs === undefined) return { healthy: true };
  return {
    healthy: false,
    status: 'degraded',
    ...(streamsDown > 0 && { streamsDown }),
    ...(sourcesDown.length > 0 && { sourcesDown: [...sourcesDown] }),
    ...(frameHeldForMs !== undefined && { frameHeldForMs }),
  };
}
