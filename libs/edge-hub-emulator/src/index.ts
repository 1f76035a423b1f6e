export type { MethodResult } from './lib/direct-methods';
export * from './lib/edge-hub-emulator';
export * from './lib/manifest';
export { parseRoute, parseRoutes, RouteError, type Route, type RouteSink } from './lib/routes';
export type { ModuleSubscription } from './lib/topics';
export { mergePatch, type JsonObject } from './lib/twin';
