import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, freePort } from '@iev/testing';
import { curveKeyPair } from 'zeromq';
import { DEMO_VIDEO, ModuleProcess } from './module-process';

const detectionLines = (lines: string[]) => lines.filter((line) => line.startsWith('{"frame"'));
const metricValue = (text: string, name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);

describe('the pipeline with CURVE between its modules', () => {
  const keys = { capture: curveKeyPair(), inference: curveKeyPair(), telemetry: curveKeyPair(), preview: curveKeyPair(), stranger: curveKeyPair() };
  let dir: string;
  let modules: ModuleProcess[];
  let inference: ModuleProcess;
  let telemetry: ModuleProcess;
  let unlisted: ModuleProcess;
  let previewUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-curve-'));
    const frames = `ipc://${join(dir, 'frames')}`;
    const detections = `ipc://${join(dir, 'detections')}`;
    const telemetryEnv = (secretKey: string) => ({ DETECTIONS_CONNECT: detections, CONSOLE_FORMAT: 'json', METRICS_PORT: '0', ZMQ_CURVE_SECRET_KEY: secretKey, DETECTIONS_CURVE_SERVER_KEY: keys.inference.publicKey });
    telemetry = new ModuleProcess('telemetry', telemetryEnv(keys.telemetry.secretKey));
    // Knows inference's public key, but inference does not list its own.
    unlisted = new ModuleProcess('telemetry', telemetryEnv(keys.stranger.secretKey));
    inference = new ModuleProcess('inference', {
      FRAMES_CONNECT: frames,
      DETECTIONS_BIND: detections,
      METRICS_PORT: '0',
      INFERENCE_THREADS: '1',
      ZMQ_CURVE_SECRET_KEY: keys.inference.secretKey,
      FRAMES_CURVE_SERVER_KEY: keys.capture.publicKey,
      ZMQ_CURVE_CLIENT_KEYS: `${keys.telemetry.publicKey},${keys.preview.publicKey}`,
    });
    const capture = new ModuleProcess('capture', { CAMERA_PATH: DEMO_VIDEO, FRAMES_BIND: frames, METRICS_PORT: '0', ZMQ_CURVE_SECRET_KEY: keys.capture.secretKey, ZMQ_CURVE_CLIENT_KEYS: `${keys.inference.publicKey} ${keys.preview.publicKey}` });
    // The preview connects to both capture and inference, each of which lists its key.
    const previewPort = await freePort();
    previewUrl = `http://127.0.0.1:${previewPort}`;
    const preview = new ModuleProcess('preview', {
      FRAMES_CONNECT: frames,
      DETECTIONS_CONNECT: detections,
      PREVIEW_PORT: String(previewPort),
      METRICS_PORT: '0',
      ZMQ_CURVE_SECRET_KEY: keys.preview.secretKey,
      FRAMES_CURVE_SERVER_KEY: keys.capture.publicKey,
      DETECTIONS_CURVE_SERVER_KEY: keys.inference.publicKey,
    });
    modules = [telemetry, unlisted, inference, capture, preview];
  });

  afterAll(async () => {
    await Promise.all(modules.map((module) => module.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers detections to the listed telemetry; inference refuses, logs and counts an unlisted one, which gets nothing', async () => {
    await telemetry.waitFor((lines) => (detectionLines(lines).length >= 3 ? true : undefined), 'three detections at the listed telemetry', 50_000);
    const port = await inference.metricsPort();
    let refused = 0;
    for (let tries = 0; tries < 50 && !(refused > 0); tries++) {
      refused = metricValue(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'iev_inference_peers_refused_total');
      if (!(refused > 0)) await sleep(200);
    }

    expect(refused).toBeGreaterThan(0);
    expect(inference.logs().some((log) => String(log['msg']).includes(`its public key ${keys.stranger.publicKey} is not among the allowed client keys`))).toBe(true);
    expect(detectionLines(unlisted.stdout)).toEqual([]);
    expect(modules.every((module) => module.running)).toBe(true);
  });

  it('shows the listed preview frames and their detections over CURVE', async () => {
    type Sources = { sources: Array<{ sourceId: string; waiting: boolean; detectionFps: number }> };
    const shown = await eventually(async () => {
      // Until the preview's page server is up, nothing answers.
      const listed = (await fetch(`${previewUrl}/api/sources`).then((response) => response.json(), () => undefined)) as Sources | undefined;
      return listed?.sources.find((source) => !source.waiting && source.detectionFps > 0);
    }, 'a frame with detections at the preview', { timeoutMs: 30_000, intervalMs: 500 });
    expect(shown.sourceId).toBe('camera0');
  });

  it('stops a module whose key is not a CURVE key at start-up, naming the variable', async () => {
    const bad = new ModuleProcess('telemetry', { DETECTIONS_CONNECT: `ipc://${join(dir, 'nothing')}`, METRICS_PORT: '0', ZMQ_CURVE_SECRET_KEY: 'my secret', DETECTIONS_CURVE_SERVER_KEY: keys.inference.publicKey });
    modules.push(bad);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr.join('\n')).toContain('ZMQ_CURVE_SECRET_KEY must be a CURVE key: 40 characters of Z85');
  });
});
