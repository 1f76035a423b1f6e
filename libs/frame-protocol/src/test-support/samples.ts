import { minStride, pixelByteLength } from '../lib/pixel-format';
import { ProtocolError } from '../lib/protocol-error';
import { PixelFormat, type Codec, type Detections, type Frame, type FrameHeader } from '../lib/types';

/** A small valid frame; `rowPadding` adds bytes after each row so stride > minStride. */
export function makeFrame(overrides: Partial<FrameHeader> = {}, rowPadding = 0): Frame {
  const header = { sourceId: 'camera0', sequence: 41, captureTimeMs: 1_732_000_000_123.25, width: 5, height: 3, pixelFormat: PixelFormat.BGR24, ...overrides };
  const stride = overrides.stride ?? minStride(header.pixelFormat, header.width) + rowPadding;
  const pixels = new Uint8Array(pixelByteLength({ ...header, stride })).map((_, index) => index % 251);
  return { ...header, stride, pixels };
}

export function makeDetections(): Detections {
  return {
    frame: { sourceId: 'camera0', sequence: 41, captureTimeMs: 1_732_000_000_123.25 },
    width: 640,
    height: 480,
    modelId: 'ch_pp_inf_dynamic@7ceb8792',
    boxes: [
      { points: [[10, 20], [110, 20], [110, 50], [10, 50]], score: 0.93 },
      { points: [[-3, 400], [700, 400], [700, 470], [-3, 470]], score: 0.51 },
    ],
    timings: { transportMs: 1.5, preprocessMs: 3.25, inferenceMs: 41.0625, postprocessMs: 2 },
    publishedAtMs: 1_732_000_000_171.5,
  };
}

/** mulberry32: a tiny seeded PRNG, so a failing fuzz case replays exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The ProtocolError a codec throws for `parts`; anything else (or no error) fails the calling test. */
export function rejectionOf<T>(codec: Codec<T>, parts: Buffer[]): ProtocolError {
  try {
    codec.decode(parts);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('decode accepted the message');
}
