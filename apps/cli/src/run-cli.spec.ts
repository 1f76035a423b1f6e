// `npm run detect|eval|bench -- ...` called from a folder of the caller's: npm runs tools/scripts/run-cli.mjs in the
// workspace root and names the caller's folder INIT_CWD, as the two cases through it here do; the others run the
// built CLI in the caller's folder, as the wrapper does. None builds: the test target depends on the CLI's build, and
// the wrapper's build runs a stand-in for npx that writes down what it was asked to build and talks as Nx does.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { tensorRtConfigSpec } from '@iev/tensorrt-backend';

jest.setTimeout(180_000);

const root = join(__dirname, '../../..');
const callerDir = mkdtempSync(join(tmpdir(), 'cli-caller-'));
// A name of this run's own: where the CLI, run in the workspace root, would write it there too.
const annotateDir = `annotated-${basename(callerDir)}`;
afterAll(() => {
  rmSync(callerDir, { recursive: true, force: true });
  rmSync(join(root, annotateDir), { recursive: true, force: true });
});

/**
 * Where run-cli.mjs finds npx first: a stand-in that writes down the projects it is asked to build and says something
 * on stdout and stderr, as Nx does, instead of building them again (for real under CI's NX_SKIP_NX_CACHE).
 */
const fakeNpxDir = mkdtempSync(join(tmpdir(), 'cli-npx-'));
const buildsAsked = join(fakeNpxDir, 'builds-asked');
/** The outer Nx run each build was told it belongs to (NX_INVOCATION_ROOT_PID), `none` where it was told none. */
const buildRoots = join(fakeNpxDir, 'build-roots');
writeFileSync(
  join(fakeNpxDir, 'npx'),
  `#!/bin/sh\necho "$*" >> '${buildsAsked}'\necho "\${NX_INVOCATION_ROOT_PID:-none}" >> '${buildRoots}'\necho 'nx: built (stdout)'\necho 'nx: built (stderr)' >&2\n`,
  { mode: 0o755 },
);
afterAll(() => rmSync(fakeNpxDir, { recursive: true, force: true }));

/**
 * run-cli.mjs as `npm run <command> -- <args>` from callerDir runs it, with the stand-in npx: `built` lists the projects
 * each build it ran was for.
 */
function npmRun(command: string, args: string[], env: Record<string, string> = {}) {
  rmSync(buildsAsked, { force: true });
  rmSync(buildRoots, { force: true });
  const run = runToEnd(process.execPath, [join(root, 'tools/scripts/run-cli.mjs'), command, ...args], root, { INIT_CWD: callerDir, PATH: `${fakeNpxDir}:${process.env['PATH']}`, ...env });
  const asked = existsSync(buildsAsked) ? readFileSync(buildsAsked, 'utf8').trim().split('\n') : [];
  const roots = existsSync(buildRoots) ? readFileSync(buildRoots, 'utf8').trim().split('\n') : [];
  return { ...run, built: asked.map((line) => /^nx run-many -t build -p (.+?) --/.exec(line)?.[1].split(' ') ?? [line]), roots };
}

/** The built CLI (the test target depends on its build), run as run-cli.mjs runs it: in the caller's folder. */
function cli(command: string, args: string[]) {
  return runToEnd(process.execPath, [join(root, 'dist/apps/cli/main.js'), command, ...args], callerDir);
}

function runToEnd(file: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const done = spawnSync(file, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { code: done.status, stdout: done.stdout, stderr: done.stderr };
}

describe('npm run detect|eval from another folder', () => {
  it("takes relative paths from the caller's folder, and the models from the workspace; ends with the CLI's exit code and words alone", () => {
    copyFileSync(join(root, 'testdata/text-frames/dev-b/frame_000.png'), join(callerDir, 'photo.png'));

    // Through the wrapper: a file it cannot find as well, so that its failure must reach the caller
    // (exit code, stderr) with nothing of the build's added.
    const { code, stdout, stderr, built } = npmRun('detect', ['--json', '--annotate', annotateDir, 'photo.png', 'missing.png']);

    expect(built).toEqual([['cli']]);
    expect({ code, stderr: stderr.replace(/^ONNX Runtime on the CPU.*\n/, '') }).toEqual({ code: 1, stderr: 'error: 1 of 2 files failed:\n  file not found: missing.png\n' });
    expect(JSON.parse(stdout)).toMatchObject({ source: 'photo.png', width: 1280, height: 720 });
    expect(existsSync(join(callerDir, annotateDir, 'photo.jpg'))).toBe(true);
    expect(existsSync(join(root, annotateDir))).toBe(false);
  });

  it.each([
    [['--preset', 'fast'], '--preset must be one of seed, default (got "fast")'],
    [['--threads', ''], '--threads must be an integer from 0 to 256 (got "")'],
    [['--threads', '0x2'], '--threads must be an integer from 0 to 256 (got "0x2")'],
    [['--min-text-score', ''], '--min-text-score must be a number from 0 to 1 (got "")'],
    [['--annotate', ''], '--annotate needs a folder to write into'],
    [['--annotate', join(root, 'package.json')], `--annotate: ${join(root, 'package.json')} is a file, not a folder`],
    [['--recognition', 'yes'], '--recognition must be one of on, off (got "yes")'],
    [['--lookalikes', 'maybe'], '--lookalikes must be one of auto, on, off (got "maybe")'],
    // Not the loaders' "set REC_MODEL_PATH to the model's full path": the CLI reads no such variable.
    [['--model', 'nothere.onnx'], `--model: no such file: ${join(callerDir, 'nothere.onnx')}`],
    [['--preset', 'default', '--rec-model', 'nothere.onnx'], `--rec-model: no such file: ${join(callerDir, 'nothere.onnx')}`],
    [['--preset', 'default', '--rec-dict', '.'], `--rec-dict: no such file: ${callerDir}`],
  ])('refuses %j, naming the flag, before loading a model', (flags, message) => {
    const { code, stdout, stderr } = cli('detect', [...flags, 'photo.png']);

    expect({ code, stdout, stderr }).toEqual({ code: 1, stdout: '', stderr: `error: ${message}\n` });
  });

  it('names --rec-model and --rec-dict, not the modules\' variables, when the dictionary does not fit the model', () => {
    writeFileSync(join(callerDir, 'short-dict.txt'), 'a\nb\nc\n');

    const { code, stdout, stderr } = cli('detect', ['--preset', 'default', '--rec-dict', 'short-dict.txt', 'photo.png']);

    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toContain(`error: the recognition model ${join(root, 'models/ch_PP-OCRv4_rec_infer.onnx')} (--rec-model) predicts 6625 classes, but the dictionary short-dict.txt (--rec-dict) has 3 characters`);
  });

  it.each([
    ['--model', []],
    ['--rec-model', ['--preset', 'default']],
  ])('names %s, not the modules\' variable, when its file is no ONNX model', (flag, preset) => {
    writeFileSync(join(callerDir, 'notes.onnx'), 'not a model\n');

    const { code, stdout, stderr } = cli('detect', [...preset, flag, 'notes.onnx', 'photo.png']);

    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toMatch(new RegExp(`error: cannot load \\S*notes\\.onnx \\(set by ${flag}\\): it is no ONNX model`));
  });

  it('stops quietly, at its next frame, when what reads its output has read enough (| head)', async () => {
    const clip = join(callerDir, 'clip.mp4');
    spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=10', '-frames:v', '40', '-pix_fmt', 'yuv420p', clip]);
    // The frames it annotates are the frames it detected in.
    const frames = join(callerDir, 'clip-frames');
    const args = ['detect', '--json', '--annotate', frames, 'clip.mp4'];
    const run = spawn(process.execPath, [join(root, 'dist/apps/cli/main.js'), ...args], { cwd: callerDir });
    let stderr = '';
    run.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // The first frame's line, then the reader goes, as head does: every frame after it is written to a closed pipe.
    await once(run.stdout, 'data');
    run.stdout.destroy();

    const [code] = await once(run, 'exit');

    expect({ code, stderr: stderr.replace(/^ONNX Runtime on the CPU.*\n/, '') }).toEqual({ code: 0, stderr: '' });
    expect(readdirSync(frames).length).toBeLessThan(10);
  });

  it('tells what is wrong with a gt.json before loading any model', () => {
    mkdirSync(join(callerDir, 'empty-set'));
    writeFileSync(join(callerDir, 'empty-set/gt.json'), JSON.stringify({ frames: [] }));

    const { code, stderr } = cli('eval', ['empty-set']);

    expect(code).toBe(1);
    expect(stderr).toBe(`error: ${join('empty-set', 'gt.json')} lists no frames\n`);
  });
});

describe('npm run bench', () => {
  // The module apps the bench starts by name, read from the CLI's source; what the wrapper builds, from its build's
  // stand-in, on a command line the CLI refuses at once.
  it('builds the CLI and each module app the bench starts, no other', () => {
    const sources = readdirSync(join(root, 'apps/cli/src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'));
    const started = sources.flatMap((file) => [...readFileSync(join(root, 'apps/cli/src', file), 'utf8').matchAll(/startModule\(\s*[\w.]+,\s*'([\w-]+)'/g)].map(([, app]) => app));

    const { code, built } = npmRun('bench', ['--seconds', '0x10', '--backend', 'none']);

    expect(code).toBe(1);
    expect(started.length).toBeGreaterThan(0);
    expect(built.map((projects) => [...projects].sort())).toEqual([['cli', ...new Set(started)].sort()]);
  });

  // Nx refuses a task already in its root run's table as a loop: a nested build killed mid-way (a spec's timeout)
  // left its tasks there, and the next build of them under the same `nx run-many -t test` failed.
  it("builds in an Nx run of its own, not in the table of the run it was started under", () => {
    const { built, roots } = npmRun('bench', ['--seconds', '0x10', '--backend', 'none'], { NX_INVOCATION_ROOT_PID: '4242' });

    expect({ builds: built.length, roots }).toEqual({ builds: 1, roots: ['none'] });
  });

  // --backend none is refused after these, so no bench starts even where one of them is let through.
  it.each([
    [['--seconds', '0x10'], '--seconds must be a number (got "0x10")'],
    [['--seconds', '0'], '--seconds must be a positive number (got "0")'],
    [['--cameras', '0x2'], '--cameras must be an integer from 1 to 10 (got "0x2")'],
    [['--cameras', '11'], '--cameras must be an integer from 1 to 10 (got "11")'],
  ])('refuses %j, naming the flag, as the modules read their numbers', (flags, message) => {
    const { code, stdout, stderr } = cli('bench', [...flags, '--backend', 'none']);

    expect({ code, stdout, stderr }).toEqual({ code: 1, stdout: '', stderr: `error: ${message}\n` });
  });
});

describe('npm run detect -- --help', () => {
  it('prints the usage for --help in the command\'s place too, without an error', () => {
    const { code, stdout, stderr } = cli('--help', []);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('detect');
  });

  it.each([
    ['detect', ['--bogus', 'a.png'], "Unknown option '--bogus'"],
    ['detect', [], 'detect needs at least one image or video file'],
    ['eval', ['--preset'], "Option '--preset <value>' argument missing"],
    ['eval', [], 'eval needs one folder holding gt.json'],
    ['bench', ['--ignore-regions', '[[0, 0, 1, 0.1]]'], 'bench takes no --ignore-regions: set IGNORE_REGIONS'],
    // Another command's flag, which this one would not read: told, not ignored.
    ['detect', ['--seconds', '5', 'a.png'], 'detect takes no --seconds: bench takes it'],
    ['eval', ['--streams=2', 'frames'], 'eval takes no --streams: bench takes it'],
    ['bench', ['--annotate', 'pictures'], 'bench takes no --annotate: detect and eval take it'],
    // The bench's --batch and --upstream runs read few of its flags: --batch measures both presets' own models.
    ['bench', ['--batch', '1', '--model', 'mine.onnx'], 'bench --batch takes no --model: detect and eval and bench take it'],
    ['bench', ['--upstream', '--seconds', '5'], 'bench --upstream takes no --seconds: bench and bench --batch take it'],
  ])('answers a command line it cannot run (npm run %s -- %j) with where its flags are listed', (command, args, refusal) => {
    const { code, stdout, stderr } = cli(command, args);

    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toMatch(new RegExp(`^error: ${refusal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*\n\\(npm run ${command} -- --help lists every flag\\)\n$`));
  });

  // The README's row of each command, with the paragraph below the table on the flags all commands take, is what a
  // person reads first: a flag the usage lists for the command and the README does not (eval's --backend), or the
  // other way round, is a flag one of them gets wrong.
  it.each(['detect', 'eval'])("lists the flags of %s that the README's row for it, and the paragraph on the CLI's flags, name", (command) => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
    const flagsIn = (text: string) => new Set(text.match(/--[a-z][a-z-]*/g));
    const row = readme.find((line) => line.startsWith(`| \`npm run ${command} -- `)) ?? '';
    const start = readme.findIndex((line) => line.startsWith("The CLI's `--preset`"));
    const paragraph = readme.slice(start, readme.indexOf('', start)).join(' ');
    // A block of the usage is a line and the lines indented under it; the command's are its own, the common flags and
    // those detect and eval share, not the bench's.
    const { stdout } = cli(command, ['--help']);
    const blocks: string[] = [];
    let indent = -1;
    for (const line of stdout.split('\n').slice(1)) {
      const own = line.length - line.trimStart().length;
      if (own > indent && blocks.length > 0) blocks[blocks.length - 1] += `\n${line}`;
      else {
        blocks.push(line);
        indent = own;
      }
    }
    const ofCommand = blocks.filter((block) => new RegExp(`^\\s*(${command}\\b|common:|detect,? (and )?eval)`).test(block));
    // --help, which every command takes and a row may well point to, is the one flag the usage does not list.
    const usage = new Set([...flagsIn(ofCommand.join('\n')), '--help']);
    const inReadme = new Set([...flagsIn(row), ...flagsIn(paragraph)]);

    expect(row).not.toBe('');
    expect({ notInReadme: [...usage].filter((flag) => !inReadme.has(flag)), notInUsage: [...flagsIn(row)].filter((flag) => !usage.has(flag)) }).toEqual({ notInReadme: [], notInUsage: [] });
  });

  it('names every TensorRT variable the CLI reads from the environment', () => {
    const { code, stdout } = cli('detect', ['--help']);

    expect(code).toBe(0);
    const missing = Object.values(tensorRtConfigSpec)
      .flatMap(({ names }) => names)
      .filter((name) => !stdout.includes(name));
    expect(missing).toEqual([]);
  });
});
