import type { Detections } from '@iev/frame-protocol';
import type { Logger } from 'pino';

/** Why a source's boxes carry no line id: none read (detection only), or read but not followed (no tracker). */
type Missing = 'unread' | 'untracked';

const WHY: Record<Missing, string> = {
  unread: 'its boxes carry no text and no line id: inference only detects (DETECTION_PRESET=seed, or RECOGNITION=off)',
  untracked: "its boxes carry text but no line id: inference follows no lines (REC_REFRESH_MS=0), or is older than the line ids",
};

/**
 * Warns, once per source, that its detections make no text events because their boxes carry no line id, and why;
 * again only when that changes (line ids back and gone again, or reading switched off). Without it events mode is
 * silent for such a source, which looks like a scene without text.
 */
export class MissingLineIds {
  private readonly warned = new Map<string, Missing>();

  constructor(private readonly logger: Pick<Logger, 'warn'>) {}

  saw({ frame: { sourceId }, boxes }: Detections): void {
    // A frame without boxes says nothing either way.
    if (boxes.length === 0) return;
    if (boxes.some((box) => box.lineId !== undefined)) {
      this.warned.delete(sourceId);
      return;
    }
    const missing: Missing = boxes.some((box) => box.text !== undefined) ? 'untracked' : 'unread';
    if (this.warned.get(sourceId) === missing) return;
    this.warned.set(sourceId, missing);
    this.logger.warn({ sourceId, missing }, `${sourceId}: no text events (TELEMETRY_EVENTS=on): ${WHY[missing]}`);
  }

  forget(sourceId: string): void {
    this.warned.delete(sourceId);
  }
}
