// What a sign that changes shows while its re-read waits, what steady signs show, and what the line tracker costs a
// frame: the demo video as still, shaken, panning and small cameras see it (DEMO_VIEWS) and a crossfade, through the
// real `default` detector (boxes detected once per video, view and rate, kept in tmp/sign-change-display/), then followed by the tracker with a reader whose reads come back 1 s and 2.5 s
// after they were asked for (a slow board), each giving the line's true text in the frame it was cut from.
//   SWC_NODE_PROJECT=tsconfig.base.json TS_NODE_PROJECT=tsconfig.base.json \
//     node -r @swc-node/register -r tsconfig-paths/register tools/scripts/sign-change-display.ts [fps]
// fps: frames a second taken from the videos (default 30, their own rate). Compare trackers by running it on each.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTextDetector } from '@iev/detection-pipeline';
import { LineTracker, type Corners } from '@iev/text-recognition';
import {
  DEMO_CHANGING_LINES,
  DEMO_STEADY_LINES,
  DEMO_VIDEO,
  DEMO_VIEWS,
  decodeFrames,
  detectFrames,
  followWithReader,
  tallyLine,
  type DemoView,
  type DetectedFrame,
  type SignLine,
  type VideoFrame,
} from '../../libs/detection-pipeline/src/test-support/demo-signs';

const ROOT = join(__dirname, '../..');
const CACHE = join(ROOT, 'tmp/sign-change-display');
const [WIDTH, HEIGHT] = [640, 480];
const READERS_S = [1, 2.5];
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

/** The crossfade: two signs whose text fades into another over FADE_S from FADE_AT_S, in view from the start. */
const FADE_AT_S = 16;
const FADE_S = 1.5;
/** Until halfway through the fade a reader reads the old text, after it the new. */
const fading = (name: string, centre: [number, number], before: string, after: string): SignLine => ({
  name,
  centre,
  reach: [20, 10],
  textAt: (t) => (t < FADE_AT_S + FADE_S / 2 ? before : after),
});
const CROSSFADE_LINES: readonly SignLine[] = [fading('price', [150, 170], 'FUEL 1.89', 'FUEL 1.94'), fading('door', [150, 300], 'DOOR OPEN', 'DOOR SHUT')];

/** Renders the crossfade video: its lines read before and after, each image noisy as a camera's, 24 s at 30 fps. */
function renderCrossfade(path: string): void {
  const sign = (price: string, door: string) =>
    `color=c=0x1c2630:s=${WIDTH}x${HEIGHT}:r=30:d=24,drawbox=x=50:y=140:w=220:h=60:color=0x0b5394:t=fill,` +
    `drawtext=fontfile=${FONT}:text='${price}':fontsize=36:fontcolor=white:x=160-tw/2:y=152,` +
    `drawtext=fontfile=${FONT}:text='${door}':fontsize=36:fontcolor=0xffb000:x=160-tw/2:y=282`;
  const made = spawnSync('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', sign('FUEL 1.89', 'DOOR OPEN'), '-f', 'lavfi', '-i', sign('FUEL 1.94', 'DOOR SHUT')],
    ...['-filter_complex', `[0][1]xfade=transition=fade:duration=${FADE_S}:offset=${FADE_AT_S},noise=alls=12:allf=t+u,format=yuv420p`],
    ...['-t', '24', '-c:v', 'libx264', '-crf', '28', path],
  ]);
  if (made.status !== 0) throw new Error(`ffmpeg could not render the crossfade: ${made.stderr}`);
}

/** The video's frames at `fps` as `view` sees it, with the default detector's boxes, detected once and cached. */
async function detected(path: string, name: string, fps: number, view: DemoView = DEMO_VIEWS[0]): Promise<DetectedFrame[]> {
  const frames: VideoFrame[] = decodeFrames(path, view.width, view.height, fps, 0, undefined, view.filters);
  const cached = join(CACHE, `${name}-${fps}fps.json`);
  if (existsSync(cached)) {
    const quads: Corners[][] = JSON.parse(readFileSync(cached, 'utf8'));
    return frames.map((frame, k) => ({ ...frame, quads: quads[k] }));
  }
  const detector = await loadTextDetector({ preset: 'default', modelsDir: join(ROOT, 'models'), threads: 1, streams: 1, useTensorRt: false, log: { info: () => undefined, warn: () => undefined } });
  const started = performance.now();
  const result = await detectFrames(detector, frames);
  await detector.backend.dispose();
  process.stderr.write(`${name}: ${frames.length} frames detected in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  writeFileSync(cached, JSON.stringify(result.map(({ quads }) => quads)));
  return result;
}

/** Seconds from the fade's end until each fading line stops showing its old text for good. */
function oldTextAfterFade(frames: readonly DetectedFrame[], readerS: number): string {
  const { shown } = followWithReader(new LineTracker(), frames, CROSSFADE_LINES, readerS);
  const fadeEndS = FADE_AT_S + FADE_S;
  return CROSSFADE_LINES.map((line) => {
    const old = line.textAt(0);
    const lastOld = shown.filter((box) => box.line === line && box.text === old).reduce((last, { timeS }) => Math.max(last, timeS), -Infinity);
    const endS = frames[frames.length - 1].timeS;
    const lag = lastOld >= endS ? `>= ${(endS - fadeEndS).toFixed(2)} s (to the video's end)` : `${(lastOld - fadeEndS).toFixed(2)} s`;
    return `${line.name} ${lag}`;
  }).join(', ');
}

async function main(fps = 30): Promise<void> {
  mkdirSync(CACHE, { recursive: true });
  const crossfadePath = join(CACHE, 'crossfade.mp4');
  if (!existsSync(crossfadePath)) renderCrossfade(crossfadePath);
  const crossfade = await detected(crossfadePath, 'crossfade', fps);
  const views = new Map<DemoView, DetectedFrame[]>();
  for (const view of DEMO_VIEWS) views.set(view, await detected(DEMO_VIDEO, `demo-${view.name}`, fps, view));
  const demo = views.get(DEMO_VIEWS[0]) as DetectedFrame[];
  for (const readerS of READERS_S) {
    process.stdout.write(`reader ${readerS} s, ${fps} fps:\n`);
    for (const [view, frames] of views) {
      const { shown } = followWithReader(new LineTracker(), frames, [...DEMO_CHANGING_LINES, ...DEMO_STEADY_LINES], readerS, view);
      const tally = (lines: readonly SignLine[], field: 'wrong' | 'withoutText') => {
        const tallies = lines.map((line) => tallyLine(shown, line));
        const total = tallies.reduce((sum, counts) => sum + counts[field], 0);
        return `${total} (${lines.map((line, k) => `${line.name} ${tallies[k][field]}/${tallies[k].frames}`).join(', ')})`;
      };
      process.stdout.write(`  demo ${view.name}: wrong text ${tally(DEMO_CHANGING_LINES, 'wrong')}\n`);
      process.stdout.write(`    without text, changing ${tally(DEMO_CHANGING_LINES, 'withoutText')}\n`);
      process.stdout.write(`    without text, steady ${tally(DEMO_STEADY_LINES, 'withoutText')}\n`);
    }
    process.stdout.write(`  crossfade over ${FADE_S} s, old text after it ends: ${oldTextAfterFade(crossfade, readerS)}\n`);
  }
  // Instant reads: the tracker's own cost, as on a fast reader. Demo timestamps at 30 fps, whatever rate was decoded.
  const at30 = demo.map((frame, k) => ({ ...frame, timeS: k / 30 }));
  const boxes = demo.reduce((sum, { quads }) => sum + quads.length, 0) / demo.length;
  const runs = Array.from({ length: 5 }, () => followWithReader(new LineTracker(), at30, DEMO_CHANGING_LINES, 0).trackerCpuMs / demo.length).sort((a, b) => a - b);
  process.stdout.write(`tracker CPU a frame (instant reads, ${boxes.toFixed(1)} boxes a frame, 30 fps timestamps, 5 runs): median ${runs[2].toFixed(3)} ms (${runs.map((ms) => ms.toFixed(3)).join(', ')})\n`);
}

void main(process.argv[2] ? Number(process.argv[2]) : undefined);
