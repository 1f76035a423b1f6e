export * from './lib/env';
export * from './lib/logger';
export * from './lib/observability-server';
export * from './lib/run-module';
export * from './lib/backoff';
export * from './lib/microservice';
export * from './lib/rate-meter';
export * from './lib/with-timeout';
