import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childPids, eventually, freePort, isRunning, waitUntil } from '@iev/testing';
import { DEMO_VIDEO, ModuleProcess } from './module-process';

/** Short, so that ffmpeg's read timeout ends a silent stream soon; the module's own watchdog gives a first frame 15 s more. */
const STREAM_TIMEOUT_SECONDS = 2;
/** util-linux 2.33 or later (Debian 12 has 2.38), which binds gst-launch-1.0 to its module. */
const SETPRIV_BINDS = spawnSync('setpriv', ['--pdeathsig', 'INT', '--', 'true']).status === 0;
const withSetpriv = SETPRIV_BINDS ? it : it.skip;
/** ffmpeg's start and exit on this shared machine, beyond its timeout. */
const MARGIN_MS = 2000;

/**
 * A module killed by SIGKILL (by hand, a process manager that kills only the main pid, the OOM killer) runs no exit
 * handler: its decoder must end all the same. gst-launch-1.0 runs under setpriv --pdeathsig INT, as on a silent
 * udpsrc it would live for good; ffmpeg, run by fluent-ffmpeg, ends at its next write to the dead module, or on a
 * silent stream at its read timeout.
 */
describe('a decoder whose module is killed by SIGKILL', () => {
  let dir: string;
  const modules: ModuleProcess[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iev-e2e-orphan-'));
  });

  afterAll(async () => {
    await Promise.all(modules.map((module) => module.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Starts the module, waits for its decoder reading the silent source (not the version check run before it), kills
   * the module by SIGKILL; resolves to the decoder's pid.
   */
  async function killModuleWhileDecoding(name: 'capture' | 'inference', decoder: string, source: string, env: Record<string, string>): Promise<number> {
    const module = new ModuleProcess(name, { METRICS_PORT: '0', ...env });
    modules.push(module);
    const pid = module.child.pid as number;
    const readsSource = (child: number) => {
      try {
        return readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').includes(source);
      } catch {
        return false; // exited while we looked: the version check
      }
    };
    const decoderPid = await eventually(() => childPids(pid, decoder).find(readsSource), `${name}'s ${decoder} reading ${source}`, { timeoutMs: 30_000 });
    // Past its start-up messages: one written to the dead module's pipe would kill it by SIGPIPE, whatever binds it.
    await sleep(1000);
    process.kill(pid, 'SIGKILL');
    await module.exited;
    return decoderPid;
  }

  /** Whether the decoder is gone within timeoutMs (the time is the point here); killed by hand otherwise, so the spec leaves nothing behind. */
  async function goneWithin(timeoutMs: number, decoderPid: number): Promise<boolean> {
    const gone = await waitUntil(() => !isRunning(decoderPid), 'the decoder to exit', { timeoutMs }).then(
      () => true,
      () => false,
    );
    if (!gone) process.kill(decoderPid, 'SIGKILL');
    return gone;
  }

  it("ends capture's ffmpeg reading a silent UDP stream within its stream timeout", async () => {
    const url = `udp://127.0.0.1:${await freePort()}`;
    const decoder = await killModuleWhileDecoding('capture', 'ffmpeg', url, { CAMERA_PATH: url, CAPTURE_STREAM_TIMEOUT: String(STREAM_TIMEOUT_SECONDS), FRAMES_BIND: `ipc://${join(dir, 'udp')}` });

    expect(await goneWithin(STREAM_TIMEOUT_SECONDS * 1000 + MARGIN_MS, decoder)).toBe(true);
  });

  it("ends capture's ffmpeg whose stream came only after the module died: nothing connects to its frame socket", async () => {
    const url = `udp://127.0.0.1:${await freePort()}`;
    // A long stream timeout: ffmpeg is still opening the silent stream when the module dies, and the stream then comes.
    const decoder = await killModuleWhileDecoding('capture', 'ffmpeg', url, { CAMERA_PATH: url, CAPTURE_STREAM_TIMEOUT: '60', FRAMES_BIND: `ipc://${join(dir, 'late')}` });
    const sender = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10', '-t', '60', '-f', 'mpegts', url], { stdio: 'ignore' });
    try {
      // ffmpeg's analysis of the MPEG-TS (~5 s), then its 10 s wait for a connection to its frame socket.
      expect(await goneWithin(15_000 + 2 * MARGIN_MS + 3000, decoder)).toBe(true);
    } finally {
      sender.kill('SIGKILL');
    }
  }, 60_000);

  it("ends capture's ffmpeg playing a file at its next frame, which it cannot write to the dead module", async () => {
    const decoder = await killModuleWhileDecoding('capture', 'ffmpeg', DEMO_VIDEO, { CAMERA_PATH: DEMO_VIDEO, FRAMES_BIND: `ipc://${join(dir, 'file')}` });

    expect(await goneWithin(2000, decoder)).toBe(true);
  });

  withSetpriv(`stops capture's gst-launch-1.0 on a udpsrc nothing sends to${SETPRIV_BINDS ? '' : ' (skipped: no setpriv with --pdeathsig here)'}`, async () => {
    const udpsrc = `port=${await freePort()}`;
    const pipeline = `udpsrc ${udpsrc} ! application/x-rtp,encoding-name=H264 ! rtph264depay ! avdec_h264 ! videoconvert ! appsink`;
    // A size given, gst-launch runs quiet (-q): -v would print caps, and die writing them to the dead module's pipe.
    const decoder = await killModuleWhileDecoding('capture', 'gst-launch-1.0', udpsrc, {
      CAMERA_PATH: pipeline,
      CAPTURE_WIDTH: '320',
      CAPTURE_HEIGHT: '240',
      FRAMES_BIND: `ipc://${join(dir, 'gst')}`,
    });

    expect(await goneWithin(2000, decoder)).toBe(true);
  });

  it('ends the ffmpeg of a silent camera inference decodes itself (CAPTURE_SOURCES) within its stream timeout', async () => {
    const url = `udp://127.0.0.1:${await freePort()}`;
    const sources = [{ CAMERA_PATH: url, CAPTURE_STREAM_TIMEOUT: STREAM_TIMEOUT_SECONDS }];
    const decoder = await killModuleWhileDecoding('inference', 'ffmpeg', url, {
      CAPTURE_SOURCES: JSON.stringify(sources),
      DETECTIONS_BIND: `ipc://${join(dir, 'detections')}`,
      DETECTION_PRESET: 'seed',
      INFERENCE_THREADS: '1',
    });

    expect(await goneWithin(STREAM_TIMEOUT_SECONDS * 1000 + MARGIN_MS, decoder)).toBe(true);
  });
});
