export * from './lib/types';
export * from './lib/topics';
export { ProtocolError, type ProtocolErrorCode } from './lib/protocol-error';
export { PROTOCOL_VERSION } from './lib/envelope';
export { MAX_DIMENSION, MAX_SOURCE_ID_BYTES } from './lib/fields';
export { bytesPerPixel, isPixelFormat } from './lib/pixel-format';
export { frameCodec, MAX_MESSAGE_PART_BYTES } from './lib/frame-codec';
export { detectionsCodec, MAX_DETECTIONS_PART_BYTES } from './lib/detections-codec';
export * from './lib/clock';
