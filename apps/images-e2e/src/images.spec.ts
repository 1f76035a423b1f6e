import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The module images, really built: tools/images/build-ci-images.mjs makes the Debian base with debootstrap,
// builds each image through `nx docker --engine buildah`, and runs the three together with `buildah run`
// (docker/README.md, "Building without Docker"). Machines without buildah, debootstrap or root skip it.

const WORKSPACE_ROOT = join(__dirname, '../../..');
const SCRIPT = join(WORKSPACE_ROOT, 'tools/images/build-ci-images.mjs');
const MODULES = ['capture', 'inference', 'telemetry'] as const;
/** buildah's image size ("834 MB", "1.18 GB") in megabytes. */
const megabytes = (size = ''): number => Number.parseFloat(size) * (size.endsWith('GB') ? 1000 : size.endsWith('kB') ? 0.001 : 1);
// A cold build (no base, no layers) takes about 6 minutes on two cores; a warm one about 1.
const BUILD_TIMEOUT_MS = 25 * 60_000;

interface SmokeResult {
  passed: boolean;
  checks: Record<string, unknown> & { healthcheckExitCode?: number };
  exitCode: number | null;
  error?: string;
}
interface ImageEntry {
  module: string;
  arch: string;
  reference: string;
  id: string;
  size: string;
  nodeModules: { packages: string[]; nativeBinaries: string[]; bytes: number };
  smoke: SmokeResult | null;
}
interface Report {
  timings: Record<string, number>;
  images: ImageEntry[];
  passed: boolean;
  error?: string;
}

/** The script's own --check: undefined when this machine can build, else what it lacks. */
function unmetPrerequisites(): string | undefined {
  const check = spawnSync(process.execPath, [SCRIPT, '--check'], { encoding: 'utf8' });
  if (check.status === 0) return undefined;
  // Exit code 2 is "not ready"; anything else is the script failing, which must not pass as a skip.
  if (check.status !== 2) throw new Error(`build-ci-images.mjs --check failed (${check.status}): ${check.stderr}`);
  return check.stdout.trim().split('\n').join('; ');
}

const unmet = unmetPrerequisites();

if (unmet !== undefined) {
  it.skip(`module images with buildah (skipped: ${unmet})`, () => undefined);
} else {
  describe('module images built with buildah, without a Docker engine or registry', () => {
    // One place, overwritten by the next run: the log of the last build is there to read.
    const workDir = join(tmpdir(), 'iev-images-e2e');
    const reportFile = join(workDir, 'report.json');
    const logFile = join(workDir, 'build.log');
    let exitCode: number | null;
    let report: Report | undefined;

    const logTail = () => readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
    const entry = (module: string): ImageEntry | undefined => report?.images.find((image) => image.module === module && image.arch === 'amd64');

    beforeAll(async () => {
      rmSync(workDir, { recursive: true, force: true });
      mkdirSync(workDir, { recursive: true });
      const started = Date.now();
      const log = openSync(logFile, 'w');
      exitCode = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, [SCRIPT, '--arch', 'amd64', '--report', reportFile], { cwd: WORKSPACE_ROOT, stdio: ['ignore', log, log] });
        child.on('error', reject);
        child.on('close', resolve);
      });
      report = existsSync(reportFile) ? (JSON.parse(readFileSync(reportFile, 'utf8')) as Report) : undefined;
      const seconds = Math.round((Date.now() - started) / 1000);
      console.log(`images built and smoke-checked in ${seconds} s; steps (s): ${JSON.stringify(report?.timings)}; log: ${logFile}`);
    }, BUILD_TIMEOUT_MS);

    it('the build script finishes without error', () => {
      // The log's tail is in what is received, so a failure shows it.
      expect({ exitCode, error: report?.error, log: exitCode === 0 ? '' : logTail() }).toEqual({ exitCode: 0, error: undefined, log: '' });
    });

    it.each(MODULES)('%s: the amd64 image is in buildah storage, Docker format, as user iev with its HEALTHCHECK', (module) => {
      const built = entry(module);
      expect(built).toMatchObject({ reference: `localhost:5000/${module}:${versionOfWorkspace()}-amd64` });
      const inspected = JSON.parse(execFileSync('buildah', ['inspect', '--type', 'image', built?.reference ?? ''], { encoding: 'utf8' }));
      expect(inspected.FromImageID).toBe(built?.id);
      expect(inspected.Docker.architecture).toBe('amd64');
      expect(inspected.Docker.config).toMatchObject({
        User: 'iev',
        WorkingDir: '/app',
        Cmd: ['node', 'main.js'],
        Healthcheck: { Test: ['CMD', 'node', '/usr/local/lib/iev/healthcheck.mjs'] },
      });
    });

    // Each image carries the npm packages its module imports, with binaries for its own platform: the addons' npm
    // packages hold every platform's (docker/prune-node-modules.mjs drops the others), and Nx's generated package.json
    // lists @nestjs/core's optional peers when the workspace depends on them (it no longer depends on
    // @nestjs/platform-express, an HTTP server no module starts).
    it.each(MODULES)('%s: node_modules holds native binaries for linux/x64 alone and no HTTP platform it does not use', (module) => {
      const nodeModules = entry(module)?.nodeModules;
      expect(nodeModules?.nativeBinaries.length).toBeGreaterThan(0);
      expect(nodeModules?.nativeBinaries.filter((path) => !/\/linux\/x64\//.test(path))).toEqual([]);
      expect(nodeModules?.packages).toContain('zeromq');
      expect(nodeModules?.packages).not.toContain('@nestjs/platform-express');
      expect(nodeModules?.packages).not.toContain('express');
    });

    it('only inference carries onnxruntime-node, with its Linux x64 library', () => {
      expect(entry('inference')?.nodeModules.nativeBinaries).toContain('onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1');
      expect(entry('capture')?.nodeModules.packages).not.toContain('onnxruntime-node');
      expect(entry('telemetry')?.nodeModules.packages).not.toContain('onnxruntime-node');
    });

    it('capture: streams the bundled demo video through ffmpeg; /health and HEALTHCHECK pass; stops cleanly', () => {
      expect(entry('capture')?.smoke).toMatchObject({
        passed: true,
        exitCode: 0,
        checks: { health: { healthy: true, source: 'streaming' }, healthcheckExitCode: 0 },
      });
    });

    it("inference: loads the ONNX model with onnxruntime-node and runs it on capture's frames; stops cleanly", () => {
      const smoke = entry('inference')?.smoke;
      expect(smoke).toMatchObject({
        passed: true,
        exitCode: 0,
        checks: { health: { healthy: true, backend: 'onnxruntime-cpu', modelId: expect.stringMatching(/^ch_pp_inf_dynamic@/) }, healthcheckExitCode: 0 },
      });
      expect(smoke?.checks['framesProcessed']).toBeGreaterThan(0);
    });

    it('inference with the decoders (--decoders): decodes a camera itself, with no capture; stops cleanly', () => {
      const smoke = entry('inference.decoders')?.smoke;
      expect(entry('inference.decoders')?.reference).toMatch(/^localhost:5000\/inference:[\w.-]+-amd64\.decoders$/);
      expect(smoke).toMatchObject({ passed: true, exitCode: 0, checks: { capture: [{ sourceId: 'camera0', state: 'streaming' }], healthcheckExitCode: 0 } });
      expect(smoke?.checks['framesProcessed']).toBeGreaterThan(0);
      // Why the decoders are a variant: the default image goes without their hundreds of megabytes.
      expect(megabytes(entry('inference.decoders')?.size)).toBeGreaterThan(megabytes(entry('inference')?.size) + 100);
    });

    it("telemetry: prints inference's detections (text boxes) as JSON; stops cleanly", () => {
      const smoke = entry('telemetry')?.smoke;
      expect(smoke).toMatchObject({
        passed: true,
        exitCode: 0,
        checks: { health: { healthy: true, sink: 'console' }, healthcheckExitCode: 0, detections: { modelId: expect.stringMatching(/^ch_pp_inf_dynamic@/) } },
      });
      expect((smoke?.checks['detections'] as { boxes: number }).boxes).toBeGreaterThan(0);
    });
  });
}

function versionOfWorkspace(): string {
  return (JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
