// The live preview: frames and detections paired per source, drawn and served as a page, JPEGs and MJPEG streams.
export * from './lib/preview-sources';
export * from './lib/preview-renderer';
export * from './lib/mjpeg-streams';
export * from './lib/module-health';
export * from './lib/preview-http-server';
export * from './lib/snapshot';
export * from './lib/recent-reads';
