import type { DetectedBox, Detections } from '@iev/frame-protocol';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { ConsoleSink } from './console-sink';

const box = (fields: Partial<DetectedBox>): DetectedBox => ({ points: [[0, 0], [10, 0], [10, 5], [0, 5]], score: 0.9, ...fields });

const frame = (sourceId: string, sequence: number, boxes: DetectedBox[]): Detections => ({
  frame: { sourceId, sequence, captureTimeMs: 1_765_000_000_000 + sequence * 40 },
  width: 640,
  height: 480,
  modelId: 'det@1',
  boxes,
  timings: { transportMs: 1, preprocessMs: 1, inferenceMs: 30, postprocessMs: 1 },
  publishedAtMs: 1_765_000_000_000 + sequence * 40 + 40,
  runId: 'run-a',
});

describe('events mode warns of a source whose boxes carry no line id, which makes no events', () => {
  let warnings: Array<{ fields: Record<string, unknown>; message: string }>;
  let sink: ConsoleSink;
  let output: string[];

  beforeEach(() => {
    warnings = [];
    output = [];
    const lines = (into: (line: string) => void) => {
      const stream = new PassThrough();
      stream.on('data', (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).forEach(into));
      return stream;
    };
    const logger = pino(lines((line) => {
      const { msg, ...fields } = JSON.parse(line);
      warnings.push({ fields, message: msg });
    }));
    sink = new ConsoleSink('json', lines((line) => output.push(line)), { events: { goneAfterMs: 2000, confirmReads: 1, logger } });
  });
  afterEach(() => sink.close());

  it('says once per source why, detection only or no line tracker, and again only when that changes', async () => {
    for (let sequence = 0; sequence < 3; sequence++) {
      await sink.write(frame('gate', sequence, [box({})]), 0);
      await sink.write(frame('door', sequence, [box({ text: 'EXIT', textScore: 0.9 })]), 0);
      // A frame without boxes tells nothing.
      await sink.write(frame('gate', 10 + sequence, []), 0);
    }
    expect(warnings.map(({ fields, message }) => [fields['sourceId'], message])).toEqual([
      ['gate', 'gate: no text events (TELEMETRY_EVENTS=on): its boxes carry no text and no line id: inference only detects (DETECTION_PRESET=seed, or RECOGNITION=off)'],
      ['door', 'door: no text events (TELEMETRY_EVENTS=on): its boxes carry text but no line id: inference follows no lines (REC_REFRESH_MS=0), or is older than the line ids'],
    ]);

    // gate's inference now reads and follows lines: events, no warning; then it stops following them again.
    await sink.write(frame('gate', 20, [box({ text: 'BUS 42', textScore: 0.9, lineId: 1 })]), 0);
    await sink.write(frame('gate', 21, [box({ text: 'BUS 42', textScore: 0.9, lineId: 1 })]), 0);
    await sink.write(frame('gate', 22, [box({ text: 'BUS 42', textScore: 0.9 })]), 0);
    // door's reading switched off.
    await sink.write(frame('door', 23, [box({})]), 0);

    expect(output.map((line) => JSON.parse(line).type)).toEqual(['text-appeared']);
    expect(warnings.slice(2).map(({ fields }) => [fields['sourceId'], fields['missing']])).toEqual([
      ['gate', 'untracked'],
      ['door', 'unread'],
    ]);
  });

  it('warns again of a source forgotten and back', async () => {
    await sink.write(frame('gate', 0, [box({})]), 0);
    sink.forget('gate');
    await sink.write(frame('gate', 1, [box({})]), 0);

    expect(warnings.map(({ fields }) => fields['sourceId'])).toEqual(['gate', 'gate']);
  });
});
