import { PassThrough } from 'node:stream';
import type { Detections } from '@iev/frame-protocol';
import { ConsoleSink } from './console-sink';

const detections: Detections = {
  frame: { sourceId: 'camera0', sequence: 42, captureTimeMs: 1_000 },
  width: 640,
  height: 480,
  modelId: 'ch_pp_inf_dynamic@7ceb8792',
  boxes: [{ points: [[1, 2], [30, 2], [30, 12], [1, 12]], score: 0.91 }],
  timings: { transportMs: 3, preprocessMs: 2, inferenceMs: 97.25, postprocessMs: 2 },
  publishedAtMs: 1_105,
};

function written(sink: (out: PassThrough) => ConsoleSink): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk) => (text += chunk));
  return sink(out).write(detections, 1_120).then(() => text);
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
});
