import type { Detections } from '@iev/frame-protocol';
import type { Writable } from 'node:stream';

/** Where telemetry sends detections: the console for local runs, IoT Edge's edgeHub in a deployment. */
export interface DetectionsSink {
  write(detections: Detections, receivedAtMs: number): Promise<void>;
  /** Sends what is still buffered (within timeoutMs) and stops. */
  close?(timeoutMs: number): Promise<void>;
  /** A source gone for good: what is held of it is sent, and one of its id later starts afresh. */
  forget?(sourceId: string): void;
}

/** One line per frame on stdout: readable text, or the detections as one JSON object. */
export class ConsoleSink implements DetectionsSink {
  constructor(
    private readonly format: 'text' | 'json',
    private readonly out: Writable = process.stdout,
  ) {}

  async write(detections: Detections, receivedAtMs: number): Promise<void> {
    const line = this.format === 'json' ? JSON.stringify(detections) : describe(detections, receivedAtMs);
    this.out.write(`${line}\n`);
  }
}

/** Texts listed on one console line; the rest are counted. */
const LISTED_TEXTS = 8;

function describe(detections: Detections, receivedAtMs: number): string {
  const { frame, boxes, timings, width, height } = detections;
  const latencyMs = receivedAtMs - frame.captureTimeMs;
  const texts = boxes.flatMap((box) => (box.text === undefined ? [] : [JSON.stringify(box.text)]));
  const found =
    texts.length > 0
      ? `${boxes.length} line${boxes.length === 1 ? '' : 's'} | ${texts.slice(0, LISTED_TEXTS).join(', ')}${texts.length > LISTED_TEXTS ? `, ... (+${texts.length - LISTED_TEXTS})` : ''}`
      : `${boxes.length} text box${boxes.length === 1 ? '' : 'es'}`;
  const reading = timings.recognizeMs === undefined ? '' : `, reading ${timings.recognizeMs.toFixed(1)} ms`;
  return `${frame.sourceId} #${frame.sequence} ${width}x${height}: ${found} | inference ${timings.inferenceMs.toFixed(1)} ms${reading}, capture-to-telemetry ${latencyMs.toFixed(1)} ms`;
}
