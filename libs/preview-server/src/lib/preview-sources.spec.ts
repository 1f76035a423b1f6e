import { detections, frame } from './capture-runs.fixture';
import { FORGET_SILENT_SOURCE_MS, PreviewSources } from './preview-sources';

describe('PreviewSources', () => {
  it('says an expected source is waiting until its first frame', () => {
    const sources = new PreviewSources(['cam']);
    expect(sources.picture('cam')).toBeUndefined();
    expect(sources.summaries()).toEqual([expect.objectContaining({ sourceId: 'cam', waiting: true, sequence: -1, latencyMs: null })]);
    sources.addFrame(frame(0));
    expect(sources.summaries()[0]).toMatchObject({ waiting: false, width: 4, height: 2, sequence: 0 });
  });

  it('draws the newest frame that has its own detections, else the newest frame with the newest boxes', () => {
    const sources = new PreviewSources();
    sources.addFrame(frame(10));
    sources.addDetections(detections(8, 1)); // a frame the preview never got
    expect(sources.picture('cam')).toMatchObject({ sequence: 10, paired: false, boxes: [expect.anything()] });
    sources.addFrame(frame(13));
    sources.addDetections(detections(10, 2));
    expect(sources.picture('cam')).toMatchObject({ sequence: 10, paired: true });
    expect(sources.picture('cam')?.boxes).toHaveLength(2);
    expect(sources.picture('cam')?.image.data[0]).toBe(10);
    sources.addDetections(detections(13, 3));
    expect(sources.picture('cam')).toMatchObject({ sequence: 13, paired: true });
    expect(sources.summaries()[0]).toMatchObject({ boxes: 3, latencyMs: 150, framesSkipped: 1 + 2 });
  });

  it("leaves off boxes captured more than 10 s before the frame they would be drawn on: an inference that stopped", () => {
    const sources = new PreviewSources();
    sources.addFrame(frame(10));
    sources.addDetections(detections(8, 1));
    sources.addFrame(frame(10_008)); // 10 s after the boxes' frame
    expect(sources.picture('cam')).toMatchObject({ sequence: 10_008, paired: false, boxes: [expect.anything()] });
    sources.addFrame(frame(10_009));
    expect(sources.picture('cam')).toMatchObject({ sequence: 10_009, paired: false, boxes: [] });
    expect(sources.picture('cam')?.key).toContain('with boxes of none');
  });

  it('says how long since the newest frame and detections came, and a stall past 5 s or three of their intervals', () => {
    const sources = new PreviewSources(['cam']);
    const start = performance.now();
    expect(sources.summaries(start)[0]).toMatchObject({ frameAgeMs: null, detectionsAgeMs: null, framesStalled: false, detectionsStalled: false });
    sources.addFrame(frame(1));
    sources.addDetections(detections(1, 1));
    const arrived = performance.now();

    expect(sources.summaries(arrived + 4000)[0]).toMatchObject({ framesStalled: false, detectionsStalled: false });
    expect(sources.summaries(arrived + 6000)[0]).toMatchObject({ framesStalled: true, detectionsStalled: true });
    expect(sources.summaries(arrived + 6000)[0].frameAgeMs).toBeGreaterThanOrEqual(6000);
  });

  it('takes a camera slower than a frame in 5 s as stalled only after three of its intervals', () => {
    jest.useFakeTimers();
    try {
      const sources = new PreviewSources();
      sources.addFrame(frame(1));
      jest.advanceTimersByTime(10_000);
      sources.addFrame(frame(2));
      jest.advanceTimersByTime(29_000);
      expect(sources.summaries()[0]).toMatchObject({ frameAgeMs: 29_000, framesStalled: false });
      jest.advanceTimersByTime(2000);
      expect(sources.summaries()[0]).toMatchObject({ framesStalled: true });
    } finally {
      jest.useRealTimers();
    }
  });

  it('after an outage, takes the camera as stalled as soon as before when it goes again after one frame', () => {
    jest.useFakeTimers();
    try {
      const sources = new PreviewSources();
      for (const sequence of [1, 2, 3]) {
        sources.addFrame(frame(sequence));
        jest.advanceTimersByTime(500);
      }
      jest.advanceTimersByTime(60_000);
      expect(sources.summaries()[0]).toMatchObject({ framesStalled: true });
      sources.addFrame(frame(4));
      jest.advanceTimersByTime(4900);
      expect(sources.summaries()[0]).toMatchObject({ framesStalled: false });
      jest.advanceTimersByTime(100);
      expect(sources.summaries()[0]).toMatchObject({ framesStalled: true });
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps its own copy of each frame, a few per source', () => {
    const sources = new PreviewSources();
    const received = frame(1);
    sources.addFrame(received);
    received.pixels.fill(99); // the received buffer is not ours to keep: it goes back to the transport
    expect(sources.picture('cam')?.image.data[0]).toBe(1);
    for (let sequence = 2; sequence < 40; sequence++) sources.addFrame(frame(sequence));
    sources.addDetections(detections(1, 1));
    expect(sources.picture('cam')).toMatchObject({ sequence: 39, paired: false });
  });

  it('keeps frames as RGB for sharp, and hands a picture whose pixels stay put while held', () => {
    const sources = new PreviewSources();
    sources.addFrame({ ...frame(1), pixels: Uint8Array.from({ length: 24 }, (_, i) => [1, 2, 3][i % 3]) });
    const picture = sources.picture('cam');
    expect([...(picture?.image.data.subarray(0, 6) ?? [])]).toEqual([3, 2, 1, 3, 2, 1]);
    const release = picture?.hold();
    for (let sequence = 2; sequence < 40; sequence++) sources.addFrame(frame(sequence));
    expect([...(picture?.image.data.subarray(0, 3) ?? [])]).toEqual([3, 2, 1]);
    release?.();
  });

  it('keys a picture by what it shows, so the same picture is not encoded or sent twice', () => {
    const sources = new PreviewSources();
    sources.addFrame(frame(10));
    sources.addDetections(detections(10, 1));
    const paired = sources.picture('cam')?.key;
    sources.addFrame(frame(13)); // no detections of its own yet: the picture stays frame 10
    sources.addDetections(detections(11, 2)); // a frame the preview never got
    expect(sources.picture('cam')?.key).toBe(paired);
    sources.addDetections(detections(13, 2));
    expect(sources.picture('cam')?.key).not.toBe(paired);
  });

  it('pairs late detections of a kept frame and early ones of a frame still to come, among others it passes over', () => {
    const sources = new PreviewSources();
    sources.addFrame(frame(10));
    sources.addFrame(frame(14));
    sources.addDetections(detections(12, 1)); // between two kept frames: its frame will not come
    sources.addDetections(detections(10, 2)); // a kept frame's, late
    expect(sources.picture('cam')).toMatchObject({ sequence: 10, paired: true, boxes: [expect.anything(), expect.anything()] });
    sources.addDetections(detections(16, 3)); // newer than any kept frame: its frame may come
    sources.addFrame(frame(16));
    expect(sources.picture('cam')).toMatchObject({ sequence: 16, paired: true });
    expect(sources.picture('cam')?.boxes).toHaveLength(3);
  });

  it("pairs no frame of a restarted capture with the old run's detections, and draws none of the old run's boxes", () => {
    const sources = new PreviewSources();
    for (let sequence = 0; sequence < 6; sequence++) {
      sources.addFrame(frame(sequence));
      sources.addDetections(detections(sequence, 1));
    }
    sources.addFrame(frame(3, 3, 1)); // a new run's frame 3, the old run's detections of 3 still remembered
    expect(sources.picture('cam')).toMatchObject({ sequence: 3, paired: false, boxes: [] });
    sources.addDetections(detections(3, 2, 1));
    expect(sources.picture('cam')).toMatchObject({ sequence: 3, paired: true });
    expect(sources.picture('cam')?.boxes).toHaveLength(2);
  });

  it("shows a restarted capture's first frame when it has the number of the old run's newest frame", () => {
    const sources = new PreviewSources();
    sources.addFrame(frame(0));
    sources.addDetections(detections(0, 1));
    sources.addFrame(frame(0, 50, 1)); // capture restarted right after its first frame: not a repeat of it
    expect(sources.picture('cam')).toMatchObject({ sequence: 0, paired: false, boxes: [] });
    expect(sources.picture('cam')?.image.data[0]).toBe(50);
  });

  it("draws no boxes of a restarted capture's old run that arrive after the new run's frames", () => {
    const sources = new PreviewSources();
    for (let sequence = 0; sequence < 6; sequence++) sources.addFrame(frame(sequence));
    sources.addFrame(frame(0, 50, 1));
    sources.addFrame(frame(1, 51, 1));
    sources.addDetections(detections(5, 3)); // the old run's last frame, out of inference only now
    expect(sources.picture('cam')).toMatchObject({ sequence: 1, paired: false, boxes: [] });
    sources.addDetections(detections(0, 2, 1));
    expect(sources.picture('cam')).toMatchObject({ sequence: 0, paired: true });
    expect(sources.picture('cam')?.boxes).toHaveLength(2);
  });

  it("pairs no kept frame with a restarted capture's detections that arrive before its frames", () => {
    const sources = new PreviewSources();
    for (let sequence = 0; sequence < 4; sequence++) sources.addFrame(frame(sequence));
    sources.addDetections(detections(1, 1));
    sources.addDetections(detections(3, 2, 1)); // the new run's 3, an old run's frame 3 still kept
    expect(sources.picture('cam')).toMatchObject({ sequence: 1, paired: true, boxes: [expect.anything()] });
  });

  it('forgets a source it does not expect once silent for minutes, frames and all; never an expected one', () => {
    const sources = new PreviewSources(['cam', 'idle']);
    const forgotten: string[] = [];
    sources.onForget((sourceId) => forgotten.push(sourceId));
    sources.addFrame(frame(1));
    sources.addFrame({ ...frame(1), sourceId: 'gone' });
    const pixels = sources.picture('gone')?.image.data;
    sources.forgetSilent(performance.now() + FORGET_SILENT_SOURCE_MS - 1000);
    expect(sources.sourceIds()).toEqual(['cam', 'idle', 'gone']);
    sources.forgetSilent(performance.now() + FORGET_SILENT_SOURCE_MS);
    expect(forgotten).toEqual(['gone']);
    expect(sources.sourceIds()).toEqual(['cam', 'idle']);
    expect([sources.has('gone'), sources.picture('gone'), sources.summaries().map((summary) => summary.sourceId)]).toEqual([false, undefined, ['cam', 'idle']]);
    // Its frame's pixels went back for reuse.
    sources.addFrame({ ...frame(2), sourceId: 'new' });
    expect(sources.picture('new')?.image.data.buffer).toBe(pixels?.buffer);
  });

  it('forgets at once a source the announced cameras leave out (removed), and refuses it until they list it again', () => {
    const sources = new PreviewSources(['cam']);
    const forgotten: string[] = [];
    sources.onForget((sourceId) => forgotten.push(sourceId));
    const garage = (sequence: number) => ({ ...frame(sequence), sourceId: 'garage' });
    sources.addFrame(frame(1));
    sources.addFrame(garage(1));
    const now = performance.now();
    sources.announce({ sourceIds: ['cam', 'door'], repeatMs: 1000 }, now);
    expect(forgotten).toEqual(['garage']);
    // A camera announced is listed before its first frame, as an expected one is.
    expect(sources.summaries().map(({ sourceId, waiting }) => [sourceId, waiting])).toEqual([
      ['cam', false],
      ['door', true],
    ]);
    // Its frame and detections still on their way bring it back no more, nor does its silence let the others go.
    sources.addFrame(garage(2));
    sources.addDetections({ ...detections(2, 1), frame: { ...detections(2, 1).frame, sourceId: 'garage' } });
    sources.forgetSilent(now + FORGET_SILENT_SOURCE_MS);
    expect(sources.sourceIds()).toEqual(['cam', 'door']);

    sources.announce({ sourceIds: ['cam', 'door', 'garage'], repeatMs: 1000 });
    sources.addFrame(garage(3));
    expect(sources.summaries().find(({ sourceId }) => sourceId === 'garage')).toMatchObject({ waiting: false, sequence: 3 });
  });

  it('takes any source again once the announcements stop for three of their repeats (the module stopped, or was replaced by one that announces none)', () => {
    const sources = new PreviewSources();
    const now = performance.now();
    sources.announce({ sourceIds: ['cam'], repeatMs: 1000 }, now);
    expect([sources.accepts('garage', now + 2999), sources.accepts('garage', now + 3000), sources.accepts('cam', now + 2999)]).toEqual([false, true, true]);
    // Then silence rules again: an announced camera not expected goes once silent for minutes.
    sources.forgetSilent(now + 3000 + FORGET_SILENT_SOURCE_MS);
    expect(sources.sourceIds()).toEqual([]);
  });

  it('tells listeners each time a frame or detections arrive', () => {
    const sources = new PreviewSources();
    const changes: string[] = [];
    sources.onChange((sourceId) => changes.push(sourceId));
    sources.addFrame(frame(1));
    sources.addFrame(frame(1)); // a repeat changes nothing
    sources.addDetections(detections(1, 0));
    expect(changes).toEqual(['cam', 'cam']);
  });
});
