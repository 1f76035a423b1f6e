import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childPids, eventually, isRunning, metricSums, stopThreads, threadsNamed, whyThreadsCannotBeStopped } from '@iev/testing';
import { DEMO_VIDEO, ModuleProcess } from './module-process';

/** A stage is told hung after 60 s (and /health 503): 10 s more, to see that first. */
const HANG_EXIT_MS = 70_000;
/** After the hang's limit: the close's 9 s (its model run never ends), and the exit, on a loaded machine. */
const EXIT_WITHIN_MS = 9_000 + 10_000;
const cannotStopThreads = whyThreadsCannotBeStopped();
const withThreadStops = cannotStopThreads === undefined ? it : it.skip;
const needsThreadStops = cannotStopThreads === undefined ? '' : ` (skipped: no thread can be stopped here: ${cannotStopThreads})`;

/**
 * IoT Edge restarts a module whose process exits, never one whose /health fails: a model run that never returns
 * (a driver fault, a deadlock in native code) must end the process, and process.exit() alone waits for the worker
 * thread that is stuck.
 */
describe('inference whose recognition model hangs', () => {
  let dir: string;
  let inference: ModuleProcess;
  let release = () => undefined as void;

  afterAll(async () => {
    release();
    await inference?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  withThreadStops(
    `exits with 1 once the batch has been at the model HANG_EXIT_MS, saying what hung and for how long, its decoders gone with it${needsThreadStops}`,
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'iev-e2e-hung-'));
      inference = new ModuleProcess('inference', {
        CAPTURE_SOURCES: JSON.stringify([{ SOURCE_ID: 'camera0', CAMERA_PATH: DEMO_VIDEO, CAPTURE_FPS: 4 }]),
        FRAMES_CONNECT: undefined,
        DETECTIONS_BIND: `ipc://${join(dir, 'detections')}`,
        DETECTION_PRESET: 'default',
        // Two detection streams: the reader has its own session, and detection goes on while it hangs.
        INFERENCE_STREAMS: '2',
        INFERENCE_THREADS: '1',
        HANG_EXIT_MS: String(HANG_EXIT_MS),
        METRICS_PORT: '0',
      });
      const pid = inference.child.pid as number;
      const port = await inference.metricsPort();
      await eventually(async () => ((metricSums(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).get('iev_inference_lines_read_total') ?? 0) > 0 ? true : undefined), 'lines read', {
        timeoutMs: 90_000,
        intervalMs: 500,
      });
      const decoders = childPids(pid, 'ffmpeg');
      expect(decoders).not.toEqual([]);

      // The recognizer's session is the last worker thread inference starts, after the detector's (main.ts).
      const recognizer = threadsNamed(pid, 'WorkerThread').at(-1) as number;
      release = (await stopThreads([recognizer])).release;
      // The hang is timed from when the next batch reaches the stopped thread: after the batch under way and the
      // reader's rest (seconds on a loaded machine; 10 s seen), not from the stop.
      const { stuckInReadingMs, ...health } = await eventually(
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/health`);
          const body = (await response.json()) as { stuckInReadingMs?: number; stuckInDetectionMs?: number };
          return body.stuckInReadingMs === undefined ? undefined : { httpStatus: response.status, stuckInDetectionMs: body.stuckInDetectionMs, stuckInReadingMs: body.stuckInReadingMs };
        },
        'the batch told stuck',
        { timeoutMs: 90_000, intervalMs: 1000 },
      );
      const batchAtModelSince = performance.now() - stuckInReadingMs;
      expect(health).toEqual({ httpStatus: 503, stuckInDetectionMs: undefined });

      const code = await Promise.race([inference.exited, sleep(batchAtModelSince + HANG_EXIT_MS + EXIT_WITHIN_MS - performance.now(), 'still running', { ref: false })]);
      expect(code).toBe(1);
      // Less the second between the checks that time it.
      expect(performance.now() - batchAtModelSince).toBeGreaterThanOrEqual(HANG_EXIT_MS - 1000);
      expect(inference.logs().find((log) => log['level'] === 60)?.['msg']).toMatch(
        /^inference stopped: reading: a batch \(lines: \d+, sources: 1\) has been at the recognition model for 7\d s, over HANG_EXIT_MS \(70000 ms\): a recognition model run hung; exiting, to be started again$/,
      );
      expect(decoders.filter(isRunning)).toEqual([]);
    },
    // Above its waits' own limits together (the metrics port 30 s, lines read 90 s, told stuck 90 s, then the exit's
    // ~30 s), which came to 240 s: a slow machine fails on the wait that ran out, saying which, not on the case's.
    300_000,
  );
});
