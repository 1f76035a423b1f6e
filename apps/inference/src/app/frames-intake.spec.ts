import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAddedSource, sourceConfigSpec } from '@iev/capture-sources';
import { FRAMES_TOPIC, type Frame } from '@iev/frame-protocol';
import { readConfig } from '@iev/service-runtime';
import { waitUntil } from '@iev/testing';
import type { MessageHandler, Server } from '@nestjs/microservices';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ownFrames } from './frames-intake';

const workDir = mkdtempSync(join(tmpdir(), 'frames-intake-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const entry = (sourceId: string, path: string) => readConfig(sourceConfigSpec, { SOURCE_ID: sourceId, CAMERA_PATH: path, CAPTURE_REALTIME: 'false' });

describe('ownFrames: the cameras of CAPTURE_SOURCES decoded in inference (real ffmpeg)', () => {
  it('names a camera that delivers no frames as down, not the one that streams beside it', async () => {
    const video = join(workDir, 'gray.mp4');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=gray:size=64x48:rate=10:duration=20', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', video]);
    // A camera not plugged in at start-up is waited for, retried with backoff.
    const intake = await ownFrames([entry('camera0', video), entry('garage', '/dev/video99')], (sourceId) => readAddedSource(sourceId, {}), pino({ level: 'silent' }), new Registry(), undefined, undefined);
    // A Nest server (ServerInProcessCapture), as the module gets it.
    const server = intake.server as unknown as Server;
    server.addHandler(FRAMES_TOPIC, (async (frame: Frame) => intake.release(frame.pixels)) as MessageHandler, true);
    try {
      await new Promise<void>((resolve, reject) => server.listen((error: unknown) => (error ? reject(error) : resolve())));
      await waitUntil(() => intake.sourcesDown().join() === 'garage', 'camera0 streaming while garage is retried', { timeoutMs: 20_000 });
    } finally {
      await intake.server.close();
      await intake.close?.();
    }
  }, 30_000);
});
