import { PassThrough } from 'node:stream';
import type { Detections } from '@iev/frame-protocol';
import { ConsoleSink } from './console-sink';
import type { TextEvent } from './text-events';

const detections: Detections = {
  frame: { sourceId: 'camera0', sequence: 42, captureTimeMs: 1_000 },
  width: 640,
  height: 480,
  modelId: 'ch_pp_inf_dynamic@7ceb8792',
  boxes: [{ points: [[1, 2], [30, 2], [30, 12], [1, 12]], score: 0.91 }],
  timings: { transportMs: 3, preprocessMs: 2, inferenceMs: 97.25, postprocessMs: 2 },
  publishedAtMs: 1_105,
};

/** A stream to write to, and what was written to it so far. */
function collected(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk) => (text += chunk));
  return { out, text: () => text };
}

function written(sink: (out: PassThrough) => ConsoleSink, frame = detections): Promise<string> {
  const { out, text } = collected();
  return sink(out).write(frame, 1_120).then(text);
}

describe('ConsoleSink', () => {
  it('writes one readable line per frame', async () => {
    expect(await written((out) => new ConsoleSink('text', out))).toBe(
      'camera0 #42 640x480: 1 text box | inference 97.3 ms, capture-to-telemetry 120.0 ms\n',
    );
  });

  it('writes the detections message as one JSON line', async () => {
    const line = await written((out) => new ConsoleSink('json', out));
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual(detections);
  });

  it('writes events about the lines instead, as readable lines or JSON, where told to', async () => {
    const [text, json] = [collected(), collected()];
    // Each event printed is told to `sent` too (telemetry's metrics count them).
    const told: string[] = [];
    const events = { goneAfterMs: 150, confirmReads: 1, sent: (event: TextEvent) => void told.push(event.type) };
    const sinks = [new ConsoleSink('text', text.out, { events }), new ConsoleSink('json', json.out, { events })];
    // Frames 100 ms apart: line 7 reads ABC 123, then ABC 124, then leaves view; the tracker lets it go at #46, its
    // third frame without it, and 150 ms of frames later (#48) it has gone.
    const at = (sequence: number, boxes: Detections['boxes']): Detections => ({ ...detections, frame: { sourceId: 'camera0', sequence, captureTimeMs: 1_000 + (sequence - 42) * 100 }, boxes });
    const line7 = (read: string) => [{ ...detections.boxes[0], lineId: 7, text: read, textScore: 0.97 }];
    const leftView = [44, 45, 46, 47, 48].map((sequence) => at(sequence, []));
    for (const sink of sinks) {
      for (const frame of [at(42, line7('ABC 123')), at(43, line7('ABC 124')), ...leftView]) await sink.write(frame, frame.frame.captureTimeMs + 20);
      await sink.close();
    }

    expect(text.text()).toBe(
      'camera0 line 7 appeared: "ABC 123" (0.97) #42\ncamera0 line 7 changed: "ABC 123" -> "ABC 124" (0.97) #43\ncamera0 line 7 gone: "ABC 124" (0.97), in view 0.1 s, last seen #43\n',
    );
    expect(json.text().trim().split('\n').map((line) => JSON.parse(line))).toMatchObject([
      { type: 'text-appeared', sourceId: 'camera0', lineId: 7, text: 'ABC 123', sequence: 42 },
      { type: 'text-changed', lineId: 7, text: 'ABC 124', previousText: 'ABC 123' },
      { type: 'text-gone', lineId: 7, text: 'ABC 124', firstSeenCaptureTimeMs: 1_000, lastSeenCaptureTimeMs: 1_100, durationMs: 100 },
    ]);
    expect(told).toEqual(['text-appeared', 'text-changed', 'text-gone', 'text-appeared', 'text-changed', 'text-gone']);
  });

  it('leaves out the lines whose text does not match TELEMETRY_TEXT_MATCH', async () => {
    const read = { ...detections, boxes: [{ ...detections.boxes[0], text: 'ABC 123', textScore: 0.9 }, { ...detections.boxes[0], text: 'open 24h', textScore: 0.9 }] };

    expect(await written((out) => new ConsoleSink('text', out, { textMatch: /^[A-Z]{3} \d{3}$/ }), read)).toBe('camera0 #42 640x480: 1 line | "ABC 123" | inference 97.3 ms, capture-to-telemetry 120.0 ms\n');
  });
});
