import { PixelFormat, type Detections, type Frame } from '@iev/frame-protocol';

/** Capture numbers its frames from 0 again when it restarts: `run` 1 is the next run, captured a minute later. */
const capturedAt = (sequence: number, run: number) => 1000 + run * 60_000 + sequence;

/** A 4×2 frame of source 'cam' whose every byte is `value`. */
export const frame = (sequence: number, value = sequence, run = 0): Frame => ({
  sourceId: 'cam',
  sequence,
  captureTimeMs: capturedAt(sequence, run),
  width: 4,
  height: 2,
  stride: 12,
  pixelFormat: PixelFormat.BGR24,
  pixels: new Uint8Array(24).fill(value),
});

/** Detections of frame(sequence, _, run), with `boxes` boxes, published 150 ms after its capture. */
export const detections = (sequence: number, boxes: number, run = 0): Detections => ({
  frame: { sourceId: 'cam', sequence, captureTimeMs: capturedAt(sequence, run) },
  width: 4,
  height: 2,
  modelId: 'm',
  boxes: Array.from({ length: boxes }, () => ({ points: [[0, 0], [1, 0], [1, 1], [0, 1]], score: 0.9 })),
  timings: { transportMs: 1, preprocessMs: 1, inferenceMs: 1, postprocessMs: 1 },
  publishedAtMs: capturedAt(sequence, run) + 150,
});
