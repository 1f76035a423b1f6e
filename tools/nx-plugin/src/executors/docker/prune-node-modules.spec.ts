import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { WORKSPACE_ROOT } from '../../testing/executor-context';

// docker/prune-node-modules.mjs on the workspace's own installed packages, hard-linked into a scratch folder (the
// script unlinks; the workspace's files stay): the addons must still load from what it leaves.

const SCRIPT = join(WORKSPACE_ROOT, 'docker/prune-node-modules.mjs');
// The two addons, fluent-ffmpeg (it publishes its coverage report), and what they require at load time.
const PACKAGES = ['onnxruntime-node', 'onnxruntime-common', 'zeromq', 'cmake-ts', 'fluent-ffmpeg', 'async', 'which', 'isexe'];
const PLATFORM = `${process.platform}/${process.arch}`;

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(folder, entry.name)) : [join(folder, entry.name)],
  );
}

describe('docker/prune-node-modules.mjs', () => {
  let scratch: string;
  let nodeModules: string;

  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'iev-prune-'));
    nodeModules = join(scratch, 'node_modules');
    mkdirSync(nodeModules);
    execFileSync('cp', ['-al', ...PACKAGES.map((name) => join(WORKSPACE_ROOT, 'node_modules', name)), nodeModules]);
  });

  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  const prune = () => spawnSync(process.execPath, [SCRIPT, nodeModules], { encoding: 'utf8' });

  it(`keeps only this platform's (${PLATFORM}) native binaries, and the addons still load and work`, () => {
    const result = prune();
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout).toMatch(new RegExp(`kept ${PLATFORM}; removed [1-9]\\d*\\.\\d MB of other platforms' binaries`));

    const binaries = filesUnder(nodeModules)
      .map((path) => relative(nodeModules, path))
      .filter((path) => /\.(node|so(\.\d+)*|dll|dylib)$/.test(path));
    expect(binaries.filter((path) => !path.includes(`/${PLATFORM}/`))).toEqual([]);
    expect(binaries).toContain(`onnxruntime-node/bin/napi-v6/${PLATFORM}/onnxruntime_binding.node`);
    expect(existsSync(join(nodeModules, 'zeromq/build/manifest.json'))).toBe(true);

    const loaded = execFileSync(
      process.execPath,
      [
        '-e',
        `const zmq = require('zeromq'); const socket = new zmq.Push(); socket.close();
         const ort = require('onnxruntime-node'); console.log(zmq.version, typeof ort.InferenceSession.create);`,
      ],
      { cwd: scratch, encoding: 'utf8' },
    );
    expect(loaded.trim()).toMatch(/^\d+\.\d+\.\d+ function$/);
  });

  it("drops type declarations, source maps, Markdown and a package's coverage report, but not licences or code", () => {
    expect(existsSync(join(nodeModules, 'fluent-ffmpeg/coverage'))).toBe(true);
    expect(prune().status).toBe(0);
    const names = filesUnder(nodeModules).map((path) => path.split('/').at(-1) ?? '');
    expect(names.filter((name) => /\.(d\.[cm]?ts|map|md)$/.test(name) && !/^licen[cs]e/i.test(name))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['LICENSE.txt', 'package.json']));
    expect(existsSync(join(nodeModules, 'fluent-ffmpeg/coverage'))).toBe(false);
    expect(execFileSync(process.execPath, ['-e', "console.log(typeof require('fluent-ffmpeg'))"], { cwd: scratch, encoding: 'utf8' }).trim()).toBe('function');
  });

  it("stops, naming the folder, when a package has no binaries for this platform", () => {
    rmSync(join(nodeModules, 'onnxruntime-node/bin/napi-v6', PLATFORM), { recursive: true });
    const result = prune();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`onnxruntime-node has no native binaries for ${PLATFORM}: onnxruntime-node/bin/napi-v6/${PLATFORM} is missing`);
  });

  it('stops, saying how to call it, without a node_modules folder', () => {
    const result = spawnSync(process.execPath, [SCRIPT, join(scratch, 'nothing-here')], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('usage: prune-node-modules.mjs <node_modules>');
  });
});
