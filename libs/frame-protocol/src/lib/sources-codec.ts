import { MAX_DETECTIONS_PART_BYTES } from './detections-codec';
import { MessageKind } from './envelope';
import { invalidField, readArray, readObject, readRepeatMs, readRunId, readSourceId } from './fields';
import { jsonPartCodec } from './json-part';
import type { Codec, SourcesAnnouncement } from './types';

/** Far more cameras than one module decodes. */
export const MAX_ANNOUNCED_SOURCES = 1000;
/** The removals an announcement names, newest kept (SourcesAnnouncement.removed). */
export const MAX_ANNOUNCED_REMOVALS = 64;

/**
 * A SourcesAnnouncement as one ZeroMQ part (jsonPartCodec), on the detections socket, so within the largest part its
 * subscribers take there; unknown fields are dropped, as detections' are. `complete` and `removed` came later in the
 * same version: an older preview drops them and goes on as before, and an older module's announcement, without them,
 * reads as not complete, naming no removals.
 */
export const sourcesCodec: Codec<SourcesAnnouncement> = jsonPartCodec(MessageKind.Sources, 'sources', MAX_DETECTIONS_PART_BYTES, readSourcesAnnouncement);

function readSourcesAnnouncement(value: unknown): SourcesAnnouncement {
  const announcement = readObject(value, 'sources');
  const sourceIds = readSourceIdList(announcement.sourceIds, 'sourceIds', MAX_ANNOUNCED_SOURCES);
  const removed = announcement.removed === undefined ? [] : readSourceIdList(announcement.removed, 'removed', MAX_ANNOUNCED_REMOVALS);
  const listedAndRemoved = removed.find((sourceId) => sourceIds.includes(sourceId));
  if (listedAndRemoved !== undefined) invalidField('removed', `must not name a source sourceIds lists, got ${JSON.stringify(listedAndRemoved)}`);
  const runId = readRunId(announcement.runId, 'runId');
  const complete = announcement.complete ?? false;
  if (typeof complete !== 'boolean') invalidField('complete', `must be a boolean, got ${typeof complete}`);
  return { runId, sourceIds, repeatMs: readRepeatMs(announcement.repeatMs, 'repeatMs'), complete, ...(removed.length > 0 && { removed }) };
}

/** A list of source ids, each once, at most `max` of them. */
function readSourceIdList(value: unknown, field: string, max: number): string[] {
  const listed = readArray(value, field);
  if (listed.length > max) invalidField(field, `must have at most ${max} items, got ${listed.length}`);
  const sourceIds = listed.map((sourceId, index) => readSourceId(sourceId, `${field}[${index}]`));
  const twice = sourceIds.find((sourceId, index) => sourceIds.indexOf(sourceId) !== index);
  if (twice !== undefined) invalidField(field, `must name each source once, got ${JSON.stringify(twice)} twice`);
  return sourceIds;
}
