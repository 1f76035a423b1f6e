import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { IgnoredRegions } from '@iev/detection-pipeline';
import { DETECTION_COLOUR, PREDICTION_COLOUR, REGION_SHADE, TRUTH_COLOUR, type Rgb } from '@iev/frame-annotation';
import type { DetectedBox } from '@iev/frame-protocol';
import { readTextFrameSet } from '@iev/text-detection';
import { detect } from './detect';
import { evaluate } from './evaluate';
import { seedDetectorFixture, WORKSPACE_ROOT } from '../seed-detector.fixture';

jest.setTimeout(120_000);

const root = WORKSPACE_ROOT;
const devB = join(root, 'testdata/text-frames/dev-b');
const { workDir, detector } = seedDetectorFixture('cli-annotate-');

async function decode(path: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(readFileSync(path)).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The decoded pixel at the middle of a quad's top edge (under the outline drawn along it). */
function topEdgeColour(image: { data: Buffer; width: number }, points: readonly (readonly number[])[]): Rgb {
  const x = Math.floor((points[0][0] + points[1][0]) / 2);
  const y = Math.floor((points[0][1] + points[1][1]) / 2);
  const i = (y * image.width + x) * 3;
  return [image.data[i], image.data[i + 1], image.data[i + 2]];
}
const near = (a: Rgb, b: Rgb) => a.every((value, c) => Math.abs(value - b[c]) < 48);

function pixelAt(image: { data: Buffer; width: number }, x: number, y: number): Rgb {
  const i = (y * image.width + x) * 3;
  return [image.data[i], image.data[i + 1], image.data[i + 2]];
}

/** White paper under REGION_SHADE's fill. */
const shadedWhite = ((): Rgb => {
  const [red, green, blue, alpha] = (REGION_SHADE.fill.match(/[\d.]+/g) ?? []).map(Number);
  const overWhite = (value: number) => Math.round(value * alpha + 255 * (1 - alpha));
  return [overWhite(red), overWhite(green), overWhite(blue)];
})();

/** A 480x320 white picture with EXIT written twice, in its top half and in its bottom half. */
function writeTwoExits(path: string): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=white:size=480x320,drawtext=font=DejaVu Sans:text=EXIT:fontsize=72:x=150:y=20,drawtext=font=DejaVu Sans:text=EXIT:fontsize=72:x=150:y=220', '-frames:v', '1', path]);
}
/** The top half, in fractions of the picture: the upper word's box is left out. */
const topHalfIgnored = () => IgnoredRegions.fromText(JSON.stringify({ '*': [[0, 0, 1, 0.5]] }));

/** Blank paper of writeTwoExits' picture read shaded inside the top half (left and right of the upper word) and white outside it (beside the lower word). */
function expectTopHalfShaded(written: { data: Buffer; width: number }): void {
  expect([[40, 80], [440, 120], [20, 10]].map(([x, y]) => near(pixelAt(written, x, y), shadedWhite) && !near(pixelAt(written, x, y), [255, 255, 255]))).toEqual([true, true, true]);
  expect([[40, 240], [440, 200], [20, 300]].map(([x, y]) => near(pixelAt(written, x, y), [255, 255, 255]) && !near(pixelAt(written, x, y), shadedWhite))).toEqual([true, true, true]);
}

type GroundTruthFrame = { file: string; width: number; height: number; items: { quad: number[][] }[] };
const devBFrames = () => (JSON.parse(readFileSync(join(devB, 'gt.json'), 'utf8')) as { frames: GroundTruthFrame[] }).frames;

describe('detect --annotate', () => {
  it('writes each image, and each frame of a video, with the boxes it reports drawn, at the input size', async () => {
    const clip = join(workDir, 'clip.mp4');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-frames:v', '3', '-pix_fmt', 'yuv420p', clip]);
    const images = [join(devB, 'frame_000.png'), join(root, 'testdata/text-frames/dev-a/frame_003.png')];
    const annotateDir = join(workDir, 'detect');
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));

    await detect(detector(), undefined, [...images, clip], { json: true, annotateDir }, out);

    expect(readdirSync(annotateDir).sort()).toEqual(['clip-000000.jpg', 'clip-000001.jpg', 'clip-000002.jpg', 'frame_000.jpg', 'frame_003.jpg']);
    const reported = lines.map((line) => JSON.parse(line) as { source: string; frame: number; width: number; height: number; boxes: DetectedBox[] });
    expect(reported.map(({ width, height }) => `${width}x${height}`)).toEqual(['1280x720', '640x480', '320x240', '320x240', '320x240']);
    for (const { source, frame, width, height, boxes } of reported) {
      const name = basename(source, extname(source));
      const written = await decode(join(annotateDir, source === clip ? `${name}-00000${frame}.jpg` : `${name}.jpg`));
      expect([written.width, written.height]).toEqual([width, height]);
      for (const box of boxes) expect(near(topEdgeColour(written, box.points), DETECTION_COLOUR)).toBe(true);
    }
    expect(reported[0].boxes.length).toBeGreaterThan(3);
  });

  it('shades the --ignore-regions as the preview does: a box missing there was left out on purpose', async () => {
    const file = join(workDir, 'two-exits.png');
    writeTwoExits(file);
    const annotateDir = join(workDir, 'shaded');
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));

    await detect(detector(), undefined, [file], { json: true, annotateDir, ignored: topHalfIgnored() }, out);

    const { boxes, ignored } = JSON.parse(text) as { boxes: DetectedBox[]; ignored: number };
    const written = await decode(join(annotateDir, 'two-exits.jpg'));
    expect({ ignored, kept: boxes.length }).toEqual({ ignored: 1, kept: 1 });
    expectTopHalfShaded(written);
    expect(near(topEdgeColour(written, boxes[0].points), DETECTION_COLOUR)).toBe(true);
  });

  it("writes each page of a multi-page TIFF apart, the first under the file's own name", async () => {
    const pages = join(workDir, 'pages.tif');
    const page = await sharp(join(devB, 'frame_000.png')).png().toBuffer();
    await sharp([page, page], { join: { animated: true } }).tiff().toFile(pages);
    const annotateDir = join(workDir, 'pages');

    await detect(detector(), undefined, [pages], { json: true, annotateDir }, new PassThrough());

    expect(readdirSync(annotateDir).sort()).toEqual(['pages-000001.jpg', 'pages.jpg']);
  });

  it('stops before one input overwrites another of the same name', async () => {
    const copy = join(workDir, 'frame_000.png');
    copyFileSync(join(devB, 'frame_000.png'), copy);
    const annotateDir = join(workDir, 'same-name');
    await expect(detect(detector(), undefined, [join(devB, 'frame_000.png'), copy], { json: true, annotateDir }, new PassThrough())).rejects.toThrow(
      `--annotate: ${join(devB, 'frame_000.png')} and ${copy} would both be written to ${join(annotateDir, 'frame_000.jpg')}`,
    );
  });

  it('refuses to write over an input, by whatever path it was given, before it is read or after', async () => {
    const dir = join(workDir, 'photos');
    mkdirSync(dir);
    const photo = join(dir, 'photo.jpg');
    await sharp(join(devB, 'frame_000.png')).jpeg().toFile(photo);
    const clip = join(dir, 'clip.mp4');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-frames:v', '1', '-pix_fmt', 'yuv420p', clip]);
    const clipFrame = join(dir, 'clip-000000.jpg'); // the name the clip's first frame is written under
    copyFileSync(photo, clipFrame);
    symlinkSync(dir, join(workDir, 'photos-link'));
    const viaLink = join(workDir, 'photos-link/photo.jpg');
    const detectInto = (files: string[]) => detect(detector(), undefined, files, { json: true, annotateDir: dir }, new PassThrough());
    const original = readFileSync(photo);

    await expect(detectInto([photo])).rejects.toThrow(`--annotate: ${photo} would be written to ${photo}, over the input ${photo}: give --annotate another folder`);
    await expect(detectInto([viaLink])).rejects.toThrow(`--annotate: ${viaLink} would be written to ${photo}, over the input ${viaLink}`);
    await expect(detectInto([clip, clipFrame])).rejects.toThrow(`--annotate: ${clip} would be written to ${clipFrame}, over the input ${clipFrame}`);
    for (const input of [photo, clipFrame]) expect(readFileSync(input).equals(original)).toBe(true);
  });
});

describe('eval --annotate', () => {
  it('writes each frame of the set with its ground truth and predictions drawn in their colours', async () => {
    // Two frames of dev-b, as a set of their own.
    const setDir = join(workDir, 'set');
    const annotateDir = join(workDir, 'eval');
    const frames = devBFrames().slice(0, 2);
    mkdirSync(setDir);
    for (const frame of frames) copyFileSync(join(devB, frame.file), join(setDir, frame.file));
    writeFileSync(join(setDir, 'gt.json'), JSON.stringify({ frames }));

    const report = await evaluate(detector(), undefined, setDir, readTextFrameSet(setDir), { annotateDir });

    expect(readdirSync(annotateDir).sort()).toEqual(frames.map((frame) => frame.file.replace('.png', '.jpg')));
    for (const frame of frames) {
      const written = await decode(join(annotateDir, frame.file.replace('.png', '.jpg')));
      expect([written.width, written.height]).toEqual([frame.width, frame.height]);
      // Every true line was found (recall 1 below): its outline, or the prediction's drawn over it, is there.
      for (const { quad } of frame.items) {
        const colour = topEdgeColour(written, quad);
        expect(near(colour, TRUTH_COLOUR) || near(colour, PREDICTION_COLOUR) ? 'outlined' : `${colour} at ${quad[0]}`).toBe('outlined');
      }
    }
    expect(report.ours.recall).toBe(1);
  });

  it('shades the --ignore-regions as detect does: the lines under them are missed on purpose', async () => {
    const setDir = join(workDir, 'two-exits-set');
    mkdirSync(setDir);
    writeTwoExits(join(setDir, 'two-exits.png'));
    // Each word's quad, drawn at y=20 and y=220 in 72 px DejaVu Sans.
    const quad = (top: number) => [[150, top + 10], [330, top + 10], [330, top + 65], [150, top + 65]];
    writeFileSync(join(setDir, 'gt.json'), JSON.stringify({ frames: [{ file: 'two-exits.png', width: 480, height: 320, items: [{ quad: quad(20) }, { quad: quad(220) }] }] }));
    const annotateDir = join(workDir, 'eval-shaded');

    const report = await evaluate(detector(), undefined, setDir, readTextFrameSet(setDir), { annotateDir, ignored: topHalfIgnored() });

    const written = await decode(join(annotateDir, 'two-exits.jpg'));
    expect({ ignored: report.ignored, recall: report.ours.recall }).toEqual({ ignored: 1, recall: 0.5 });
    expectTopHalfShaded(written);
    // The lower word's line, found: its outline, or the prediction's drawn over it.
    const colour = topEdgeColour(written, quad(220));
    expect(near(colour, TRUTH_COLOUR) || near(colour, PREDICTION_COLOUR)).toBe(true);
  });

  it("refuses to write over the set's own frames", async () => {
    // dev-b's first frame as a set of JPEG frames: --annotate into the set would write frame_000.jpg over itself.
    const setDir = join(workDir, 'jpeg-set');
    mkdirSync(setDir);
    const [frame] = devBFrames();
    const image = join(setDir, 'frame_000.jpg');
    await sharp(join(devB, frame.file)).jpeg().toFile(image);
    writeFileSync(join(setDir, 'gt.json'), JSON.stringify({ frames: [{ ...frame, file: 'frame_000.jpg' }] }));
    const original = readFileSync(image);

    await expect(evaluate(detector(), undefined, setDir, readTextFrameSet(setDir), { annotateDir: setDir })).rejects.toThrow(
      `--annotate: ${image} would be written to ${image}, over the input ${image}`,
    );
    expect(readFileSync(image).equals(original)).toBe(true);
  });
});
