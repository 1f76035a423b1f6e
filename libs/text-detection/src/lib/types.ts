import type { DetectedBox } from '@iev/frame-protocol';

/** An 8-bit, 3-channel interleaved image (BGR order unless said otherwise). */
export interface ImageView {
  data: Uint8Array;
  width: number;
  height: number;
  /** Bytes per row. */
  stride: number;
}

/** PaddleOCR DetResizeForTest: either a fixed shape, or a side limit of a given type. */
export type DetResizeOptions =
  | { kind: 'limit'; limitSideLen: number; limitType: 'min' | 'max' | 'resize_long' }
  | { kind: 'fixed'; height: number; width: number };

export interface NormalizeOptions {
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
}

/** PaddleOCR DBPostProcess settings. */
export interface DbPostprocessOptions {
  thresh: number;
  boxThresh: number;
  maxCandidates: number;
  unclipRatio: number;
  useDilation: boolean;
  scoreMode: 'fast' | 'slow';
  minSize: number;
}

export interface DetectionPreset {
  name: string;
  /** The detection model the preset's settings were made for: a file in the workspace's models/ folder. */
  modelFile: string;
  /** Resize every frame to this size first (the original sample squashes frames to 960x960). */
  preResize?: { width: number; height: number };
  resize: DetResizeOptions;
  normalize: NormalizeOptions;
  postprocess: DbPostprocessOptions;
}

/** The model input for one image, plus what postprocessing needs to map boxes back. */
export interface PreprocessedImage {
  /** CHW float32, length 3 * height * width. May be a reused buffer: valid until the next run(). */
  tensor: Float32Array;
  /** Network input size. */
  height: number;
  width: number;
  /** The original image's size, which boxes are reported in. */
  sourceHeight: number;
  sourceWidth: number;
}

export type { DetectedBox };
