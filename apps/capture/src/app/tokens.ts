export const FRAMES_CLIENT = Symbol('FRAMES_CLIENT');
export const SOURCE_FACTORY = Symbol('SOURCE_FACTORY');
export const LOGGER = Symbol('LOGGER');
