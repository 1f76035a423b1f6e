import type { IgnoredRegions } from '@iev/detection-pipeline';

export const DETECTIONS_CLIENT = Symbol('DETECTIONS_CLIENT');

/**
 * Gives a frame's pixels back to the transport that delivered them, once nothing reads them: to ZeroMQ at once rather
 * than at V8's next full GC (releaseReceived), or to an in-process source's ring of buffers (ServerInProcessCapture).
 */
export const RELEASE_PIXELS = Symbol('RELEASE_PIXELS');
export type ReleasePixels = (pixels: Uint8Array) => void;

/** The ignore regions in force (a twin may change them live): IgnoredRegions. */
export const IGNORED_REGIONS = Symbol('IGNORED_REGIONS');
export type IgnoredRegionsInForce = () => IgnoredRegions;
