// Drawing what the model found onto frames, and encoding them as JPEG: for the CLI's annotated files, the preview
// and snapshots. All image work is sharp's (libvips); outlines and labels are an SVG it composites.
export * from './lib/annotation';
export { annotatedImage, encodeAnnotatedJpeg, encodeFrameJpeg } from './lib/annotate';
export { REGION_SHADE, regionOutlines, type ShadedRegions } from './lib/region-shade';
export { isRgbFrame, rgbFrame, type RgbFrame } from './lib/rgb-frame';
export * from './lib/bounded-jpeg';
export { limitEncodingThreads } from './lib/encoding-threads';
export { overlayPlan, LABEL_FONT_FAMILY, type OverlayPlan, type PlannedLabel, type PlannedOutline } from './lib/overlay-plan';
export * from './lib/evaluation-annotations';
