import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { IgnoredRegions } from '@iev/detection-pipeline';
import { detect } from './detect';
import { seedDetectorFixture, WORKSPACE_ROOT } from '../seed-detector.fixture';

jest.setTimeout(120_000);

const { workDir, detector } = seedDetectorFixture('cli-detect-');

describe('detect', () => {
  it('goes on past a file it cannot read, and fails at the end naming each such file and why', async () => {
    const good = [join(WORKSPACE_ROOT, 'testdata/text-frames/dev-b/frame_000.png'), join(WORKSPACE_ROOT, 'testdata/text-frames/dev-a/frame_003.png')];
    const missing = join(workDir, 'missing.png');
    const notAnImage = join(workDir, 'notes.jpg');
    writeFileSync(notAnImage, 'not a picture\n');
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));

    const run = detect(detector(), undefined, [good[0], missing, notAnImage, good[1]], { json: true }, out);

    await expect(run).rejects.toThrow(new RegExp(`^2 of 4 files failed:\\n  file not found: ${missing}\\n  .*${notAnImage}`));
    expect(lines.map((line) => (JSON.parse(line) as { source: string }).source)).toEqual(good);
  });

  it('counts one box in the singular, and none in the plural', async () => {
    const picture = (name: string, filter: string) => {
      const file = join(workDir, name);
      execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=white:size=480x160,${filter}`, '-frames:v', '1', file]);
      return file;
    };
    const oneWord = picture('one-word.png', 'drawtext=font=DejaVu Sans:text=EXIT:fontsize=72:x=150:y=45');
    const blank = picture('blank.png', 'null');
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));

    await detect(detector(), undefined, [oneWord, blank], { json: false }, out);

    expect(text).toContain(`${oneWord} #0 480x160: 1 box (`);
    expect(text).toContain(`${blank} #0 480x160: 0 boxes (`);
  });

  it('leaves out the boxes centred in --ignore-regions, and says how many', async () => {
    const file = join(workDir, 'two-words.png');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=white:size=480x320,drawtext=font=DejaVu Sans:text=EXIT:fontsize=72:x=150:y=20,drawtext=font=DejaVu Sans:text=EXIT:fontsize=72:x=150:y=220', '-frames:v', '1', file]);
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));

    // The top half, in fractions of the picture: the upper word's box.
    await detect(detector(), undefined, [file], { json: true, ignored: IgnoredRegions.fromText(JSON.stringify({ '*': [[0, 0, 1, 0.5]] })) }, out);

    const { boxes, ignored } = JSON.parse(text) as { boxes: { points: [number, number][] }[]; ignored: number };
    expect(ignored).toBe(1);
    expect(boxes).toHaveLength(1);
    expect(boxes[0].points[0][1]).toBeGreaterThan(160);
  });
});
