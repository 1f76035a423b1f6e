export const SINK = Symbol('SINK');
