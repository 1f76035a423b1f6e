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

  it("keys a picture by its camera's regions: another once they change, the same after announcements that leave them as they were", () => {
    const sources = new PreviewSources();
    sources.addFrame(frame(10));
    sources.addDetections(detections(10, 1));
    const clock = [{ unit: 'fraction' as const, points: [[0.5, 0], [1, 0], [1, 0.5], [0.5, 0.5]] as [number, number][] }];
    const unshaded = sources.picture('cam');
    sources.announceRegions({ regions: { '*': clock }, repeatMs: 1000 });
    const shaded = sources.picture('cam');
    expect(shaded?.regions).toEqual([[[2, 0], [4, 0], [4, 1], [2, 1]]]);
    expect([shaded?.key === unshaded?.key, shaded?.regionsKey === unshaded?.regionsKey]).toEqual([false, false]);
    // Repeated as inference repeats them, and another camera's changed: cam's are as they were.
    sources.announceRegions({ regions: { '*': clock }, repeatMs: 1000 });
    sources.announceRegions({ regions: { door: [], '*': clock }, repeatMs: 1000 });
    expect([sources.picture('cam')?.key, sources.picture('cam')?.regionsKey]).toEqual([shaded?.key, shaded?.regionsKey]);
    // Its own list, none: another picture.
    sources.announceRegions({ regions: { cam: [], '*': clock }, repeatMs: 1000 });
    expect([sources.picture('cam')?.regions, sources.picture('cam')?.key === shaded?.key, sources.picture('cam')?.regionsKey === shaded?.regionsKey]).toEqual([[], false, false]);
  });

  it('keys the regions of a camera forgotten and back apart from those it had, when they changed while it was gone', () => {
    const sources = new PreviewSources();
    sources.addFrame(frame(1));
    const before = sources.picture('cam')?.regionsKey; // no regions yet
    sources.forgetSilent(performance.now() + FORGET_SILENT_SOURCE_MS);
    sources.announceRegions({ regions: { '*': [{ unit: 'fraction', points: [[0, 0], [0.5, 0], [0.5, 1]] }] }, repeatMs: 1000 });
    sources.addFrame(frame(2));
    // A viewer of every camera keeps what it was sent of each through a forget (MjpegStreams' regionsSent).
    expect([sources.picture('cam')?.regions, sources.picture('cam')?.regionsKey === before]).toEqual([[[[0, 0], [2, 0], [2, 2]]], false]);
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

  describe("the cameras a module announces (inference decoding them itself)", () => {
    const of = (sourceId: string, sequence: number) => ({ ...frame(sequence), sourceId });
    const announcement = (runId: string, ...sourceIds: string[]) => ({ runId, sourceIds, repeatMs: 1000, complete: false });
    const listed = (sources: PreviewSources) => sources.summaries().map(({ sourceId, waiting }) => `${sourceId}${waiting ? ' (waiting)' : ''}`);

    it('forgets at once a camera the run listed and leaves out now (removed), refuses it until listed again, and lists the new ones', () => {
      const sources = new PreviewSources(['cam']);
      const forgotten: string[] = [];
      sources.onForget((sourceId) => forgotten.push(sourceId));
      const now = performance.now();
      sources.addFrame(of('cam', 1));
      sources.addFrame(of('garage', 1));
      sources.announce(announcement('run-a', 'cam', 'garage'), now);
      expect(forgotten).toEqual([]);

      sources.announce(announcement('run-a', 'cam', 'door'), now + 10);
      expect(forgotten).toEqual(['garage']);
      expect(listed(sources)).toEqual(['cam', 'door (waiting)']);
      // Its frame and detections still on their way do not bring it back.
      sources.addFrame(of('garage', 2));
      sources.addDetections({ ...detections(2, 1), frame: { ...detections(2, 1).frame, sourceId: 'garage' } });
      expect(listed(sources)).toEqual(['cam', 'door (waiting)']);

      sources.announce(announcement('run-a', 'cam', 'door', 'garage'), now + 20);
      sources.addFrame(of('garage', 3));
      expect(sources.summaries().find(({ sourceId }) => sourceId === 'garage')).toMatchObject({ waiting: false, sequence: 3 });
    });

    it('forgets and refuses a camera the run says it removed, though this preview never heard it listed (started after the removal, or its frames came first)', () => {
      const sources = new PreviewSources(['cam']);
      const forgotten: string[] = [];
      sources.onForget((sourceId) => forgotten.push(sourceId));
      const now = performance.now();
      // A frame of it that was on its way, before any list.
      sources.addFrame(of('garage', 7));
      sources.announce({ ...announcement('run-a', 'cam'), removed: ['garage'] }, now);
      expect(forgotten).toEqual(['garage']);
      sources.addFrame(of('garage', 8));
      sources.announce({ ...announcement('run-a', 'cam'), removed: ['garage'] }, now + 1000);
      expect([listed(sources), forgotten]).toEqual([['cam (waiting)'], ['garage']]);

      // Added again: taken again.
      sources.announce(announcement('run-a', 'cam', 'garage'), now + 2000);
      sources.addFrame(of('garage', 9));
      expect(listed(sources)).toEqual(['cam (waiting)', 'garage']);
    });

    it('leaves alone the sources it never listed (a capture module on another frames link), and lists one PREVIEW_SOURCES names again once removed, waiting', () => {
      const sources = new PreviewSources(['garage']);
      const now = performance.now();
      sources.addFrame(of('yard', 1));
      sources.addFrame(of('garage', 1));
      sources.announce(announcement('run-a', 'cam', 'garage'), now);
      sources.announce(announcement('run-a', 'cam'), now + 10);
      sources.addFrame(of('yard', 2));
      sources.addFrame(of('garage', 2));

      expect(listed(sources)).toEqual(['yard', 'cam (waiting)', 'garage (waiting)']);
    });

    it("keeps a camera a restarted module (a new run) has yet to add again from its twin, and forgets it once that run removes it", () => {
      const sources = new PreviewSources();
      const now = performance.now();
      sources.announce(announcement('run-a', 'cam', 'garage'), now);
      sources.addFrame(of('garage', 1));
      sources.announce(announcement('run-b', 'cam'), now + 10);
      expect([sources.accepts('garage', now + 10), listed(sources)]).toEqual([true, ['cam (waiting)', 'garage']]);

      sources.announce(announcement('run-b', 'cam', 'garage'), now + 20);
      sources.announce(announcement('run-b', 'cam'), now + 30);
      expect([sources.accepts('garage', now + 30), listed(sources)]).toEqual([false, ['cam (waiting)']]);
    });

    describe("a restarted module's (a new run's) complete list: its twin at start-up applied, or no twin", () => {
      const complete = (runId: string, ...sourceIds: string[]) => ({ ...announcement(runId, ...sourceIds), complete: true });

      it('forgets the cameras the run before listed and it does not (removed while the module was down), not one never announced, and lists one PREVIEW_SOURCES names again, waiting', () => {
        const sources = new PreviewSources(['door']);
        const forgotten: string[] = [];
        sources.onForget((sourceId) => forgotten.push(sourceId));
        const now = performance.now();
        sources.addFrame(of('yard', 1));
        sources.announce(complete('run-a', 'cam', 'garage', 'door'), now);
        for (const sourceId of ['cam', 'garage', 'door']) sources.addFrame(of(sourceId, 1));

        // The module restarted: its new run lists what its environment names, and all of it once its twin is applied.
        sources.announce(announcement('run-b', 'cam'), now + 10_000);
        expect(forgotten).toEqual([]);
        sources.announce(complete('run-b', 'cam'), now + 11_000);
        expect(forgotten).toEqual(['garage', 'door']);
        expect(listed(sources)).toEqual(['yard', 'cam', 'door (waiting)']);

        // Nothing of the old run is on its way, so a camera that now comes from elsewhere (a capture module) is taken.
        sources.addFrame(of('garage', 2));
        sources.announce(complete('run-b', 'cam'), now + 12_000);
        expect([forgotten, listed(sources)]).toEqual([
          ['garage', 'door'],
          ['yard', 'cam', 'door (waiting)', 'garage'],
        ]);
      });

      it('waits for the run before to stop announcing (three of its repeats) where the module came back sooner', () => {
        const sources = new PreviewSources();
        const now = performance.now();
        sources.announce(complete('run-a', 'cam', 'garage'), now);
        sources.addFrame(of('garage', 1));
        sources.announce(complete('run-b', 'cam'), now + 1000);
        sources.announce(complete('run-b', 'cam'), now + 2999);
        expect(listed(sources)).toEqual(['cam (waiting)', 'garage']);
        sources.announce(complete('run-b', 'cam'), now + 3000);
        expect(listed(sources)).toEqual(['cam (waiting)']);
      });

      it("forgets none of another module's cameras while both announce, each its own run", () => {
        const sources = new PreviewSources();
        const now = performance.now();
        for (let ms = 0; ms < 10_000; ms += 500) sources.announce(ms % 1000 === 0 ? complete('run-a', 'cam', 'garage') : complete('run-b', 'door'), now + ms);
        expect(listed(sources)).toEqual(['cam (waiting)', 'garage (waiting)', 'door (waiting)']);
      });
    });

    it("removes a camera the run left out while its announcements were lost for longer than their lapse", () => {
      const sources = new PreviewSources();
      const now = performance.now();
      sources.announce(announcement('run-a', 'cam', 'garage'), now);
      sources.addFrame(of('garage', 1));
      sources.announce(announcement('run-a', 'cam'), now + 4000);
      expect([sources.accepts('garage', now + 4000), listed(sources)]).toEqual([false, ['cam (waiting)']]);
    });

    it('takes a removed camera again once the announcements stop for three of their repeats (the module stopped, or was replaced by one that announces none)', () => {
      const sources = new PreviewSources();
      const now = performance.now();
      sources.announce(announcement('run-a', 'cam', 'garage'), now);
      sources.announce(announcement('run-a', 'cam'), now);
      expect([sources.accepts('garage', now + 2999), sources.accepts('garage', now + 3000), sources.accepts('cam', now + 2999)]).toEqual([false, true, true]);
      // Then silence rules again: an announced camera not expected goes once silent for minutes.
      sources.forgetSilent(now + 3000 + FORGET_SILENT_SOURCE_MS);
      expect(sources.sourceIds()).toEqual([]);
    });
  });

  it("holds the ignore regions inference announced, each announcement replacing the last, until three of its repeats pass without one, telling each change", () => {
    jest.useFakeTimers();
    try {
      const sources = new PreviewSources(['idle']);
      sources.addFrame(frame(0));
      sources.addDetections({ ...detections(0, 1), ignored: 3 });
      const changes: string[] = [];
      sources.onChange((sourceId, changed) => changes.push(`${sourceId} ${changed}`));
      sources.announceRegions({ regions: { '*': [{ unit: 'fraction', points: [[0, 0], [0.5, 0], [0.5, 1]] }] }, repeatMs: 1000 });
      // The 4x2 frame: fractions of its size.
      expect(sources.summaries().find((source) => source.sourceId === 'cam')).toMatchObject({ regions: [[[0, 0], [2, 0], [2, 2]]], ignored: 3 });
      expect(sources.picture('cam')?.regions).toEqual([[[0, 0], [2, 0], [2, 2]]]);
      expect(changes.splice(0)).toEqual(['idle regions', 'cam regions']);
      // The same again, repeated as inference does: no change.
      jest.advanceTimersByTime(2500);
      sources.announceRegions({ regions: { '*': [{ unit: 'fraction', points: [[0, 0], [0.5, 0], [0.5, 1]] }] }, repeatMs: 1000 });
      expect(changes).toEqual([]);
      // The twin's value replaces every camera's: cam's own key, in pixels, as they are; idle keeps `*`'s.
      sources.announceRegions({ regions: { cam: [{ unit: 'pixel', points: [[1, 1], [3, 1], [3, 2]] }], '*': [{ unit: 'fraction', points: [[0, 0], [0.5, 0], [0.5, 1]] }] }, repeatMs: 1000 });
      expect(sources.picture('cam')?.regions).toEqual([[[1, 1], [3, 1], [3, 2]]]);
      expect(changes.splice(0)).toEqual(['cam regions']);
      // An inference that stopped announcing them: none shown, three repeats after the last, and told.
      jest.advanceTimersByTime(2999);
      expect(changes).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(sources.summaries().map((source) => source.regions)).toEqual([[], []]);
      expect(changes).toEqual(['idle regions', 'cam regions']);
    } finally {
      jest.useRealTimers();
    }
  });

  it("scales fraction regions to the picture drawn, not the newest frame: a camera switched to another size shows its last paired frame of the old one meanwhile", () => {
    const sources = new PreviewSources();
    sources.addFrame(frame(0));
    sources.addDetections(detections(0, 1));
    sources.announceRegions({ regions: { '*': [{ unit: 'fraction', points: [[0, 0], [0.5, 0], [0.5, 1]] }] }, repeatMs: 1000 });
    // Switched to 8x4: its first frame has no detections yet, so the 4x2 frame is still the one drawn.
    const bigger = { ...frame(1), width: 8, height: 4, stride: 24, pixels: new Uint8Array(96) };
    sources.addFrame(bigger);
    const picture = sources.picture('cam');
    expect([picture?.image.width, picture?.sequence]).toEqual([4, 0]);
    expect(picture?.regions).toEqual([[[0, 0], [2, 0], [2, 2]]]);
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
