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

  it('keeps only the lines whose text matches TELEMETRY_TEXT_MATCH, per frame and in a summary', () => {
    const sent: UpstreamPayload[] = [];
    const read = (sequence: number, ...texts: (string | undefined)[]): Detections => {
      const detections = frame(sequence, texts.length);
      detections.boxes.forEach((box, i) => texts[i] !== undefined && Object.assign(box, { text: texts[i], textScore: 0.9 }));
      return detections;
    };
    const perFrame = new DetectionsAggregator({ frames: 1, intervalMs: 0 }, (payload) => sent.push(payload), /^[A-Z]{3} \d{3}$/);
    perFrame.add(read(1, 'ABC 123', 'open 24h', undefined));
    const summaries = new DetectionsAggregator({ frames: 2, intervalMs: 0 }, (payload) => sent.push(payload), /^[A-Z]{3} \d{3}$/);
    summaries.add(read(2, 'ABC 123', 'open 24h'));
    summaries.add(read(3, 'XYZ 999', 'MAIN ST'));

    expect(sent[0]).toMatchObject({ type: 'detections', boxes: [{ text: 'ABC 123' }] });
    expect((sent[0] as Detections).boxes).toHaveLength(1);
    // Counts stay the detector's; the texts and the newest boxes are the matching ones.
    expect(sent[1]).toMatchObject({ type: 'detections-summary', boxes: { total: 4 }, texts: [{ text: 'ABC 123', frames: 1 }, { text: 'XYZ 999', frames: 1 }], last: { boxes: [{ text: 'XYZ 999' }] } });
    perFrame.close();
    summaries.close();
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
        skippedBefore: 0,
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

  it('sends what it holds of a source forgotten at once, where only more frames would (no interval), and takes one of its id later afresh', () => {
    const sent: UpstreamPayload[] = [];
    const aggregator = new DetectionsAggregator({ frames: 100, intervalMs: 0 }, (payload) => sent.push(payload));
    aggregator.add(frame(10, 1, 100, 'gate'));
    aggregator.add(frame(11, 2, 100, 'gate'));
    aggregator.add(frame(5, 1, 100, 'door'));
    aggregator.forgetSource('gate');
    expect(sent).toEqual([expect.objectContaining({ sourceId: 'gate', frames: 2, firstSequence: 10, lastSequence: 11 })]);
    // Its next frame is the first of a new camera: no gap before it.
    aggregator.add(frame(500, 0, 100, 'gate'));
    aggregator.forgetSource('gate');
    expect(sent[1]).toMatchObject({ sourceId: 'gate', frames: 1, firstSequence: 500, skippedBefore: 0 });
    expect(sent).toHaveLength(2);
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

  const spans = (sent: UpstreamPayload[]) => sent.map((p) => p.type === 'detections-summary' && [p.firstSequence, p.lastSequence, p.frames, p.skippedFrames]);

  it('starts a new summary when a restarted capture numbers its frames from 0 again in the same interval', () => {
    const sent: UpstreamPayload[] = [];
    const aggregator = new DetectionsAggregator({ frames: 0, intervalMs: 60_000 }, (payload) => sent.push(payload));
    for (const sequence of [5000, 5001, 5003]) aggregator.add(frame(sequence, 1));
    for (let sequence = 0; sequence <= 200; sequence++) if (sequence !== 100) aggregator.add(frame(sequence, 1));
    aggregator.close();
    // Each summary spans one run of frame numbers; the gaps within each are counted.
    expect(spans(sent)).toEqual([
      [5000, 5003, 3, 1],
      [0, 200, 200, 1],
    ]);
  });

  it('counts the frames skipped between two summaries in the later one, so the summaries account for every frame', () => {
    const sent: UpstreamPayload[] = [];
    const aggregator = new DetectionsAggregator({ frames: 3, intervalMs: 0 }, (payload) => sent.push(payload));
    // Frames 4, 5 and 9 never reach telemetry: 4 and 5 fall between the first two summaries.
    for (const sequence of [1, 2, 3, 6, 7, 8, 10, 11, 12]) aggregator.add(frame(sequence, 1));
    aggregator.close();
    const summaries = sent.flatMap((p) => (p.type === 'detections-summary' ? [[p.firstSequence, p.lastSequence, p.frames, p.skippedFrames, p.skippedBefore]] : []));
    expect(summaries).toEqual([
      [1, 3, 3, 0, 0],
      [6, 8, 3, 0, 2],
      [10, 12, 3, 0, 1],
    ]);
  });

  it('counts no skipped frames across a sequence that leaps ahead (10, then 2^40)', () => {
    const sent: UpstreamPayload[] = [];
    const aggregator = new DetectionsAggregator({ frames: 0, intervalMs: 60_000 }, (payload) => sent.push(payload));
    for (const sequence of [9, 10, 2 ** 40, 2 ** 40 + 2]) aggregator.add(frame(sequence, 1));
    aggregator.close();
    expect(spans(sent)).toEqual([
      [9, 10, 2, 0],
      [2 ** 40, 2 ** 40 + 2, 2, 1],
    ]);
  });

  it('counts the distinct texts a summary leaves out beyond the 100 most seen', () => {
    const sent: UpstreamPayload[] = [];
    const aggregator = new DetectionsAggregator({ frames: 1, intervalMs: 60_000 }, (payload) => sent.push(payload));
    const texts = Array.from({ length: 130 }, (_, i) => `line ${i}`);
    aggregator.add({ ...frame(1, 0), boxes: texts.map((text) => ({ points: [[0, 0], [5, 0], [5, 4], [0, 4]], score: 0.9, text })) });
    aggregator.close();
    expect(sent[0]).toMatchObject({ type: 'detections-summary', truncatedTexts: 30 });
    expect(sent[0].type === 'detections-summary' && sent[0].texts).toHaveLength(100);
  });
});
