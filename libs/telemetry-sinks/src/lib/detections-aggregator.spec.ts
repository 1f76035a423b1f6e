import type { Detections } from '@iev/frame-protocol';
import { DetectionsAggregator, type UpstreamPayload } from './detections-aggregator';

function frame(sequence: number, boxCount: number, inferenceMs = 100, sourceId = 'camera0'): Detections {
  return {
    frame: { sourceId, sequence, captureTimeMs: 1000 + sequence * 33 },
    width: 640,
    height: 480,
    modelId: 'ch_pp_inf_dynamic@7ceb8792',
    boxes: Array.from({ length: boxCount }, (_, i) => ({ points: [[i, 0], [i + 5, 0], [i + 5, 4], [i, 4]], score: 0.9 })),
    timings: { transportMs: 1, preprocessMs: 2, inferenceMs, postprocessMs: 3 },
    publishedAtMs: 2000 + sequence,
  };
}

describe('DetectionsAggregator', () => {
  it('passes every frame through when aggregation is off', () => {
    const sent: UpstreamPayload[] = [];
    const aggregator = new DetectionsAggregator({ frames: 1, intervalMs: 0 }, (payload) => sent.push(payload));
    aggregator.add(frame(1, 2));
    aggregator.add(frame(2, 0));
    expect(sent.map((p) => p.type)).toEqual(['detections', 'detections']);
    expect(sent[0]).toMatchObject({ type: 'detections', frame: { sequence: 1 }, boxes: frame(1, 2).boxes });
    aggregator.close();
  });

  it('sends one summary per N frames with exact counts and the newest boxes', () => {
    const sent: UpstreamPayload[] = [];
    const aggregator = new DetectionsAggregator({ frames: 3, intervalMs: 0 }, (payload) => sent.push(payload));
    aggregator.add(frame(10, 2, 90));
    aggregator.add(frame(11, 0, 110));
    expect(sent).toHaveLength(0);
    aggregator.add(frame(14, 4, 100));
    expect(sent).toEqual([
      {
        type: 'detections-summary',
        sourceId: 'camera0',
        modelId: 'ch_pp_inf_dynamic@7ceb8792',
        frames: 3,
        firstSequence: 10,
        lastSequence: 14,
        skippedFrames: 2,
        fromCaptureTimeMs: 1330,
        toCaptureTimeMs: 1462,
        framesWithText: 2,
        boxes: { total: 6, min: 0, max: 4, mean: 2 },
        inferenceMs: { mean: 100, max: 110 },
        last: { sequence: 14, width: 640, height: 480, boxes: frame(14, 4).boxes },
      },
    ]);
    aggregator.close();
  });

  it('keeps sources apart and sends what is pending on an interval', async () => {
    const sent: UpstreamPayload[] = [];
    const aggregator = new DetectionsAggregator({ frames: 0, intervalMs: 40 }, (payload) => sent.push(payload));
    aggregator.add(frame(1, 1, 100, 'a'));
    aggregator.add(frame(7, 3, 100, 'b'));
    aggregator.add(frame(2, 1, 100, 'a'));
    await new Promise((resolve) => setTimeout(resolve, 90));
    expect(sent.map((p) => p.type === 'detections-summary' && [p.sourceId, p.frames, p.boxes.total])).toEqual([
      ['a', 2, 2],
      ['b', 1, 3],
    ]);
    aggregator.close();
  });

  it('sends what was gathered under the old settings before applying new ones', () => {
    const sent: UpstreamPayload[] = [];
    const aggregator = new DetectionsAggregator({ frames: 10, intervalMs: 0 }, (payload) => sent.push(payload));
    aggregator.add(frame(1, 1));
    aggregator.configure({ frames: 1, intervalMs: 0 });
    aggregator.add(frame(2, 1));
    expect(sent.map((p) => p.type)).toEqual(['detections-summary', 'detections']);
    aggregator.close();
  });
});
