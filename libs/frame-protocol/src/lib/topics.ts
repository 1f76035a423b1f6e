/** ZeroMQ topics (NestJS event patterns) between the modules. */
export const FRAMES_TOPIC = 'frames';
export const DETECTIONS_TOPIC = 'detections';
/**
 * The cameras a module decodes itself, announced beside its detections (SourcesAnnouncement). Not a prefix of another
 * topic, nor another of it: SUB filters by prefix at the publisher, so telemetry, which subscribes to detections
 * alone, and an older preview never receive it.
 */
export const SOURCES_TOPIC = 'sources';
/** The ignore regions inference applies (RegionsAnnouncement), beside its detections; as SOURCES_TOPIC, no prefix of another. */
export const REGIONS_TOPIC = 'regions';
