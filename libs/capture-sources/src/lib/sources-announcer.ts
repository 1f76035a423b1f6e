import { randomUUID } from 'node:crypto';
import { MAX_ANNOUNCED_REMOVALS, SOURCES_TOPIC, type SourcesAnnouncement } from '@iev/frame-protocol';
import type { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';

/**
 * How often the cameras are announced though none changed: PUB/SUB keeps nothing for a subscriber that joins later (a
 * preview started or restarted) and drops a message for one whose queue is full, so each learns them within this.
 */
export const SOURCES_REPEAT_MS = 1000;

/**
 * Announces the cameras a module decodes itself (SourcesAnnouncement) on its detections publisher: at once, again at
 * once on each change (`announce`), and every `repeatMs` besides, to the preview and telemetry (which forget a camera
 * removed); an older one of either does not subscribe to the topic, so it never reaches it.
 */
export class SourcesAnnouncer {
  /** This process's run: a preview takes a camera for removed only when the same run stops listing it. */
  private readonly runId = randomUUID();
  private timer?: NodeJS.Timeout;
  private closed = false;
  private complete = false;
  /** What the last announcement listed: one it lists no more was removed. */
  private listed: string[] = [];
  /** The cameras removed and not listed since, oldest first (SourcesAnnouncement.removed). */
  private readonly removed: string[] = [];

  constructor(
    private readonly client: Pick<ClientProxy, 'emit'>,
    private readonly sourceIds: () => string[],
    private readonly failed: (error: Error) => void,
    private readonly repeatMs = SOURCES_REPEAT_MS,
  ) {
    this.announce();
  }

  /** Announces the cameras now (one was added or removed), and again every repeatMs from now. */
  announce(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    const sourceIds = this.sourceIds();
    this.noteRemovals(sourceIds);
    const announcement: SourcesAnnouncement = {
      runId: this.runId,
      sourceIds,
      repeatMs: this.repeatMs,
      complete: this.complete,
      ...(this.removed.length > 0 && { removed: [...this.removed] }),
    };
    lastValueFrom(this.client.emit(SOURCES_TOPIC, announcement), { defaultValue: undefined }).catch(this.failed);
    this.timer = setTimeout(() => this.announce(), this.repeatMs);
  }

  /**
   * The list holds every camera the module's configuration names from now on (its twin's at start-up applied, or no
   * twin): announced at once, so a preview drops the cameras an earlier run listed and this one does not.
   */
  markComplete(): void {
    this.complete = true;
    this.announce();
  }

  /** Each camera the last list had and this one has not is removed; one listed again is not. */
  private noteRemovals(sourceIds: string[]): void {
    for (const sourceId of this.listed) if (!sourceIds.includes(sourceId) && !this.removed.includes(sourceId)) this.removed.push(sourceId);
    for (const sourceId of sourceIds) {
      const at = this.removed.indexOf(sourceId);
      if (at >= 0) this.removed.splice(at, 1);
    }
    this.removed.splice(0, this.removed.length - MAX_ANNOUNCED_REMOVALS);
    this.listed = sourceIds;
  }

  /** Announces no more: a preview then falls back on its cameras' silence once repeatMs has passed a few times. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
