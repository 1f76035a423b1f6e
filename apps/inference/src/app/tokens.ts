export const DETECTIONS_CLIENT = Symbol('DETECTIONS_CLIENT');
export const LOGGER = Symbol('LOGGER');
