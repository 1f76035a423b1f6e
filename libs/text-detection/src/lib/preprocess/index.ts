export { detResizeShape, type Size } from './det-resize-shape';
export { Preprocessor, type PreprocessSettings } from './preprocessor';
export { resizeBilinearU8 } from './resize-bilinear';
