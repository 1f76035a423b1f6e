// Drawing what the model found onto frames, and encoding them as JPEG: for the CLI's annotated files, the preview
// and snapshots. All image work is sharp's (libvips); outlines and labels are an SVG it composites.
export * from './lib/annotation';
export { annotatedImage, encodeAnnotatedJpeg } from './lib/annotate';
export * from './lib/bounded-jpeg';
export * from './lib/evaluation-annotations';
