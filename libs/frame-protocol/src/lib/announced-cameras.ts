import type { SourcesAnnouncement } from './types';

/**
 * The announcements hold until this many of their repeats have passed without one: a lost message or two does not end
 * them, and a module that stopped announcing (stopped, or replaced by one whose cameras are capture modules) leaves
 * its subscribers (the preview, telemetry) to its sources' silence again.
 */
const LAPSES_AFTER_REPEATS = 3;

/** Cameras listed, and until when the announcements that listed them hold. */
type Listing = { listed: ReadonlySet<string>; until: number };

/**
 * What a module's announcements (SourcesAnnouncement) tell of the cameras it decodes: those it lists, and those it
 * removed, which are ones the same run listed and leaves out now or says it removed (`removed`: before this subscriber
 * heard it list them), or, once a new run's list is complete, ones the runs before it listed and it does not (removed
 * while the module was down). A source never announced (a capture module's
 * camera on another frames link, one PREVIEW_SOURCES names) is not removed by them, nor is a twin's camera a restarted
 * module has yet to add again (a new run whose list is not complete).
 */
export class AnnouncedCameras {
  private current?: Listing & { runId: string };
  /** Cameras the current run listed and has left out since, until it lists them again. */
  private readonly removed = new Set<string>();
  /** What the runs before the current one listed, until a complete list of the current run has been compared with it. */
  private earlier?: Listing;

  /** Takes an announcement; returns the cameras it removes. */
  take({ runId, sourceIds, repeatMs, complete, removed: told = [] }: SourcesAnnouncement, now: number): string[] {
    const listed = new Set(sourceIds);
    // The same run's last list, even after a lapse (its announcements lost a while): what it left out since is removed.
    const before = this.current?.runId === runId ? this.current.listed : undefined;
    if (!before) {
      this.removed.clear();
      if (this.current) this.earlier = { listed: new Set([...(this.earlier?.listed ?? []), ...this.current.listed]), until: Math.max(this.earlier?.until ?? 0, this.current.until) };
    }
    // Those it left out since its last list, and those it says it removed before this one heard it list them.
    const removedNow = [...new Set([...(before ?? []), ...told])].filter((sourceId) => !listed.has(sourceId) && !this.removed.has(sourceId));
    for (const sourceId of removedNow) this.removed.add(sourceId);
    for (const sourceId of listed) this.removed.delete(sourceId);
    this.current = { runId, listed, until: now + LAPSES_AFTER_REPEATS * repeatMs };
    return complete ? [...removedNow, ...this.replaced(listed, now)] : removedNow;
  }

  /**
   * The cameras the runs before listed and a complete list leaves out, once their announcements have lapsed: a run
   * still announcing is another module beside this one. Not refused after (removes): nothing of a run that stopped is
   * on its way, and a camera now coming from elsewhere (a capture module) is taken with its next frame.
   */
  private replaced(listed: ReadonlySet<string>, now: number): string[] {
    if (!this.earlier || now < this.earlier.until) return [];
    const gone = [...this.earlier.listed].filter((sourceId) => !listed.has(sourceId));
    this.earlier = undefined;
    return gone;
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
