import { MAX_DETECTIONS_PART_BYTES } from './detections-codec';
import { MessageKind } from './envelope';
import { invalidField, readArray, readObject, readRepeatMs, readRunId, readSourceId } from './fields';
import { jsonPartCodec } from './json-part';
import type { Codec, SourcesAnnouncement } from './types';

/** Far more cameras than one module decodes. */
export const MAX_ANNOUNCED_SOURCES = 1000;

/**
 * A SourcesAnnouncement as one ZeroMQ part (jsonPartCodec), on the detections socket, so within the largest part its
 * subscribers take there; unknown fields are dropped, as detections' are. `complete` came later in the same version:
 * an older preview drops it and goes on as before, and an older module's announcement, without it, reads as not complete.
 */
export const sourcesCodec: Codec<SourcesAnnouncement> = jsonPartCodec(MessageKind.Sources, 'sources', MAX_DETECTIONS_PART_BYTES, readSourcesAnnouncement);

function readSourcesAnnouncement(value: unknown): SourcesAnnouncement {
  const announcement = readObject(value, 'sources');
  const listed = readArray(announcement.sourceIds, 'sourceIds');
  if (listed.length > MAX_ANNOUNCED_SOURCES) invalidField('sourceIds', `must have at most ${MAX_ANNOUNCED_SOURCES} items, got ${listed.length}`);
  const sourceIds = listed.map((sourceId, index) => readSourceId(sourceId, `sourceIds[${index}]`));
  const twice = sourceIds.find((sourceId, index) => sourceIds.indexOf(sourceId) !== index);
  if (twice !== undefined) invalidField('sourceIds', `must name each source once, got ${JSON.stringify(twice)} twice`);
  const runId = readRunId(announcement.runId, 'runId');
  const complete = announcement.complete ?? false;
  if (typeof complete !== 'boolean') invalidField('complete', `must be a boolean, got ${typeof complete}`);
  return { runId, sourceIds, repeatMs: readRepeatMs(announcement.repeatMs, 'repeatMs'), complete };
}
