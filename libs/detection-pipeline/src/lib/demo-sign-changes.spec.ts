import { join } from 'node:path';
import { videoFrames } from '@iev/testing';
import type { ImageView } from '@iev/text-detection';
import { LineTracker, type Corners, type ReadReason } from '@iev/text-recognition';
import { loadTextDetector } from './load-text-detector';
import type { TextDetector } from './text-detector';

const ROOT = join(__dirname, '../../../..');
/** The demo video and the script that drew it (tools/demo-video/make-demo-video.sh): 640x480, its signs where it put them. */
const DEMO = join(ROOT, 'assets/demo/demo.mp4');
const [WIDTH, HEIGHT] = [640, 480];
const FPS = 10;

/** The demo's frames from `startS` for `seconds`, at FPS, as BGR images with their time in the video. */
const demoFrames = (startS: number, seconds: number): { image: ImageView; timeS: number }[] =>
  videoFrames(['-ss', String(startS), '-t', String(seconds), '-i', DEMO], { width: WIDTH, height: HEIGHT, fps: FPS }).map(({ image, timeS }) => ({ image, timeS: startS + timeS }));

interface Asked {
  timeS: number;
  reason: ReadReason;
  quad: Corners;
}

/** Follows the frames as inference does, reading at once whatever the tracker asks for; returns what it asked, when. */
async function followAndRead(detector: TextDetector, frames: { image: ImageView; timeS: number }[]): Promise<Asked[]> {
  const tracker = new LineTracker();
  const asked: Asked[] = [];
  for (const { image, timeS } of frames) {
    const quads = (await detector.detect(image)).boxes.map((box) => box.points as Corners);
    const step = tracker.track(image, quads, timeS * 1000);
    step.begin(step.toRead)(step.toRead.map(() => ({ text: 'read', score: 0.9 })));
    asked.push(...step.toRead.map(({ index, reason }) => ({ timeS, reason, quad: quads[index] })));
  }
  return asked;
}

/** A box whose top-left corner is within 12 pixels of where the demo's script drew that line. */
const at = ([x, y]: [number, number]) => (asked: Asked) => Math.abs(asked.quad[0][0] - x) <= 12 && Math.abs(asked.quad[0][1] - y) <= 12;

/** Lines of the demo's signs that stay as they are for the whole video (the script's drawtext positions). */
const STILL_LINES: [number, number][] = [
  [374, 160], // BUS 42  Central
  [374, 234], // Platform 4
  [40, 370], // + PHARMACY
  [40, 404], // open 24h - ring bell
  [50, 86], // Espresso - Pastries - Wifi
];

let detector: TextDetector;
beforeAll(async () => {
  detector = await loadTextDetector({ preset: 'default', modelsDir: join(ROOT, 'models'), threads: 1, streams: 1, useTensorRt: false, log: { info: () => undefined, warn: () => undefined } });
}, 60_000);
afterAll(() => detector.backend.dispose());

describe("the demo's signs, followed as inference follows them", () => {
  // The look is compared every lookEveryMs (200) once rereadMs (1 s) has passed since the read; a frame is 100 ms.
  const noticedWithinS = 0.2 + 0.1 + 0.05;

  /** What was asked of the line drawn at `position` after its first read: one re-read, as it changed at `changedAtS`. */
  function expectReadAgainOnceChanged(asked: Asked[], position: [number, number], changedAtS: number): void {
    const [first, ...again] = asked.filter(at(position));
    expect(first.reason).toBe('new');
    expect(again.map(({ reason }) => reason)).toEqual(['changed']);
    expect(again[0].timeS).toBeGreaterThanOrEqual(changedAtS);
    expect(again[0].timeS).toBeLessThanOrEqual(changedAtS + noticedWithinS);
  }

  it('re-reads the bus board the moment its countdown goes from 3 min to 2 min, and no line of a sign that stays', async () => {
    const asked = await followAndRead(detector, demoFrames(6.5, 3));
    expectReadAgainOnceChanged(asked, [374, 199], 8);
    // Found and read once (new), then carried: box jitter and the video's noise are no change.
    for (const line of STILL_LINES) expect(asked.filter(at(line)).map(({ reason }) => reason)).toEqual(['new']);
  }, 60_000);

  it('re-reads the fuel price the moment it goes from 1.89 to 1.94', async () => {
    expectReadAgainOnceChanged(await followAndRead(detector, demoFrames(10.5, 3)), [40, 239], 12);
  }, 60_000);
});
