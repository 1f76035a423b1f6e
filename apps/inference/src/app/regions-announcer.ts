import type { IgnoredRegions } from '@iev/detection-pipeline';
import { REGIONS_TOPIC, type RegionsAnnouncement } from '@iev/frame-protocol';
import type { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';

/**
 * How often the regions are announced though none changed: PUB/SUB keeps nothing for a preview that subscribes later
 * (started or restarted after inference), which so learns them within this. 4 KB at most, every 2 s.
 */
export const REGIONS_REPEAT_MS = 2000;

/**
 * Announces the ignore regions in force (RegionsAnnouncement) on the detections publisher: at once, again on each
 * change (`announce`, after a twin patch), and every repeatMs besides, so a preview shades them on each camera's
 * picture. Once, not with every frame's detections, which carry only how many boxes they left out.
 */
export class RegionsAnnouncer {
  private readonly repeating: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly client: Pick<ClientProxy, 'emit'>,
    private readonly inForce: () => IgnoredRegions,
    private readonly failed: (error: Error) => void,
    private readonly repeatMs = REGIONS_REPEAT_MS,
  ) {
    this.repeating = setInterval(() => this.announce(), repeatMs);
    this.announce();
  }

  /** Nothing once closed: a twin patch that outlives the module's close would open the closed publisher again (connect()). */
  announce(): void {
    if (this.closed) return;
    const announcement: RegionsAnnouncement = { regions: this.inForce().byKey(), repeatMs: this.repeatMs };
    lastValueFrom(this.client.emit(REGIONS_TOPIC, announcement), { defaultValue: undefined }).catch(this.failed);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.repeating);
  }
}
