import { join } from 'node:path';
import { InOrderDetections, TextRecognizer, VideoTextReader, type ChainedFrame, type InferredImage } from '@iev/detection-pipeline';
import type { DetectedBox } from '@iev/frame-protocol';
import type { InferenceBackend, TensorData } from '@iev/inference-backends';
import { CharacterSet } from '@iev/text-recognition';
import { Registry } from 'prom-client';
import { InferenceMetrics } from './inference.metrics';

const characters = CharacterSet.fromFile(join(__dirname, '../../../../models/ppocr_keys_v1.txt'));
const image = { data: Uint8Array.from({ length: 160 * 48 * 3 }, (_, i) => (i * 37) % 251), width: 160, height: 48, stride: 160 * 3 };
const quad = (x: number): DetectedBox => ({ points: [[x, 8], [x + 70, 8], [x + 70, 36], [x, 36]], score: 0.9 });
const boxes = [quad(4), quad(84)];
const DETECT_MS = 50;
const RECOGNIZE_MS = 30;

/** A recognition model whose run number `hangAt` never returns (a native call stuck); the others answer after RECOGNIZE_MS. */
function recognitionHangingAt(hangAt: number): InferenceBackend & { runs: number } {
  const classes = characters.classCount + 1;
  return {
    name: 'stand-in',
    modelId: 'stand-in',
    modelSha256: '0'.repeat(64),
    runsOnCpu: true,
    runs: 0,
    load: async () => undefined,
    dispose: async () => undefined,
    run(input: TensorData) {
      if (++this.runs === hangAt) return new Promise<TensorData>(() => undefined);
      const [rows, , , width] = input.dims;
      const steps = Math.ceil(width / 8);
      const output = { data: new Float32Array(rows * steps * classes).fill(1 / classes), dims: [rows, steps, classes] };
      return new Promise<TensorData>((resolve) => setTimeout(() => resolve(output), RECOGNIZE_MS));
    },
  };
}

/** One detection stream finding `boxes` in every frame after DETECT_MS. */
function detector() {
  let busy = false;
  const freed: Array<() => void> = [];
  const result = { modelId: 'm', boxes, width: image.width, height: image.height, timings: { preprocessMs: 0, inferenceMs: DETECT_MS, postprocessMs: 0 } };
  return {
    concurrency: 1,
    whenReady: async () => {
      while (busy) await new Promise<void>((resolve) => freed.push(resolve));
    },
    inferBatch: (images: readonly unknown[]) => {
      busy = true;
      return new Promise<InferredImage[]>((resolve) =>
        setTimeout(() => {
          busy = false;
          freed.shift()?.();
          resolve(images.map(() => ({ finish: async () => result }) as unknown as InferredImage));
        }, DETECT_MS),
      );
    },
  };
}

describe('InferenceMetrics of a chain that reads every box inline (REC_REFRESH_MS=0), its recognition model hanging at a run', () => {
  afterEach(() => jest.useRealTimers());

  it("tells the hang as reading's, not detection's: /health, the log, the gauges and the reason to exit", async () => {
    jest.useFakeTimers();
    const registry = new Registry();
    const logger = { info: jest.fn(), warn: jest.fn() };
    const metrics = new InferenceMetrics(registry, () => [], logger, { hangExitMs: 120_000 });
    const given = { reason: 'none' };
    void metrics.hungTooLong.catch((error: Error) => (given.reason = error.message));
    const recognition = recognitionHangingAt(5);
    const reader = new VideoTextReader(new TextRecognizer(recognition, characters), { minScore: 0, tracking: false, batchTimes: metrics.reading });
    let published = 0;
    const chain = new InOrderDetections<ChainedFrame>({
      detector: detector(),
      reader: () => reader,
      publish: async () => void published++,
      times: metrics.chain,
      log: { error: () => undefined },
    });
    let running = true;
    void (async () => {
      for (let sequence = 0; running; sequence++) await chain.push({ sourceId: 'camera0', sequence, captureTimeMs: 0, image });
    })();

    await jest.advanceTimersByTimeAsync(70_000);
    const gauges = (await registry.metrics()).split('\n').filter((line) => /^iev_inference_oldest_(frame_in_detection|batch_in_reading)_seconds /.test(line));
    expect({ published, runs: recognition.runs, detection: metrics.stuckInDetectionMs(), reading: (metrics.stuckInReadingMs() ?? 0) > 60_000 }).toEqual({ published: 4, runs: 5, detection: undefined, reading: true });
    expect(gauges.map((line) => Math.round(Number(line.split(' ')[1]) / 10))).toEqual([7, 7]);
    expect(logger.warn.mock.calls.map((call) => call[1])).toEqual([
      "reading: camera0's frame (lines: 2) has been at the recognition model for 61 s, far longer than batches take: a recognition model run may be hung",
    ]);
    expect(logger.warn.mock.calls[0][0]).toMatchObject({ lines: 2, sources: 1 });

    await jest.advanceTimersByTimeAsync(51_000);
    running = false;
    // The hang began between two of the metrics' once-a-second checks: told at the first at or past 120 s.
    expect(given.reason).toMatch(
      /^reading: camera0's frame \(lines: 2\) has been at the recognition model for 12[01] s, over HANG_EXIT_MS \(120000 ms\): a recognition model run hung; exiting, to be started again$/,
    );
    expect(logger.warn).toHaveBeenCalledTimes(1);
    metrics.close();
  });
});
