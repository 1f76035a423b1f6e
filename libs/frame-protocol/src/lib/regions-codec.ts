import { MessageKind } from './envelope';
import { invalidField, readArray, readFiniteNumber, readObject, readRepeatMs, readSourceId } from './fields';
import { jsonPartCodec } from './json-part';
import type { Codec, IgnoreRegion, RegionsAnnouncement } from './types';

/**
 * Inference holds its regions to 4096 bytes of compact JSON (a twin's string); written out as points with their unit
 * they take a few times that. A larger part is no announcement of them.
 */
const MAX_REGIONS_PART_BYTES = 64 * 1024;

/**
 * A RegionsAnnouncement as one ZeroMQ part (jsonPartCodec), on the detections socket; unknown fields are dropped, as
 * detections' are. Each region is read as a unit and three or more points, numbers of 0 or more: inference checked
 * them as IGNORE_REGIONS, this keeps a corrupt message from reaching a page.
 */
export const regionsCodec: Codec<RegionsAnnouncement> = jsonPartCodec(MessageKind.Regions, 'regions', MAX_REGIONS_PART_BYTES, readRegionsAnnouncement);

function readRegionsAnnouncement(value: unknown): RegionsAnnouncement {
  const announcement = readObject(value, 'regions announcement');
  const bySource = readObject(announcement.regions, 'regions');
  const regions = Object.fromEntries(
    Object.entries(bySource).map(([sourceId, list]) => {
      const path = `regions[${JSON.stringify(readSourceId(sourceId, 'regions key'))}]`;
      return [sourceId, readArray(list, path).map((region, index) => readRegion(region, `${path}[${index}]`))];
    }),
  );
  return { regions, repeatMs: readRepeatMs(announcement.repeatMs, 'repeatMs') };
}

function readRegion(value: unknown, path: string): IgnoreRegion {
  const region = readObject(value, path);
  const unit = region.unit;
  if (unit !== 'fraction' && unit !== 'pixel') invalidField(`${path}.unit`, `must be "fraction" or "pixel", got ${JSON.stringify(unit)}`);
  const points = readArray(region.points, `${path}.points`);
  if (points.length < 3) invalidField(`${path}.points`, `must have at least 3 points, got ${points.length}`);
  return {
    unit,
    points: points.map((point, index) => {
      const [x, y] = readArray(point, `${path}.points[${index}]`, 2);
      return [readFiniteNumber(x, `${path}.points[${index}][0]`, 0), readFiniteNumber(y, `${path}.points[${index}][1]`, 0)] as const;
    }),
  };
}
