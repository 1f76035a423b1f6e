import type { SourcesAnnouncement } from '@iev/frame-protocol';

/**
 * The announcements hold until this many of their repeats have passed without one: a lost message or two does not end
 * them, and a module that stopped announcing (stopped, or replaced by one whose cameras are capture modules) leaves
 * the preview to its sources' silence again.
 */
const LAPSES_AFTER_REPEATS = 3;

/**
 * What a module's announcements (SourcesAnnouncement) tell of the cameras it decodes: those it lists, and those it
 * removed, which are ones the same run listed and leaves out now. A source never announced (a capture module's camera
 * on another frames link, one PREVIEW_SOURCES names) is not removed by them, nor is a twin's camera a restarted module
 * has yet to add again (a new run).
 */
export class AnnouncedCameras {
  private current?: { runId: string; listed: ReadonlySet<string>; until: number };
  /** Cameras the current run listed and has left out since, until it lists them again. */
  private readonly removed = new Set<string>();

  /** Takes an announcement; returns the cameras it removes. */
  take({ runId, sourceIds, repeatMs }: SourcesAnnouncement, now: number): string[] {
    const listed = new Set(sourceIds);
    // The same run's last list, even after a lapse (its announcements lost a while): what it left out since is removed.
    const before = this.current?.runId === runId ? this.current.listed : undefined;
    if (!before) this.removed.clear();
    const removedNow = [...(before ?? [])].filter((sourceId) => !listed.has(sourceId));
    for (const sourceId of removedNow) this.removed.add(sourceId);
    for (const sourceId of listed) this.removed.delete(sourceId);
    this.current = { runId, listed, until: now + LAPSES_AFTER_REPEATS * repeatMs };
    return removedNow;
  }

  /** Whether the module's announcements still hold and list the source. */
  lists(sourceId: string, now: number): boolean {
    return this.holds(now) && (this.current?.listed.has(sourceId) ?? false);
  }

  /** Whether the source is one the module removed (its frames and detections still on their way are not taken). */
  removes(sourceId: string, now: number): boolean {
    return this.holds(now) && this.removed.has(sourceId);
  }

  private holds(now: number): boolean {
    return this.current !== undefined && now < this.current.until;
  }
}
