import { OwnSilence } from '@iev/service-runtime';
import type { ImageView } from '@iev/text-detection';
import { HangWatch, InFlightTimes } from './in-flight-times';
import { InOrderDetections, type ChainedFrame } from './in-order-detections';
import { SourceFeed } from './source-feed';
import type { InferredImage } from './text-detector';

describe('InFlightTimes', () => {
  let now: number;
  let times: InFlightTimes<string>;
  beforeEach(() => {
    now = 0;
    times = new InFlightTimes<string>(() => now);
  });

  /** `count` frames through the chain, each `ms` long. */
  function pass(count: number, ms: number): void {
    for (let frame = 0; frame < count; frame++) {
      times.entered(`frame${frame}`);
      now += ms;
      times.left(`frame${frame}`);
    }
  }

  it('takes a frame in the chain past 60 s for stuck, before any frame has left it (a hang in the first frames)', () => {
    times.entered('first');
    now = 59_000;
    expect(times.stuck()).toBeUndefined();
    now = 61_000;
    expect(times.stuck()).toEqual({ key: 'first', ms: 61_000 });
  });

  it('judges a board at seconds a frame by its own pace: ten times its median frame', () => {
    pass(32, 8000);
    times.entered('slow');
    now += 79_000;
    expect(times.stuck()).toBeUndefined();
    now += 2000;
    expect(times.stuck()).toEqual({ key: 'slow', ms: 81_000 });
  });

  it('keeps its limit after one frame that took minutes (a stall that ended): the median does not move', () => {
    pass(31, 1000);
    pass(1, 300_000);
    expect(times.stuckAfterMs()).toBe(60_000);
  });

  it('names the oldest frame in the chain, the next once it has left', () => {
    times.entered('a');
    now = 1000;
    times.entered('b');
    now = 3000;
    expect(times.oldest()).toEqual({ key: 'a', ms: 3000 });
    times.left('a');
    expect(times.oldest()).toEqual({ key: 'b', ms: 2000 });
    times.left('b');
    expect(times.oldest()).toBeUndefined();
  });

  it("leaves out the process's own silence on a clock less OwnSilence's: a 2-minute freeze is no hang", () => {
    const silence = new OwnSilence(1000);
    const chain = new InFlightTimes<string>(() => now - silence.ms);
    chain.entered('frame');
    for (now = 0; now <= 10_000; now += 1000) silence.check(now);
    // Stopped (SIGSTOP, a suspended VM) for two minutes: the next check comes late.
    now = 130_000;
    silence.check(now);

    expect(chain.stuck()).toBeUndefined();
    expect(chain.oldest()).toEqual({ key: 'frame', ms: 11_000 });
  });
});

describe('HangWatch', () => {
  it('tells a hang that lasts tooLongAfterMs once, at the first check past it, and again in a later episode', () => {
    let now = 0;
    const times = new InFlightTimes<string>(() => now);
    const told: string[] = [];
    const watch = new HangWatch(times, { stuck: ({ key }) => told.push(`stuck ${key}`), moving: () => told.push('moving'), tooLong: ({ key, ms }) => told.push(`too long ${key} ${ms}`) }, 120_000);
    const checkUntil = (ms: number) => {
      for (; now <= ms; now += 1000) watch.check();
    };
    times.entered('a');
    checkUntil(200_000);
    times.left('a');
    // Pieces of a second each after it: a judged by the 60 s floor again, not ten times a's 200 s.
    for (let piece = 0; piece < 32; piece++) {
      times.entered(`piece${piece}`);
      now += 1000;
      times.left(`piece${piece}`);
    }
    checkUntil(now + 10_000);
    times.entered('b');
    checkUntil(now + 130_000);

    expect(told).toEqual(['stuck a', 'too long a 120000', 'moving', 'stuck b', 'too long b 120000']);
  });
});

describe('InFlightTimes of a real InOrderDetections fed by a real SourceFeed, whose model hangs at a run', () => {
  afterEach(() => jest.useRealTimers());
  const IMAGE = { data: new Uint8Array(24), width: 4, height: 2, stride: 12 };
  type Frame = ChainedFrame & { width: number; height: number };

  /**
   * A detector of `streams` whose run number `hangAt` never returns (a native call stuck), the others `runMs` long;
   * `cameras` each delivering a frame `deliveryMs` after being asked, as frames on demand come.
   */
  async function oldestAfter(seconds: number, { streams, cameras, deliveryMs, runMs, hangAt }: Record<string, number>) {
    jest.useFakeTimers();
    const times = new InFlightTimes<ChainedFrame>(() => Date.now());
    let runs = 0;
    let busy = 0;
    const freed: Array<() => void> = [];
    const detector = {
      concurrency: streams,
      whenReady: async () => {
        while (busy >= streams) await new Promise<void>((resolve) => freed.push(resolve));
      },
      inferBatch: (images: readonly ImageView[]) => {
        busy++;
        if (++runs === hangAt) return new Promise<InferredImage[]>(() => undefined);
        const result = { modelId: 'm', boxes: [], width: 4, height: 2, timings: { preprocessMs: 0, inferenceMs: runMs, postprocessMs: 0 } };
        return new Promise<InferredImage[]>((resolve) =>
          setTimeout(() => {
            busy--;
            freed.shift()?.();
            resolve(images.map(() => ({ finish: async () => result }) as unknown as InferredImage));
          }, runMs),
        );
      },
    };
    const chain = new InOrderDetections<Frame>({ detector, reader: () => undefined, publish: async () => undefined, times, log: { error: () => undefined } });
    const feed = new SourceFeed<Frame>({ chain });
    let sequence = 0;
    let running = true;
    for (let camera = 0; camera < cameras; camera++) {
      void (async () => {
        while (running) {
          await new Promise((resolve) => setTimeout(resolve, deliveryMs));
          await feed.offer({ sourceId: `camera${camera}`, sequence: sequence++, captureTimeMs: 0, width: 4, height: 2, image: IMAGE });
        }
      })();
    }
    await jest.advanceTimersByTimeAsync(seconds * 1000);
    running = false;
    return { runs, oldest: times.oldest(), stuck: times.stuck() };
  }

  // One stream with several cameras (TensorRT's default): a frame waiting its turn is let go every 250 ms, and may be
  // the one the model then hangs on; two streams: the frames behind the hung one wait for it in the chain.
  it.each([
    { streams: 1, cameras: 3, deliveryMs: 300, runMs: 1000 },
    { streams: 1, cameras: 1, deliveryMs: 30, runMs: 400 },
    { streams: 2, cameras: 3, deliveryMs: 300, runMs: 1000 },
  ])('takes the hung frame for stuck within 61 s of the hang, whichever run hangs (%j)', async (setup) => {
    for (const hangAt of [20, 21, 22, 23]) {
      const { runs, stuck } = await oldestAfter(hangAt * (setup.runMs / 1000) + 62, { ...setup, hangAt });
      expect({ hangAt, runs: runs >= hangAt, stuck: stuck !== undefined && stuck.ms > 60_000 }).toEqual({ hangAt, runs: true, stuck: true });
    }
  });
});
