import { regionOutlines } from '@iev/frame-annotation';
import { EVERY_CAMERA, type IgnoreRegion, type RegionsAnnouncement } from '@iev/frame-protocol';

/** As the cameras' announcements: a few repeats lost do not end them, an inference stopped leaves none shown. */
const LAPSES_AFTER_REPEATS = 3;

/** A region's outline in a picture's pixels. */
export type RegionOutline = [number, number][];

/**
 * The ignore regions inference announced (RegionsAnnouncement), each announcement replacing the last whole, as the
 * twin's replaces the start-up ones; held until a few of their repeats pass without one. Each change, a lapse
 * included, is told at once: a camera whose frames stopped shows its last picture with the regions in force now.
 */
export class AnnouncedRegions {
  private regions: Record<string, IgnoreRegion[]> = {};
  private lapse?: NodeJS.Timeout;

  /** `changed` is called after each change, with whether a camera's regions are among those it changed. */
  constructor(private readonly changed: (changedFor: (sourceId: string) => boolean) => void) {}

  take({ regions, repeatMs }: RegionsAnnouncement): void {
    clearTimeout(this.lapse);
    // Unref'd: a preview closing does not wait for its regions to lapse.
    this.lapse = setTimeout(() => this.replace({}), LAPSES_AFTER_REPEATS * repeatMs).unref();
    this.replace(regions);
  }

  /** The camera's regions (its own key, else `*`) in pixels of a picture of this size: fractions follow its size, pixels are pixels. */
  outlinesOf(sourceId: string, width: number, height: number): RegionOutline[] {
    return regionOutlines(regionsOf(this.regions, sourceId), width, height);
  }

  private replace(regions: Record<string, IgnoreRegion[]>): void {
    const before = this.regions;
    this.regions = regions;
    this.changed((sourceId) => JSON.stringify(regionsOf(before, sourceId)) !== JSON.stringify(regionsOf(regions, sourceId)));
  }
}

const regionsOf = (regions: Record<string, IgnoreRegion[]>, sourceId: string) => (Object.hasOwn(regions, sourceId) ? regions[sourceId] : (regions[EVERY_CAMERA] ?? []));
