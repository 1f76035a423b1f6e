import type { ReadBatch } from '@iev/detection-pipeline';
import { Registry } from 'prom-client';
import { FORGET_SILENT_SOURCE_MS, InferenceMetrics } from './inference.metrics';

describe('InferenceMetrics: a removed camera', () => {
  afterEach(() => jest.useRealTimers());

  const countFrames = (metrics: InferenceMetrics, ...sourceIds: string[]) => {
    for (const sourceId of sourceIds) {
      metrics.framesProcessed.inc({ source_id: sourceId });
      metrics.latencySeconds.observe({ source_id: sourceId }, 0.05);
      metrics.framesRejected.inc({ reason: 'inference_error', source_id: sourceId });
      metrics.sources.done(sourceId, 50);
    }
  };
  const seriesOf = async (registry: Registry, sourceId: string) => (await registry.metrics()).split('\n').filter((line) => line.includes(`source_id="${sourceId}"`));

  it('leaves /health at once and its series once its frames in flight are done; the others stay', async () => {
    jest.useFakeTimers();
    const registry = new Registry();
    const metrics = new InferenceMetrics(registry, () => []);
    countFrames(metrics, 'camera0', 'garage');
    metrics.forgetSource('garage');
    expect(metrics.sources.report().map(({ sourceId }) => sourceId)).toEqual(['camera0']);
    countFrames(metrics, 'garage'); // in flight when it went
    expect(await seriesOf(registry, 'garage')).not.toEqual([]);

    await jest.advanceTimersByTimeAsync(5000);
    expect(await seriesOf(registry, 'garage')).toEqual([]);
    expect(await seriesOf(registry, 'camera0')).toEqual(expect.arrayContaining(['iev_inference_frames_processed_total{source_id="camera0"} 1', 'iev_inference_latency_seconds_count{source_id="camera0"} 1']));
  });

  it('keeps the series of a camera added again before they went, counting it from then', async () => {
    jest.useFakeTimers();
    const registry = new Registry();
    const metrics = new InferenceMetrics(registry, () => []);
    countFrames(metrics, 'garage');
    metrics.forgetSource('garage');
    metrics.expectSource('garage');
    countFrames(metrics, 'garage');
    await jest.advanceTimersByTimeAsync(5000);

    expect(await seriesOf(registry, 'garage')).toContain('iev_inference_frames_processed_total{source_id="garage"} 2');
    expect(metrics.sources.report()).toMatchObject([{ sourceId: 'garage', frames: 1 }]);
  });
  // A capture module removed from the deployment (or its SOURCE_ID renamed) is never announced gone: before, it stayed
  // stale on /health, in the reported sources and in its series until inference restarted.
  it("forgets a capture module's camera silent for an hour, logged once, keeps a camera decoded here however silent, and takes the first back as new", async () => {
    jest.useFakeTimers();
    const registry = new Registry();
    const logger = { info: jest.fn(), warn: jest.fn() };
    const metrics = new InferenceMetrics(registry, () => [], logger, { decodedHere: (sourceId) => sourceId === 'door' });
    const reported = () => metrics.sources.report().map(({ sourceId }) => sourceId);
    const forgotten = () => logger.info.mock.calls.filter(([, msg]) => String(msg).includes('forgotten'));
    countFrames(metrics, 'gate', 'door');
    await jest.advanceTimersByTimeAsync(FORGET_SILENT_SOURCE_MS - 2000);
    expect(reported()).toEqual(['gate', 'door']);

    await jest.advanceTimersByTimeAsync(2000 + 5000);
    expect(reported()).toEqual(['door']);
    expect(await seriesOf(registry, 'gate')).toEqual([]);
    expect(await seriesOf(registry, 'door')).not.toEqual([]);
    expect(forgotten()).toEqual([[{ sourceId: 'gate' }, expect.stringMatching(/^gate: no frame for 3600 s \(INFERENCE_FORGET_SOURCE_MS\) and not a camera decoded here: forgotten/)]]);

    countFrames(metrics, 'gate');
    expect(reported()).toEqual(['door', 'gate']);
    expect(metrics.sources.report()[1]).toMatchObject({ frames: 1, outages: 0 });
    await jest.advanceTimersByTimeAsync(10_000);
    expect(forgotten()).toHaveLength(1);
    metrics.close();
  });

  // Before, forgotten after a fixed hour: a timelapse at a frame every 2 h came back as new with each frame, its
  // figures and series reset each time.
  it.each([
    ['3 h', 3 * 3_600_000],
    ['0 (never)', 0],
  ])('keeps a camera at a frame every 2 h with %s, and its frames counted on', async (_name, forgetSourceMs) => {
    jest.useFakeTimers();
    const registry = new Registry();
    const logger = { info: jest.fn(), warn: jest.fn() };
    const metrics = new InferenceMetrics(registry, () => [], logger, { forgetSourceMs });
    for (let frame = 0; frame < 3; frame++) {
      // Received, let go, done; its capture asked for the next.
      metrics.sources.received('timelapse');
      metrics.sources.waitingFor('timelapse');
      countFrames(metrics, 'timelapse');
      await jest.advanceTimersByTimeAsync(2 * 3_600_000);
    }
    expect(metrics.sources.report()).toMatchObject([{ sourceId: 'timelapse', frames: 3 }]);
    expect(await seriesOf(registry, 'timelapse')).toContain('iev_inference_frames_processed_total{source_id="timelapse"} 3');
    expect(logger.info.mock.calls.filter(([, msg]) => String(msg).includes('forgotten'))).toEqual([]);
    metrics.close();
  });
});

describe('InferenceMetrics: a capture that goes quiet', () => {
  afterEach(() => jest.useRealTimers());

  it('counts and logs an outage that ends before anyone reads /metrics or /health, and says when frames come again', async () => {
    jest.useFakeTimers();
    const registry = new Registry();
    const logger = { info: jest.fn(), warn: jest.fn() };
    const metrics = new InferenceMetrics(registry, () => [], logger);
    metrics.sources.received('camera0');
    metrics.sources.waitingFor('camera0');

    // Capture hung (SIGSTOP) for 20 s while asked for a frame; nobody scraped meanwhile.
    await jest.advanceTimersByTimeAsync(20_000);
    metrics.sources.received('camera0');

    expect((await registry.metrics()).split('\n')).toContain('iev_inference_source_outages_total{source_id="camera0"} 1');
    expect(metrics.sources.report()).toMatchObject([{ sourceId: 'camera0', stale: false, outages: 1 }]);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0][1]).toMatch(/^camera0: no frame for 5 s/);
    expect(logger.info).toHaveBeenCalledTimes(1);
    expect(logger.info.mock.calls[0][1]).toBe('camera0: frames again after 20.0 s');
    metrics.close();
  });
});

describe('InferenceMetrics: a frame stuck in detection', () => {
  afterEach(() => jest.useRealTimers());

  it('says once that detection may be hung, shows it on /health and the gauge, and says once when it moves again', async () => {
    jest.useFakeTimers();
    const registry = new Registry();
    const logger = { info: jest.fn(), warn: jest.fn() };
    const metrics = new InferenceMetrics(registry, () => [], logger);
    const gauge = async () => (await registry.metrics()).split('\n').find((line) => line.startsWith('iev_inference_oldest_frame_in_detection_seconds '));
    const frame = { sourceId: 'camera0', sequence: 7, captureTimeMs: 0, image: { data: new Uint8Array(0), width: 0, height: 0, stride: 0 } };
    expect(await gauge()).toBe('iev_inference_oldest_frame_in_detection_seconds 0');
    metrics.chain.entered(frame);

    await jest.advanceTimersByTimeAsync(30_000);
    expect(metrics.stuckInDetectionMs()).toBeUndefined();
    expect(await gauge()).toBe('iev_inference_oldest_frame_in_detection_seconds 30');
    await jest.advanceTimersByTimeAsync(40_000);

    expect(metrics.stuckInDetectionMs()).toBe(70_000);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0][1]).toBe('camera0 #7 has been in detection for 61 s, far longer than frames take: a model stream or publishing may be hung');
    metrics.chain.left(frame);
    await jest.advanceTimersByTimeAsync(1000);
    expect(metrics.stuckInDetectionMs()).toBeUndefined();
    expect(logger.info.mock.calls.map((call) => call[1])).toEqual(['detection moves again: no frame in it longer than frames take']);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    metrics.close();
  });
});

describe('InferenceMetrics: a recognition batch stuck at the model', () => {
  afterEach(() => jest.useRealTimers());

  it('says once that a recognition run may be hung, shows it on /health and the gauge, apart from detection, and says once when it moves again', async () => {
    jest.useFakeTimers();
    const registry = new Registry();
    const logger = { info: jest.fn(), warn: jest.fn() };
    const metrics = new InferenceMetrics(registry, () => [], logger);
    const gauge = async () => (await registry.metrics()).split('\n').find((line) => line.startsWith('iev_inference_oldest_batch_in_reading_seconds '));
    const batch: ReadBatch = { reasons: ['new', 'new', 'refresh'], sources: 2 };
    expect(await gauge()).toBe('iev_inference_oldest_batch_in_reading_seconds 0');
    metrics.reading.entered(batch);

    await jest.advanceTimersByTimeAsync(30_000);
    expect(metrics.stuckInReadingMs()).toBeUndefined();
    expect(await gauge()).toBe('iev_inference_oldest_batch_in_reading_seconds 30');
    await jest.advanceTimersByTimeAsync(40_000);

    expect({ reading: metrics.stuckInReadingMs(), detection: metrics.stuckInDetectionMs() }).toEqual({ reading: 70_000, detection: undefined });
    expect(logger.warn.mock.calls.map((call) => call[1])).toEqual([
      'reading: a batch (lines: 3, sources: 2) has been at the recognition model for 61 s, far longer than batches take: a recognition model run may be hung',
    ]);
    metrics.reading.left(batch);
    await jest.advanceTimersByTimeAsync(1000);
    expect(metrics.stuckInReadingMs()).toBeUndefined();
    expect(logger.info.mock.calls.map((call) => call[1])).toEqual(['reading moves again: no batch at the recognition model longer than batches take']);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    metrics.close();
  });
});

describe('InferenceMetrics: a hang that lasts HANG_EXIT_MS', () => {
  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });
  const frame = { sourceId: 'camera0', sequence: 7, captureTimeMs: 0, image: { data: new Uint8Array(0), width: 0, height: 0, stride: 0 } };
  const batch: ReadBatch = { reasons: ['new', 'refresh'], sources: 1 };
  /** The reason the metrics give to exit, as it stands: 'none' until they give one. */
  const reasonToExit = (metrics: InferenceMetrics) => {
    const given = { reason: 'none' };
    void metrics.hungTooLong.catch((error: Error) => (given.reason = error.message));
    return given;
  };
  const stages = [
    {
      stage: 'detection',
      enter: (metrics: InferenceMetrics) => metrics.chain.entered(frame),
      reason: 'camera0 #7 has been in detection for 120 s, over HANG_EXIT_MS (120000 ms): a model stream or publishing hung; exiting, to be started again',
    },
    {
      stage: 'reading',
      enter: (metrics: InferenceMetrics) => metrics.reading.entered(batch),
      reason: 'reading: a batch (lines: 2, sources: 1) has been at the recognition model for 120 s, over HANG_EXIT_MS (120000 ms): a recognition model run hung; exiting, to be started again',
    },
  ];

  it.each(stages)('gives a reason to exit once a piece has been stuck in $stage that long, saying what hung and for how long', async ({ enter, reason }) => {
    jest.useFakeTimers();
    const metrics = new InferenceMetrics(new Registry(), () => [], { info: jest.fn(), warn: jest.fn() }, { hangExitMs: 120_000 });
    const given = reasonToExit(metrics);
    enter(metrics);
    await jest.advanceTimersByTimeAsync(119_000);
    expect(given.reason).toBe('none'); // told stuck (and 503) since 61 s
    await jest.advanceTimersByTimeAsync(1000);

    expect(given.reason).toBe(reason);
    metrics.close();
  });

  it.each(stages)('gives none with HANG_EXIT_MS 0, however long a piece is stuck in $stage', async ({ enter }) => {
    jest.useFakeTimers();
    const metrics = new InferenceMetrics(new Registry(), () => [], { info: jest.fn(), warn: jest.fn() }, { hangExitMs: 0 });
    const given = reasonToExit(metrics);
    enter(metrics);
    await jest.advanceTimersByTimeAsync(3_600_000);

    expect(metrics.stuckInDetectionMs() ?? metrics.stuckInReadingMs()).toBe(3_600_000);
    expect(given.reason).toBe('none');
    metrics.close();
  });

  it.each(stages)("leaves out the process's own silence (stopped ten minutes) from how long a piece has been in $stage", async ({ enter }) => {
    jest.useFakeTimers();
    const metrics = new InferenceMetrics(new Registry(), () => [], { info: jest.fn(), warn: jest.fn() }, { hangExitMs: 120_000 });
    const given = reasonToExit(metrics);
    enter(metrics);
    await jest.advanceTimersByTimeAsync(10_000);
    // Stopped: both clocks move on, no timer fires until it goes on.
    const [performanceNow, dateNow] = [performance.now.bind(performance), Date.now];
    jest.spyOn(performance, 'now').mockImplementation(() => performanceNow() + 600_000);
    jest.spyOn(Date, 'now').mockImplementation(() => dateNow() + 600_000);
    await jest.advanceTimersByTimeAsync(5000);

    expect(given.reason).toBe('none');
    metrics.close();
  });
});

describe("InferenceMetrics: the chain's clock, detection's and reading's", () => {
  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });
  const frame = { sourceId: 'camera0', sequence: 7, captureTimeMs: 0, image: { data: new Uint8Array(0), width: 0, height: 0, stride: 0 } };
  const batch: ReadBatch = { reasons: ['new'], sources: 1 };
  const stages = [
    { stage: 'detection', enter: (metrics: InferenceMetrics) => metrics.chain.entered(frame), stuckMs: (metrics: InferenceMetrics) => metrics.stuckInDetectionMs(), oldestMs: (metrics: InferenceMetrics) => metrics.chain.oldest()?.ms },
    { stage: 'reading', enter: (metrics: InferenceMetrics) => metrics.reading.entered(batch), stuckMs: (metrics: InferenceMetrics) => metrics.stuckInReadingMs(), oldestMs: (metrics: InferenceMetrics) => metrics.reading.oldest()?.ms },
  ];

  it.each(stages)('takes a piece in $stage for stuck though the wall clock was stepped forward meanwhile (NTP at a board without RTC)', async ({ enter, stuckMs }) => {
    jest.useFakeTimers();
    const metrics = new InferenceMetrics(new Registry(), () => [], { info: jest.fn(), warn: jest.fn() });
    enter(metrics);
    await jest.advanceTimersByTimeAsync(10_000);
    jest.setSystemTime(Date.now() + 3_600_000);
    await jest.advanceTimersByTimeAsync(60_000);

    expect(stuckMs(metrics)).toBe(70_000);
    metrics.close();
  });

  it.each(stages)("leaves out the process's own silence (stopped two minutes) from a piece's time in $stage", async ({ enter, stuckMs, oldestMs }) => {
    jest.useFakeTimers();
    const metrics = new InferenceMetrics(new Registry(), () => [], { info: jest.fn(), warn: jest.fn() });
    enter(metrics);
    await jest.advanceTimersByTimeAsync(10_000);
    // Stopped: both clocks move on, no timer fires until it goes on.
    const [performanceNow, dateNow] = [performance.now.bind(performance), Date.now];
    jest.spyOn(performance, 'now').mockImplementation(() => performanceNow() + 120_000);
    jest.spyOn(Date, 'now').mockImplementation(() => dateNow() + 120_000);
    await jest.advanceTimersByTimeAsync(5000);

    expect(stuckMs(metrics)).toBeUndefined();
    expect(oldestMs(metrics)).toBe(15_000);
    metrics.close();
  });
});
