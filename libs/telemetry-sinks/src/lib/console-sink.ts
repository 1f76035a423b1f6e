import type { Detections } from '@iev/frame-protocol';
import type { Writable } from 'node:stream';
import { describeDetections, describeTextEvent } from './console-lines';
import { withMatchingLines } from './text-match';
import { textEventsFor, type SinkContent, type TextEvents } from './text-events';

/** Where telemetry sends detections: the console for local runs, IoT Edge's edgeHub in a deployment. */
export interface DetectionsSink {
  write(detections: Detections, receivedAtMs: number): Promise<void>;
  /** Sends what is still buffered (within timeoutMs) and stops. */
  close?(timeoutMs: number): Promise<void>;
  /** A source gone for good: what is held of it is sent, and one of its id later starts afresh. */
  forget?(sourceId: string): void;
  /**
   * Whether it keeps something of each source between its detections (events about its lines, a summary gathering),
   * which forget() sends: a removed camera's detections still in flight would start it again. Without it, each frame's
   * detections are sent as they come.
   */
  keepsPerSource?(): boolean;
}

/** One line per frame on stdout, or per event: readable text, or the detections (event) as one JSON object. */
export class ConsoleSink implements DetectionsSink {
  private readonly events: TextEvents | undefined;

  constructor(
    private readonly format: 'text' | 'json',
    private readonly out: Writable = process.stdout,
    private readonly content: SinkContent = {},
  ) {
    this.events = textEventsFor(content, (event) => this.print(format === 'json' ? JSON.stringify(event) : describeTextEvent(event)));
  }

  async write(detections: Detections, receivedAtMs: number): Promise<void> {
    if (this.events) return this.events.add(detections);
    const shown = withMatchingLines(detections, this.content.textMatch);
    this.print(this.format === 'json' ? JSON.stringify(shown) : describeDetections(shown, receivedAtMs));
  }

  forget(sourceId: string): void {
    this.events?.forget(sourceId);
  }

  keepsPerSource(): boolean {
    return this.events !== undefined;
  }

  async close(): Promise<void> {
    this.events?.close();
  }

  private print(line: string): void {
    this.out.write(`${line}\n`);
  }
}
