export * from './lib/desired-properties';
export * from './lib/edge-environment';
export * from './lib/edge-failure';
export * from './lib/edge-failure-log';
export * from './lib/edge-module';
export * from './lib/outbound-queue';
export * from './lib/product-version';
export * from './lib/twin-keys';
