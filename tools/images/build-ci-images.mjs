#!/usr/bin/env node
// Builds the three module images without a Docker engine, as CI does, and checks that they work:
//   - buildah as root with --isolation chroot (no OCI runtime, no daemon);
//   - no registry can be reached, so the base is made here: debootstrap bookworm (tools/images/make-base.sh)
//     → localhost/iev-base:bookworm-<arch>, and that plus Node.js → localhost/iev-node:bookworm-<arch>,
//     handed to the Dockerfiles as BASE_IMAGE and NODE_IMAGE;
//   - each image through the project's own executor: npx nx docker <module> --engine buildah ...;
//   - a smoke check: the three images started together with `buildah run`, demo video → capture →
//     inference (the real ONNX model) → telemetry, each one's /health and in-image HEALTHCHECK asked; then
//     inference's variant with the decoders (--decoders) alone, decoding ffmpeg's test pattern (CAPTURE_SOURCES).
//
//   node tools/images/build-ci-images.mjs [--arch amd64,arm64] [--report out.json] [--refresh-base] [--no-smoke]
//   node tools/images/build-ci-images.mjs --check      # what is missing to run it; exit 0 when ready
//
// arm64 builds under QEMU (qemu-user-static) and is not smoke-checked: onnxruntime-node crashes emulated.
//
// Cached: the debootstrap rootfs (as a tar in $XDG_CACHE_HOME/iot-edge-vision, keyed on make-base.sh),
// the base and node images (labelled with their key), every build step (buildah --layers), and npm's own
// cache, mounted into the build's RUN steps. See docker/README.md, "Building without Docker".
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nestedNxEnv } from '../scripts/nx-build.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const WORKSPACE_ROOT = resolve(HERE, '../..');
const MAKE_BASE = join(HERE, 'make-base.sh');
const MODULES = ['capture', 'inference', 'telemetry'];
/** Every image built: each module's, and inference's variant with the decoders (nx docker inference --decoders). */
const IMAGES = [...MODULES.map((module) => ({ name: module, module, decoders: false })), { name: 'inference.decoders', module: 'inference', decoders: true }];
const ARCHITECTURES = ['amd64', 'arm64'];
const KEY_LABEL = 'org.iot-edge-vision.key';
const CACHE_DIR = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'iot-edge-vision');
const NODE_ARCH = { amd64: 'x64', arm64: 'arm64' };

// ---- command line -------------------------------------------------------------------------------------

function parseArguments(argv) {
  const options = { arch: ['amd64'], report: undefined, refreshBase: false, smoke: true, check: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--arch') options.arch = value().split(',');
    else if (arg === '--report') options.report = resolve(value());
    else if (arg === '--refresh-base') options.refreshBase = true;
    else if (arg === '--no-smoke') options.smoke = false;
    else if (arg === '--check') options.check = true;
    else throw new Error(`unknown option ${arg} (options: --arch amd64,arm64 --report <file> --refresh-base --no-smoke --check)`);
  }
  const unknown = options.arch.filter((arch) => !ARCHITECTURES.includes(arch));
  if (unknown.length > 0) throw new Error(`--arch: ${unknown.join(', ')} is not one of ${ARCHITECTURES.join(', ')}`);
  return options;
}

// ---- processes ----------------------------------------------------------------------------------------

function isOnPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((folder) => {
    try {
      accessSync(join(folder, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Runs argv with its output on ours; rejects naming the command when it fails. */
function run(argv, options = {}) {
  console.log(`$ ${argv.join(' ')}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], ...options });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolvePromise() : reject(new Error(`${argv.slice(0, 3).join(' ')} failed (${signal ?? `exit code ${code}`})`)),
    );
  });
}

/** Runs argv and resolves with its stdout; rejects with its stderr. */
function output(argv) {
  return new Promise((resolvePromise, reject) => {
    execFile(argv[0], argv.slice(1), { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${argv.slice(0, 3).join(' ')} failed: ${stderr.trim() || error.message}`)) : resolvePromise(stdout),
    );
  });
}

const sha256 = (...parts) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
};

async function timed(timings, name, work) {
  const start = Date.now();
  console.log(`\n=== ${name}`);
  const result = await work();
  timings[name] = Math.round((Date.now() - start) / 100) / 10;
  console.log(`=== ${name}: ${timings[name]} s`);
  return result;
}

// ---- prerequisites ------------------------------------------------------------------------------------

/** What keeps this machine from running the script, as messages naming what to install or do. */
function missingPrerequisites(arches) {
  const missing = [];
  if (process.platform !== 'linux') return ['buildah with --isolation chroot needs Linux'];
  if (process.getuid?.() !== 0) missing.push('must run as root (buildah --isolation chroot and debootstrap need it)');
  if (!isOnPath('buildah')) missing.push('buildah is not installed (apt-get install buildah)');
  if (!isOnPath('debootstrap')) missing.push('debootstrap is not installed (apt-get install debootstrap)');
  if (arches.includes('arm64') && process.arch !== 'arm64' && !isOnPath('qemu-aarch64-static')) {
    missing.push('arm64 on this machine needs QEMU (apt-get install qemu-user-static binfmt-support)');
  }
  return missing;
}

/** A foreign architecture's programs (debootstrap's second stage, RUN steps) run through QEMU's binfmt handler. */
async function ensureBinfmt(arch) {
  if (NODE_ARCH[arch] === process.arch) return;
  const handler = '/proc/sys/fs/binfmt_misc/qemu-aarch64';
  if (existsSync(handler)) return;
  if (!existsSync('/proc/sys/fs/binfmt_misc/register')) await run(['mount', '-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc']);
  await run(['update-binfmts', '--enable', 'qemu-aarch64']);
  if (!existsSync(handler)) throw new Error(`no binfmt handler for ${arch} after update-binfmts: is qemu-user-static installed?`);
}

// ---- images -------------------------------------------------------------------------------------------

/** The image's `buildah inspect` JSON, or undefined when there is no such image. */
async function inspectImage(reference) {
  try {
    return JSON.parse(await output(['buildah', 'inspect', '--type', 'image', reference]));
  } catch {
    return undefined;
  }
}

const labelOf = (inspected) => inspected?.Docker?.config?.Labels?.[KEY_LABEL] ?? inspected?.OCIv1?.config?.Labels?.[KEY_LABEL];

/** A fresh working container from `from`, its root mounted: what `work(container, rootfs)` adds is committed as `reference`. */
async function commitImage(from, reference, arch, key, config, work) {
  const name = `iev-import-${arch}`;
  await output(['buildah', 'rm', name]).catch(() => undefined);
  await output(['buildah', 'from', '--name', name, '--arch', arch, from]);
  try {
    const rootfs = (await output(['buildah', 'mount', name])).trim();
    await work(name, rootfs);
    await output(['buildah', 'umount', name]);
    await output(['buildah', 'config', '--arch', arch, '--os', 'linux', '--label', `${KEY_LABEL}=${key}`, ...config, name]);
    await output(['buildah', 'commit', '--format', 'docker', '--rm', name, reference]);
  } catch (error) {
    await output(['buildah', 'rm', name]).catch(() => undefined);
    throw error;
  }
}

/** The debootstrap rootfs as a tar, made once per make-base.sh version and architecture. */
async function baseTarball(arch, key, options, timings) {
  const tarball = join(CACHE_DIR, `debian-bookworm-${arch}-${key}.tar`);
  if (!existsSync(tarball) || options.refreshBase) {
    await ensureBinfmt(arch);
    mkdirSync(CACHE_DIR, { recursive: true });
    await timed(timings, `debootstrap ${arch}`, () => run(['bash', MAKE_BASE, arch, tarball]));
    // Earlier recipes' tars are of no further use.
    for (const file of readdirSync(CACHE_DIR)) {
      if (file.startsWith(`debian-bookworm-${arch}-`) && file !== `debian-bookworm-${arch}-${key}.tar`) rmSync(join(CACHE_DIR, file), { force: true });
    }
  } else {
    console.log(`base rootfs for ${arch}: cached ${tarball}`);
  }
  return tarball;
}

/** localhost/iev-base:bookworm-<arch>: the debootstrap rootfs as an image, the stand-in for debian:bookworm-slim. */
async function baseImage(arch, options, timings) {
  const key = sha256(readFileSync(MAKE_BASE), arch).slice(0, 16);
  const reference = `localhost/iev-base:bookworm-${arch}`;
  if (labelOf(await inspectImage(reference)) === key && !options.refreshBase) {
    console.log(`${reference}: up to date`);
    return { reference, key };
  }
  const tarball = await baseTarball(arch, key, options, timings);
  await timed(timings, `import base ${arch}`, () =>
    commitImage('scratch', reference, arch, key, ['--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--cmd', 'bash'], (_, rootfs) =>
      run(['tar', '--numeric-owner', '--xattrs', '-xf', tarball, '-C', rootfs]),
    ),
  );
  return { reference, key };
}

/**
 * The Node.js binary for `arch`: this machine's own for its own architecture (the Node.js the tests run
 * on), else the official build from the npm registry's node-linux-<arch> package of the same version.
 */
async function nodeBinary(arch) {
  if (NODE_ARCH[arch] === process.arch) return realpathSync(process.execPath);
  const version = process.version.slice(1);
  const folder = join(CACHE_DIR, `node-v${version}-linux-${NODE_ARCH[arch]}`);
  const binary = join(folder, 'package/bin/node');
  if (!existsSync(binary)) {
    mkdirSync(folder, { recursive: true });
    // npm pack checks the tarball against the registry's integrity hash.
    const [{ filename }] = JSON.parse(await output(['npm', 'pack', `node-linux-${NODE_ARCH[arch]}@${version}`, '--json', '--pack-destination', folder]));
    await run(['tar', '-xzf', join(folder, filename), '-C', folder, 'package/bin/node']);
  }
  return binary;
}

/**
 * localhost/iev-node:bookworm-<arch>: the base plus Node.js and npm where the official node images have them
 * (/usr/local), the stand-in for node:24-bookworm-slim. npm is this machine's own (plain JavaScript). npm in
 * the build stages trusts the CAs this machine's Node.js is told to (NODE_EXTRA_CA_CERTS, e.g. a proxy's);
 * the runtime images start from iev-base and carry none of it.
 */
async function nodeImage(arch, base, options, timings) {
  const node = await nodeBinary(arch);
  const npmFolder = join((await output(['npm', 'root', '-g'])).trim(), 'npm');
  const npmVersion = JSON.parse(readFileSync(join(npmFolder, 'package.json'), 'utf8')).version;
  const extraCa = process.env.NODE_EXTRA_CA_CERTS && existsSync(process.env.NODE_EXTRA_CA_CERTS) ? process.env.NODE_EXTRA_CA_CERTS : undefined;
  // On the base image itself, not only its recipe: a re-imported base has a new id, and the node image follows it.
  const baseId = (await inspectImage(base.reference))?.FromImageID ?? '';
  const key = sha256(baseId, readFileSync(node), npmVersion, extraCa ? readFileSync(extraCa) : '').slice(0, 16);
  const reference = `localhost/iev-node:bookworm-${arch}`;
  if (labelOf(await inspectImage(reference)) === key && !options.refreshBase) {
    console.log(`${reference}: up to date (node ${process.version}, npm ${npmVersion})`);
    return reference;
  }
  const config = ['--cmd', 'node', ...(extraCa ? ['--env', 'NODE_EXTRA_CA_CERTS=/usr/local/share/iev/extra-ca.crt'] : [])];
  await timed(timings, `node image ${arch}`, () =>
    commitImage(base.reference, reference, arch, key, config, async (container, rootfs) => {
      await output(['buildah', 'copy', container, node, '/usr/local/bin/node']);
      await output(['buildah', 'copy', container, npmFolder, '/usr/local/lib/node_modules/npm']);
      if (extraCa) await output(['buildah', 'copy', container, extraCa, '/usr/local/share/iev/extra-ca.crt']);
      symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'));
      symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx'));
    }),
  );
  return reference;
}

/** One module's image (its variant with the decoders where `decoders`) through the workspace's docker executor; resolves with its reference. */
async function buildModule(module, arch, base, node, decoders) {
  const npmCache = (await output(['npm', 'config', 'get', 'cache'])).trim();
  mkdirSync(npmCache, { recursive: true });
  await run(
    [
      'npx', 'nx', 'docker', module,
      '--arch', arch,
      '--engine', 'buildah',
      '--isolation', 'chroot',
      '--base-image', base,
      '--node-image', node,
      // npm ci in the build finds what this machine's npm ci already fetched.
      '--volume', `${npmCache}:/root/.npm`,
      ...(decoders ? ['--decoders'] : []),
    ],
    { cwd: WORKSPACE_ROOT, env: nestedNxEnv({ NX_DAEMON: 'false', NX_NO_CLOUD: 'true' }) },
  );
  const { version } = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'package.json'), 'utf8'));
  return `localhost:5000/${module}:${version}-${arch}${decoders ? '.decoders' : ''}`;
}

async function describeImage(reference, arch) {
  const inspected = await inspectImage(reference);
  if (!inspected) throw new Error(`${reference} is not in buildah's storage after its build`);
  const [listed] = JSON.parse(await output(['buildah', 'images', '--json', reference]));
  return { reference, id: inspected.FromImageID, size: listed?.size ?? '?', config: inspected.Docker?.config ?? {}, nodeModules: await nodeModulesOf(reference, arch) };
}

const NATIVE_BINARY = /\.(node|so(\.\d+)*|dll|dylib)$/;

/** Every file under `folder` as a path relative to `base`, with its size. */
function filesUnder(folder, base = folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return filesUnder(path, base);
    return entry.isFile() ? [{ path: relative(base, path), bytes: statSync(path).size }] : [];
  });
}

/**
 * What the image's /app/node_modules holds, read from its mounted root: the packages installed at its top level,
 * every native binary (by path) and the bytes of it all. The images-e2e tests check that each image carries only
 * what its module imports, with binaries for its own platform alone.
 */
async function nodeModulesOf(reference, arch) {
  const container = (await output(['buildah', 'from', '--arch', arch, '--pull=never', reference])).trim();
  try {
    const nodeModules = join((await output(['buildah', 'mount', container])).trim(), 'app/node_modules');
    const packages = readdirSync(nodeModules)
      .filter((name) => !name.startsWith('.'))
      .flatMap((name) => (name.startsWith('@') ? readdirSync(join(nodeModules, name)).map((scoped) => `${name}/${scoped}`) : [name]));
    const files = filesUnder(nodeModules);
    return {
      packages,
      nativeBinaries: files.filter(({ path }) => NATIVE_BINARY.test(path)).map(({ path }) => path),
      bytes: files.reduce((total, { bytes }) => total + bytes, 0),
    };
  } finally {
    await output(['buildah', 'rm', container]);
  }
}

// ---- smoke check --------------------------------------------------------------------------------------

let ports;
/**
 * @iev/testing's freePort (libs/testing/src/lib/ports.ts: outside the ephemeral range, claimed against the tests that
 * pick theirs meanwhile), compiled by ts-node in this process, not a child's: a port stays claimed while its claimant lives.
 */
function freePort() {
  if (ports === undefined) {
    const require = createRequire(import.meta.url);
    require('ts-node').register({ transpileOnly: true, project: join(WORKSPACE_ROOT, 'libs/testing/tsconfig.lib.json'), compilerOptions: { module: 'commonjs' } });
    ports = require(join(WORKSPACE_ROOT, 'libs/testing/src/lib/ports.ts'));
  }
  return ports.freePort();
}

/** The first process under `buildah run` (buildah → buildah-chroot-runtime → buildah-chroot-exec → module) that is not buildah's. */
function moduleProcessOf(buildahPid) {
  const parents = new Map();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      parents.set(Number(entry), { ppid, comm });
    } catch {
      // The process ended while we looked.
    }
  }
  let generation = [buildahPid];
  while (generation.length > 0) {
    const children = [...parents].filter(([, { ppid }]) => generation.includes(ppid));
    const module = children.find(([, { comm }]) => !/buildah/.test(comm));
    if (module) return module[0];
    generation = children.map(([pid]) => pid);
  }
  return undefined;
}

const sleep = (ms) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

/** One image's module started with `buildah run` (the image's own CMD, user and workdir); stdout lines collected. */
class RunningModule {
  constructor(module, arch, image, env) {
    this.module = module;
    this.image = image;
    this.container = `iev-smoke-${module}-${arch}`;
    this.env = env;
    this.lines = [];
    this.stderr = [];
  }

  async start() {
    await output(['buildah', 'rm', this.container]).catch(() => undefined);
    await output(['buildah', 'from', '--name', this.container, this.image.reference]);
    const cmd = this.image.config.Cmd ?? [];
    if (cmd.length === 0) throw new Error(`${this.image.reference} has no CMD`);
    const env = Object.entries(this.env).flatMap(([name, value]) => ['--env', `${name}=${value}`]);
    this.child = spawn('buildah', ['run', '--isolation', 'chroot', ...env, this.container, '--', ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.lines.push(line));
    createInterface({ input: this.child.stderr }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((resolvePromise) => this.child.on('close', (code) => resolvePromise(code)));
  }

  /** Polls `check` until it returns a value, failing early when the module has exited. */
  async waitFor(what, check, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await check().catch(() => undefined);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null) throw new Error(`${this.module} exited (${this.child.exitCode}) waiting for ${what}:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.module}: no ${what} within ${timeoutMs / 1000} s:\n${this.tail()}`);
      await sleep(500);
    }
  }

  tail() {
    return [...this.lines.slice(-8), ...this.stderr.slice(-8)].join('\n');
  }

  /** The pino log objects on stdout. */
  logs() {
    return this.lines.filter((line) => line.startsWith('{"level"')).map((line) => JSON.parse(line));
  }

  metricsPort(timeoutMs) {
    return this.waitFor('metrics port in its log', async () => this.logs().find((log) => typeof log.metricsPort === 'number')?.metricsPort, timeoutMs);
  }

  /** /health answered 200 with a report `accept` takes: resolves with the report. */
  async healthy(port, accept, timeoutMs) {
    return this.waitFor(
      'healthy /health',
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
        const report = await response.json();
        return response.status === 200 && accept(report) ? report : undefined;
      },
      timeoutMs,
    );
  }

  /** The image's own HEALTHCHECK command, run in the module's container beside it: its exit code. */
  async healthcheck(port) {
    const test = this.image.config.Healthcheck?.Test ?? [];
    if (test[0] !== 'CMD') throw new Error(`${this.image.reference} has no HEALTHCHECK CMD (got ${JSON.stringify(test)})`);
    return new Promise((resolvePromise) => {
      execFile('buildah', ['run', '--isolation', 'chroot', '--env', `METRICS_PORT=${port}`, this.container, '--', ...test.slice(1)], (error) =>
        resolvePromise(error ? (typeof error.code === 'number' ? error.code : 1) : 0),
      );
    });
  }

  /**
   * SIGTERM to the module's own process, as `docker stop` sends it to a container's PID 1 (buildah run would
   * kill its command instead of passing the signal on), then the container goes. Resolves with the exit code
   * of `buildah run`, which is the module's: 0 when it stopped cleanly.
   */
  async stop() {
    if (this.child && this.child.exitCode === null) {
      const modulePid = moduleProcessOf(this.child.pid);
      if (modulePid !== undefined) process.kill(modulePid, 'SIGTERM');
      let timer;
      const code = await Promise.race([this.exited, new Promise((resolvePromise) => (timer = setTimeout(resolvePromise, 15_000, 'timeout')))]);
      clearTimeout(timer);
      if (code === 'timeout' || modulePid === undefined) this.child.kill('SIGKILL');
    }
    const code = this.child ? await this.exited : null;
    await output(['buildah', 'rm', this.container]).catch(() => undefined);
    return code;
  }
}

/** Frames inference has processed, from its metrics on `port`; undefined while none. */
async function framesProcessed(port) {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const processed = Number(/^iev_inference_frames_processed_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  return processed > 0 ? processed : undefined;
}

/**
 * Inference's image with the decoders, decoding a camera of its own (CAPTURE_SOURCES: ffmpeg's test pattern) with no
 * capture: the decoders work in the image and frames reach the model. Its checks, with its exit code on SIGTERM.
 */
async function decodingInference(arch, image, timeoutMs) {
  // Its own ports: chroot isolation shares the host's network.
  const inference = new RunningModule('inference-decoding', arch, image, {
    METRICS_PORT: '0',
    DETECTIONS_BIND: `tcp://127.0.0.1:${await freePort()}`,
    CAPTURE_SOURCES: '[{"CAMERA_PATH": "testsrc", "CAPTURE_WIDTH": 320}]',
  });
  const checks = {};
  try {
    await inference.start();
    const port = await inference.metricsPort(timeoutMs);
    checks.capture = (await inference.healthy(port, (report) => report.capture?.[0]?.state === 'streaming', timeoutMs)).capture;
    checks.framesProcessed = await inference.waitFor('frames processed', () => framesProcessed(port), timeoutMs);
    checks.healthcheckExitCode = await inference.healthcheck(port);
  } catch (error) {
    checks.error = error.message;
  } finally {
    checks.exitCode = await inference.stop();
  }
  return checks;
}

/**
 * The three images as a pipeline on this machine's loopback (chroot isolation shares the network): capture
 * streams the bundled demo video, inference runs the ONNX model on it, telemetry prints the detections. Then
 * inference's image with the decoders alone, decoding a camera itself.
 */
async function smokeCheck(arch, images) {
  const timeoutMs = 90_000;
  const [framesPort, detectionsPort] = [await freePort(), await freePort()];
  const modules = {
    capture: new RunningModule('capture', arch, images.capture, { METRICS_PORT: '0', FRAMES_BIND: `tcp://127.0.0.1:${framesPort}` }),
    inference: new RunningModule('inference', arch, images.inference, {
      METRICS_PORT: '0',
      FRAMES_CONNECT: `tcp://127.0.0.1:${framesPort}`,
      DETECTIONS_BIND: `tcp://127.0.0.1:${detectionsPort}`,
    }),
    telemetry: new RunningModule('telemetry', arch, images.telemetry, {
      METRICS_PORT: '0',
      DETECTIONS_CONNECT: `tcp://127.0.0.1:${detectionsPort}`,
      CONSOLE_FORMAT: 'json',
    }),
  };
  const results = Object.fromEntries(MODULES.map((module) => [module, { passed: false, checks: {} }]));
  const check = async (module, work) => {
    try {
      await work(results[module].checks);
    } catch (error) {
      results[module].error = error.message;
    }
  };
  try {
    for (const module of Object.values(modules)) await module.start();

    await check('capture', async (checks) => {
      const port = await modules.capture.metricsPort(timeoutMs);
      checks.health = await modules.capture.healthy(port, (report) => report.source === 'streaming', timeoutMs);
      checks.healthcheckExitCode = await modules.capture.healthcheck(port);
    });
    await check('inference', async (checks) => {
      const port = await modules.inference.metricsPort(timeoutMs);
      checks.health = await modules.inference.healthy(port, (report) => /^onnxruntime/.test(report.backend) && /^ch_pp_inf_dynamic@/.test(report.modelId), timeoutMs);
      checks.healthcheckExitCode = await modules.inference.healthcheck(port);
      checks.framesProcessed = await modules.inference.waitFor('frames processed', () => framesProcessed(port), timeoutMs);
    });
    await check('telemetry', async (checks) => {
      const port = await modules.telemetry.metricsPort(timeoutMs);
      checks.health = await modules.telemetry.healthy(port, () => true, timeoutMs);
      checks.healthcheckExitCode = await modules.telemetry.healthcheck(port);
      // A detections line with text boxes: the demo video shows text in every frame.
      checks.detections = await modules.telemetry.waitFor(
        'detections with text boxes on stdout',
        async () => {
          const line = modules.telemetry.lines.map((text) => (text.startsWith('{"frame"') ? JSON.parse(text) : undefined)).find((d) => d?.boxes?.length > 0);
          return line && { sequence: line.frame.sequence, boxes: line.boxes.length, modelId: line.modelId };
        },
        timeoutMs,
      );
    });
  } finally {
    for (const [name, module] of Object.entries(modules)) results[name].exitCode = await module.stop();
  }
  for (const result of Object.values(results)) {
    if (result.error === undefined && result.exitCode !== 0) result.error = `did not stop cleanly on SIGTERM (exit code ${result.exitCode})`;
    result.passed = result.error === undefined && result.checks.healthcheckExitCode === 0;
  }
  const { error, exitCode, ...checks } = await decodingInference(arch, images['inference.decoders'], timeoutMs);
  const decodingError =
    error ?? (exitCode !== 0 ? `did not stop cleanly on SIGTERM (exit code ${exitCode})` : checks.healthcheckExitCode !== 0 ? `HEALTHCHECK exited ${checks.healthcheckExitCode}` : undefined);
  results['inference.decoders'] = { passed: decodingError === undefined, checks, exitCode, ...(decodingError !== undefined && { error: decodingError }) };
  return results;
}

// ---- main ---------------------------------------------------------------------------------------------

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const missing = missingPrerequisites(options.arch);
  if (options.check) {
    console.log(missing.length === 0 ? 'ready' : missing.join('\n'));
    process.exit(missing.length === 0 ? 0 : 2);
  }
  if (missing.length > 0) throw new Error(`cannot build the images here:\n  ${missing.join('\n  ')}`);

  const started = Date.now();
  const report = { startedAt: new Date(started).toISOString(), timings: {}, images: [], passed: false };
  const writeReport = () => options.report && writeFileSync(options.report, `${JSON.stringify(report, null, 2)}\n`);
  try {
    for (const arch of options.arch) {
      const base = await baseImage(arch, options, report.timings);
      const node = await nodeImage(arch, base, options, report.timings);
      const images = {};
      for (const { name, module, decoders } of IMAGES) {
        const reference = await timed(report.timings, `build ${name} ${arch}`, () => buildModule(module, arch, base.reference, node, decoders));
        images[name] = await describeImage(reference, arch);
        report.images.push({ module: name, arch, reference, id: images[name].id, size: images[name].size, nodeModules: images[name].nodeModules, smoke: null });
        writeReport();
      }
      if (!options.smoke) continue;
      if (NODE_ARCH[arch] !== process.arch) {
        // Under qemu-user (7.2, bookworm) onnxruntime-node's addon crashes as it loads: inference cannot run emulated.
        console.log(`\nsmoke check ${arch}: not run, emulated (onnxruntime-node crashes under qemu-user)`);
        continue;
      }
      const results = await timed(report.timings, `smoke check ${arch}`, () => smokeCheck(arch, images));
      for (const entry of report.images.filter((image) => image.arch === arch)) entry.smoke = results[entry.module];
    }
    report.passed = report.images.every((image) => !options.smoke || NODE_ARCH[image.arch] !== process.arch || image.smoke?.passed);
  } catch (error) {
    report.error = error.message;
    throw error;
  } finally {
    report.timings.total = Math.round((Date.now() - started) / 100) / 10;
    writeReport();
    console.log('\n=== images');
    for (const { reference, size, smoke } of report.images) {
      console.log(`${reference}  ${size}  smoke: ${smoke === null ? 'not run' : smoke.passed ? 'passed' : `FAILED ${smoke.error ?? ''}`}`);
    }
    console.log(`=== timings (s): ${JSON.stringify(report.timings)}`);
  }
  if (!report.passed) throw new Error('a smoke check failed (see above)');
}

main().catch((error) => {
  console.error(`build-ci-images: ${error.message}`);
  process.exit(1);
});
