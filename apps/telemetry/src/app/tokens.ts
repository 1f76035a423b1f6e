export const SINK = Symbol('SINK');
export const LOGGER = Symbol('LOGGER');
