import type { Detections } from '@iev/frame-protocol';
import type { TextEvent } from './text-events';

/** Texts listed on one console line; the rest are counted. */
const LISTED_TEXTS = 8;

/** A frame's detections as one readable console line. */
export function describeDetections(detections: Detections, receivedAtMs: number): string {
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

/** An event about a line as one readable console line: `camera0 line 7 changed: "ABC 123" -> "ABC 124" (0.97) #120`. */
export function describeTextEvent(event: TextEvent): string {
  const line = `${event.sourceId} line ${event.lineId}`;
  const text = `${JSON.stringify(event.text)} (${event.textScore.toFixed(2)})`;
  switch (event.type) {
    case 'text-appeared':
      return `${line} appeared: ${text} #${event.sequence}`;
    case 'text-changed':
      return `${line} changed: ${JSON.stringify(event.previousText)} -> ${text} #${event.sequence}`;
    case 'text-gone':
      return `${line} gone: ${text}, in view ${(event.durationMs / 1000).toFixed(1)} s, last seen #${event.sequence}`;
  }
}
