import { EVERY_CAMERA, type IgnoreRegion, type RegionsAnnouncement } from '@iev/frame-protocol';

/** As the cameras' announcements: a few repeats lost do not end them, an inference stopped leaves none shown. */
const LAPSES_AFTER_REPEATS = 3;

/** A region's outline in a picture's pixels. */
export type RegionOutline = [number, number][];

/**
 * The ignore regions inference announced (RegionsAnnouncement), each announcement replacing the last whole, as the
 * twin's replaces the start-up ones; held until a few of their repeats pass without one.
 */
export class AnnouncedRegions {
  private regions: Record<string, IgnoreRegion[]> = {};
  private until = -Infinity;

  take({ regions, repeatMs }: RegionsAnnouncement, now: number): void {
    this.regions = regions;
    this.until = now + LAPSES_AFTER_REPEATS * repeatMs;
  }

  /** The camera's regions (its own key, else `*`) in pixels of a picture of this size: fractions follow its size, pixels are pixels. */
  outlinesOf(sourceId: string, width: number, height: number, now: number): RegionOutline[] {
    if (now >= this.until) return [];
    const regions = Object.hasOwn(this.regions, sourceId) ? this.regions[sourceId] : (this.regions[EVERY_CAMERA] ?? []);
    return regions.map(({ unit, points }) => points.map(([x, y]) => (unit === 'fraction' ? [x * width, y * height] : [x, y])));
  }
}
