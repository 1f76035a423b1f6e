export { detResizeShape, type Size } from './det-resize-shape';
export { Preprocessor } from './preprocessor';
export { resizeBilinearU8 } from './resize-bilinear';
