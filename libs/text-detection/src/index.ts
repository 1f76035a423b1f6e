export * from './lib/types';
export * from './lib/preprocess';
export * from './lib/presets';
export * from './lib/postprocess/db-postprocess';
export * from './lib/postprocess/frame-postprocessor';
export * from './lib/evaluation/icdar-detection';
export { convexPolygonIoU, pairByIoU, type PointLike, type Quad, type QuadPair } from './lib/geometry/polygon-iou';
export * from './lib/evaluation/text-frame-set';
export { I420Converter, type I420View } from './lib/color/i420-converter';
