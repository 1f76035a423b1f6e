// Test support (the demo-sign specs and tools/scripts/sign-change-display.ts), not part of the library's API: the
// demo video's signs, what each says when, and a reader under load to follow them with.
import { join } from 'node:path';
import { videoFrames, type VideoFrame } from '@iev/testing';
export type { VideoFrame };
import type { Corners, LineTracker, ReadText } from '@iev/text-recognition';
import type { TextDetector } from '../lib/text-detector';

/** The demo video (tools/demo-video/make-demo-video.sh draws it): 640x480, 30 frames a second, 24 s. */
export const DEMO_VIDEO = join(__dirname, '../../../../assets/demo/demo.mp4');


/** A frame with the boxes the detector found in it. */
export interface DetectedFrame extends VideoFrame {
  quads: Corners[];
}

/** A video's frames at `fps` as BGR images `width` x `height` (after `filters`), from `startS` for `seconds` (unset: to its end). */
export function decodeFrames(path: string, width: number, height: number, fps: number, startS = 0, seconds?: number, filters: readonly string[] = []): VideoFrame[] {
  const span = [...(startS > 0 ? ['-ss', String(startS)] : []), ...(seconds ? ['-t', String(seconds)] : [])];
  // Filters see the video's own time (t), not time since startS.
  const shifted = filters.length > 0 && startS > 0 ? [`setpts=PTS-STARTPTS+${startS}/TB`, ...filters] : filters;
  return videoFrames([...span, '-i', path], { width, height, fps, filters: shifted }).map(({ image, timeS }) => ({ image, timeS: startS + timeS }));
}

/** Each frame's boxes from the detector, one frame at a time. */
export async function detectFrames(detector: TextDetector, frames: readonly VideoFrame[]): Promise<DetectedFrame[]> {
  const detected: DetectedFrame[] = [];
  for (const frame of frames) detected.push({ ...frame, quads: (await detector.detect(frame.image)).boxes.map((box) => box.points as Corners) });
  return detected;
}

/** A line of a sign: where its box's centre is (within `reach` pixels), and what it says at a time of the video. */
export interface SignLine {
  name: string;
  centre: [number, number];
  reach: [number, number];
  textAt: (timeS: number) => string;
}

const steady = (name: string, centre: [number, number], reach: [number, number] = [15, 8]): SignLine => ({ name, centre, reach, textAt: () => name });

/** The demo's lines that change (the script's `enable` times): OPEN/CLOSED every few seconds, the countdown, the price. */
export const DEMO_CHANGING_LINES: readonly SignLine[] = [
  // CLOSED is wider than OPEN: its box grows, and its centre moves right.
  { name: 'OPEN/CLOSED', centre: [123, 167], reach: [30, 10], textAt: (t) => (t % 6 < 4 ? 'OPEN' : 'CLOSED') },
  { name: 'bus countdown', centre: [472, 210], reach: [20, 8], textAt: (t) => (t < 8 ? 'arrives in 3 min' : t < 16 ? 'arrives in 2 min' : 'NOW BOARDING') },
  // The same size before and after: only its look tells.
  { name: 'fuel price', centre: [140, 253], reach: [15, 8], textAt: (t) => (t < 12 ? 'FUEL 1.89' : 'FUEL 1.94') },
];

/** The demo's lines that say the same all video long; MAIN ST sways a few degrees back and forth. */
export const DEMO_STEADY_LINES: readonly SignLine[] = [
  steady('BUS 42', [424, 172]),
  steady('Central', [534, 174]),
  steady('Platform 4', [434, 244]),
  steady('+ PHARMACY', [152, 384]),
  steady('open 24h - ring bell', [139, 414]),
  steady('Espresso - Pastries - Wifi', [180, 96], [30, 8]),
  steady('max 2h', [507, 114]),
  steady('MAIN ST', [479, 394], [15, 10]),
];

/**
 * How a camera saw the demo: the picture's size, the ffmpeg filters applied to the demo before it is scaled to that
 * size, and where a point of that picture at a time was in the demo.
 */
export interface DemoView {
  name: string;
  width: number;
  height: number;
  filters: string[];
  toDemo: (point: [number, number], timeS: number) => [number, number];
}

/** The demo cropped to `width` x `height` from a corner that moves with time (`x`, `y`: ffmpeg expressions of t), scaled back to 640x480. */
function movingCrop(name: string, width: number, height: number, x: (t: string) => string, y: (t: string) => string, at: (timeS: number) => [number, number]): DemoView {
  return {
    name,
    width: 640,
    height: 480,
    filters: [`crop=w=${width}:h=${height}:x='${x('t')}':y='${y('t')}':exact=1`],
    toDemo: ([px, py], timeS) => [(px * width) / 640 + at(timeS)[0], (py * height) / 480 + at(timeS)[1]],
  };
}

/**
 * The demo as cameras that move see it: still, shaken sideways 20 pixels at 0.5 Hz (a mount in the wind), panned 1.7 pixels a
 * second, and at 480x360 (small print, whose boxes flip between whole-pixel sizes).
 */
export const DEMO_VIEWS: readonly DemoView[] = [
  { name: 'still', width: 640, height: 480, filters: [], toDemo: (point) => point },
  movingCrop('shaken', 576, 432, (t) => `32+20*sin(PI*${t})`, () => '24', (t) => [32 + 20 * Math.sin(Math.PI * t), 24]),
  movingCrop('pan', 584, 438, (t) => `8+1.7*${t}`, () => '21', (t) => [8 + 1.7 * t, 21]),
  { name: '480x360', width: 480, height: 360, filters: [], toDemo: ([x, y]) => [x / 0.75, y / 0.75] },
];

/** The line of `lines` whose centre the box's is near, the box seen through `view` at `timeS`. */
export function lineOfBox(lines: readonly SignLine[], quad: Corners, view: DemoView = DEMO_VIEWS[0], timeS = 0): SignLine | undefined {
  const [x, y] = view.toDemo([quad.reduce((sum, [px]) => sum + px, 0) / 4, quad.reduce((sum, [, py]) => sum + py, 0) / 4], timeS);
  return lines.find(({ centre, reach }) => Math.abs(x - centre[0]) <= reach[0] && Math.abs(y - centre[1]) <= reach[1]);
}

/** What one box of one frame showed. */
export interface Shown {
  timeS: number;
  line?: SignLine;
  text?: string;
}

export interface Following {
  shown: Shown[];
  /** The tracker's CPU time (process.cpuUsage: track() and begin()), over the frames followed. */
  trackerCpuMs: number;
}

/**
 * Follows the frames with `tracker` and a reader under load: every read asked for comes back `readerS` after it was
 * asked (0: at once), saying what the line at that box (seen through `view`) said in the frame it was cut from (`lines`' text then; 'another
 * line' for a box of none of them), as a reader that never misreads would. Timestamps are the frames' own.
 */
export function followWithReader(tracker: LineTracker, frames: readonly DetectedFrame[], lines: readonly SignLine[], readerS: number, view: DemoView = DEMO_VIEWS[0]): Following {
  const underWay: { dueS: number; finish: (reads: readonly ReadText[]) => void; reads: ReadText[] }[] = [];
  const shown: Shown[] = [];
  let trackerCpuUs = 0;
  for (const { image, timeS, quads } of frames) {
    while (underWay.length > 0 && underWay[0].dueS <= timeS + 1e-6) {
      const { finish, reads } = underWay.shift() as (typeof underWay)[number];
      finish(reads);
    }
    const cpuBefore = process.cpuUsage();
    const step = tracker.track(image, quads, timeS * 1000);
    const finish = step.begin(step.toRead);
    const cpu = process.cpuUsage(cpuBefore);
    trackerCpuUs += cpu.user + cpu.system;
    const reads = step.toRead.map(({ index }) => ({ text: lineOfBox(lines, quads[index], view, timeS)?.textAt(timeS) ?? 'another line', score: 0.9 }));
    if (readerS > 0) underWay.push({ dueS: timeS + readerS, finish, reads });
    else finish(reads);
    quads.forEach((quad, index) => shown.push({ timeS, line: lineOfBox(lines, quad, view, timeS), text: step.texts[index]?.text }));
  }
  return { shown, trackerCpuMs: trackerCpuUs / 1000 };
}

/** How a line was shown: frames it was in, frames with a text it did not say then, frames without text after its first. */
export interface LineTally {
  frames: number;
  wrong: number;
  withoutText: number;
}

export function tallyLine(shown: readonly Shown[], line: SignLine): LineTally {
  const frames = shown.filter((box) => box.line === line);
  const firstText = frames.findIndex(({ text }) => text !== undefined);
  return {
    frames: frames.length,
    wrong: frames.filter(({ timeS, text }) => text !== undefined && text !== line.textAt(timeS)).length,
    withoutText: firstText < 0 ? frames.length : frames.slice(firstText).filter(({ text }) => text === undefined).length,
  };
}
