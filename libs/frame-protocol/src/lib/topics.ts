/** ZeroMQ topics (NestJS event patterns) between the modules. */
export const FRAMES_TOPIC = 'frames';
export const DETECTIONS_TOPIC = 'detections';
