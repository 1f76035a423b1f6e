import type { FrameBoxes, ImageDetectionSettings } from './inference-backend';
import type { InputDemand } from './model-input';

/** A slot of a SharedBufferRing as the worker sees it: its buffer only the first time, after which the worker keeps it by name. */
export interface LentSlot {
  slot: string;
  buffer?: SharedArrayBuffer;
}

/** Where one 8-bit BGR frame lies in the input slot. */
export interface FrameGeometry {
  offset: number;
  width: number;
  height: number;
  stride: number;
}

/** What the main thread asks of the ONNX Runtime worker. */
export type WorkerRequest =
  /** `demand`: the batches runs will take, which the model's input must allow. */
  | { type: 'load'; model: Uint8Array; demand: InputDemand; options: object }
  /** The model on a float tensor: its dims, its values at the input slot's start. The output comes back. */
  | { type: 'run'; input: LentSlot; dims: readonly number[]; output?: LentSlot }
  /** Text detection on frames: their pixels in the input slot, preprocessed into one batch, run, postprocessed. */
  | { type: 'detect'; input: LentSlot; frames: readonly FrameGeometry[]; settings: ImageDetectionSettings }
  | { type: 'dispose' };

export type WorkerReply =
  | { type: 'loaded' | 'disposed' }
  /** A run's output is in the slot the run was lent, or (with none lent, or too small) in `data`. */
  | { type: 'result'; dims: number[]; data?: Float32Array }
  /** A detection's model is done with its frames (the input slot is free); its `boxes` reply follows. */
  | { type: 'ran'; preprocessMs: number; inferenceMs: number }
  | { type: 'error'; message: string };

/** Sent after a detection's 'ran', outside the request-reply turns: each frame's boxes, or why there are none. */
export type BoxesReply = { type: 'boxes'; frames: FrameBoxes[] } | { type: 'boxes'; error: string };
