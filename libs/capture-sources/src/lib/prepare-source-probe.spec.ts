import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { take } from '../test-support/decoders';
import { prepareSource } from './prepare-source';

jest.setTimeout(20_000);

const DEMO_VIDEO = join(__dirname, '../../../../assets/demo/demo.mp4');

// A file of its own: fluent-ffmpeg takes one ffmpeg per process, and this one's ffprobe counts its runs.
describe('prepareSource on a video file', () => {
  let dir: string;
  /** Runs of ffprobe on the file, its version checks left out. */
  const ffprobeRuns = () =>
    readFileSync(join(dir, 'ffprobe-runs'), 'utf8')
      .split('\n')
      .filter((args) => args.includes(DEMO_VIDEO)).length;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'prepare-source-probe-'));
    // The real ffmpeg, and the real ffprobe beside it (where a given ffmpeg's ffprobe is looked for), counting its runs.
    const which = (tool: string) => execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    symlinkSync(which('ffmpeg'), join(dir, 'ffmpeg'));
    writeFileSync(join(dir, 'ffprobe'), `#!/bin/sh\necho "$*" >> '${join(dir, 'ffprobe-runs')}'\nexec '${which('ffprobe')}' "$@"\n`);
    chmodSync(join(dir, 'ffprobe'), 0o755);
    writeFileSync(join(dir, 'ffprobe-runs'), '');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("hands its probe to the first source, which starts without probing again; a later source (a restart) probes afresh", async () => {
    const prepared = await prepareSource({ source: DEMO_VIDEO, fps: 0, width: 0, height: 0, crop: '' }, { ffmpegPath: join(dir, 'ffmpeg'), realtime: false }, { setting: 'CAMERA_PATH' });
    const probedToPrepare = ffprobeRuns();

    const [first] = await take(prepared.create(), 1);
    const probedToStart = ffprobeRuns();
    const [restarted] = await take(prepared.create(), 1);

    expect([probedToPrepare, probedToStart, ffprobeRuns()]).toEqual([1, 1, 2]);
    expect([first.header.width, first.header.height]).toEqual([restarted.header.width, restarted.header.height]);
  });
});
