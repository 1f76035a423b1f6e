import type { PreprocessSettings } from '@iev/text-detection';

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
  | { type: 'load'; model: Uint8Array; options: object }
  | {
      type: 'run';
      input: LentSlot;
      /** Floats: the input tensor's dims, its values at the slot's start. */
      dims?: readonly number[];
      /** Frames instead: their pixels in the slot, preprocessed in the worker with these settings into one batch. */
      frames?: readonly FrameGeometry[];
      preprocessing?: PreprocessSettings;
      output?: LentSlot;
    }
  | { type: 'dispose' };

export type WorkerReply =
  | { type: 'loaded' | 'disposed' }
  /** The output is in the slot the run was lent, or (with none lent, or too small) in `data`. */
  | { type: 'result'; dims: number[]; data?: Float32Array; preprocessMs?: number }
  | { type: 'error'; message: string };
