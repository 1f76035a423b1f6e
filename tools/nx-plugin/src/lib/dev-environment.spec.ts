// Keeps the inner-loop developer set-up honest: the dev container, VS Code tasks and launch configurations
// and the multi-root workspace must parse and point at scripts, projects, bundles and folders that exist.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { ProjectConfiguration } from '@nx/devkit';
import { workspaceProjects } from '../testing/workspace-projects';

const root = join(__dirname, '../../../..');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function readJsonc(path: string): Json {
  const errors: ParseError[] = [];
  const value = parse(readFileSync(join(root, path), 'utf8'), errors, { allowTrailingComma: false });
  if (errors.length) throw new Error(`${path}: ${errors.map((e) => `${printParseErrorCode(e.error)} at offset ${e.offset}`).join(', ')}`);
  return value;
}

const devcontainerFiles = ['.devcontainer/devcontainer.json', '.devcontainer/gpu/devcontainer.json', '.devcontainer/camera/devcontainer.json'];
const jsonFiles = [...devcontainerFiles, '.vscode/tasks.json', '.vscode/launch.json', '.vscode/extensions.json', 'iot-edge-vision.code-workspace'];

const scripts: Record<string, string> = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts;
const projects = new Map<string, ProjectConfiguration>(Object.entries(workspaceProjects()));
const hasTarget = (project: string, target: string) => Boolean(projects.get(project)?.targets?.[target]);
/** The IoT Edge modules of the deployment (the template `npm start` and the simulator run), by name, with their env. */
const deploymentModules: Record<string, Json> = readJsonc('deployment/deployment.template.json').modulesContent.$edgeAgent['properties.desired'].modules;

/** The npm scripts and Nx project/target pairs a task's shell command uses. */
function commandUses(command: string): { scripts: string[]; targets: Array<[project: string, target: string]> } {
  const uses = { scripts: [] as string[], targets: [] as Array<[string, string]> };
  for (const part of command.split(/&&|;/).map((p) => p.trim().split(/\s+/))) {
    const [tool, ...args] = part[0] === 'npx' ? part.slice(1) : part;
    if (tool === 'npm') {
      if (args[0] === 'start' || args[0] === 'test') uses.scripts.push(args[0]);
      else if (args[0] === 'run') uses.scripts.push(args.find((a, i) => i > 0 && !a.startsWith('-')) ?? '');
      else throw new Error(`unrecognised npm command: ${command}`);
    } else if (tool === 'nx') {
      if (args[0] === 'run-many') {
        const target = args[args.indexOf('-t') + 1];
        const listed = args.includes('-p') ? args[args.indexOf('-p') + 1].split(',') : [...projects.keys()].filter((p) => hasTarget(p, target));
        expect(args.includes('-t') && listed.length).toBeTruthy();
        for (const project of listed) uses.targets.push([project, target]);
      } else {
        uses.targets.push([args[1], args[0]]);
      }
    }
  }
  return uses;
}

describe('developer environment (.devcontainer, .vscode, code-workspace)', () => {
  it.each(jsonFiles)('%s parses as JSONC', (path) => {
    expect(readJsonc(path)).toEqual(expect.any(Object));
  });

  const tasks: Json[] = readJsonc('.vscode/tasks.json').tasks;
  const labels = new Set(tasks.map((task) => task.label));

  it('has the lint, test, coverage, run, build, simulate, genconfig and docker tasks, each label once', () => {
    for (const label of ['lint', 'test', 'coverage', 'run', 'build', 'simulate', 'genconfig', 'docker capture']) expect(labels).toContain(label);
    for (const module of Object.keys(deploymentModules)) for (const verb of ['build', 'docker']) expect(labels).toContain(`${verb} ${module}`);
    expect(labels.size).toBe(tasks.length);
  });

  it.each(tasks.map((task) => [task.label, task]))('task "%s" uses npm scripts, Nx projects and targets that exist', (_label, task) => {
    const command: string = task.type === 'npm' ? `npm run ${task.script}` : [task.command, ...(task.args ?? [])].join(' ');
    const uses = commandUses(command);
    expect(uses.scripts.length + uses.targets.length).toBeGreaterThan(0);
    for (const script of uses.scripts) expect(Object.keys(scripts)).toContain(script);
    for (const [project, target] of uses.targets) {
      expect([...projects.keys()]).toContain(project);
      expect(hasTarget(project, target) ? target : `project ${project} has no ${target} target`).toBe(target);
    }
    for (const dependency of [task.dependsOn ?? []].flat()) expect(labels).toContain(dependency);
  });

  const launch = readJsonc('.vscode/launch.json');
  const configurations: Json[] = launch.configurations.filter((config: Json) => config.request === 'launch');
  const attachments: Json[] = launch.configurations.filter((config: Json) => config.request === 'attach');

  it.each(configurations.map((c) => [c.name, c]))('launch "%s" runs a bundle or file that exists, after a task that exists', (_name, config) => {
    const program: string = config.program.replace('${workspaceFolder}/', '');
    const bundle = /^dist\/apps\/([^/]+)\/main\.js$/.exec(program);
    if (program.startsWith('dist/')) {
      expect(bundle).not.toBeNull();
      const app = bundle?.[1] ?? '';
      expect(hasTarget(app, 'build') ? app : `apps/${app} has no build target`).toBe(app);
      expect(projects.get(app)?.targets?.['build']?.outputs).toEqual([`{workspaceRoot}/dist/apps/${app}`]);
      // The bundle must be built before it runs, by the task that builds that very app, with its source maps.
      expect(config.preLaunchTask).toBeDefined();
      const buildTask = tasks.find((task) => task.label === config.preLaunchTask);
      expect(buildTask).toBeDefined();
      expect(commandUses(buildTask.command).targets).toContainEqual([app, 'build']);
      expect(config.sourceMaps).toBe(true);
      expect(config.outFiles).toEqual([`\${workspaceFolder}/dist/apps/${app}/**/*.js`]);
    } else {
      expect(existsSync(join(root, program)) ? program : `missing ${program}`).toBe(program);
    }
    if (config.preLaunchTask) expect(labels).toContain(config.preLaunchTask);
    for (const arg of config.args ?? []) {
      // Arguments that name workspace files (test frames, videos) must exist.
      if (/^(testdata|assets)\//.test(arg)) expect(existsSync(join(root, arg)) ? arg : `missing ${arg}`).toBe(arg);
    }
  });

  it.each(attachments.map((config) => [config.name, config]))(
    '"%s" attaches to the inspector port the debug manifest publishes for that module, mapping /app to its bundle',
    (_name, config) => {
      const debugModules = readJsonc('deployment/deployment.debug.template.json').modulesContent.$edgeAgent['properties.desired'].modules;
      const module = Object.keys(debugModules).find((name) => config.name.startsWith(`attach: ${name} `)) ?? `no module in "${config.name}"`;
      const published = debugModules[module]?.settings.createOptions.HostConfig.PortBindings['9229/tcp'][0].HostPort;
      expect(config.port).toBe(Number(published));
      expect(readFileSync(join(root, `docker/${module}.Dockerfile`), 'utf8')).toMatch(new RegExp(`^WORKDIR ${config.remoteRoot}$`, 'm'));
      expect(config.localRoot).toBe(`\${workspaceFolder}/dist/apps/${module}`);
      expect(config.outFiles).toEqual([`\${workspaceFolder}/dist/apps/${module}/**/*.js`]);
    },
  );

  it('attaches to each module of the debug deployment', () => {
    const debugModules: Record<string, Json> = readJsonc('deployment/deployment.debug.template.json').modulesContent.$edgeAgent['properties.desired'].modules;
    const inspectorPorts = Object.values(debugModules).map((module) => Number(module.settings.createOptions.HostConfig.PortBindings['9229/tcp'][0].HostPort));
    expect(inspectorPorts.length).toBe(4);
    expect(attachments.map((config) => config.port).sort()).toEqual(inspectorPorts.sort());
  });

  it('launches every module and the cli from their bundles, plus Jest on the current file', () => {
    const programs = configurations.map((c) => c.program);
    for (const app of [...Object.keys(deploymentModules), 'cli']) expect(programs).toContain(`\${workspaceFolder}/dist/apps/${app}/main.js`);
    expect(configurations.map((c) => c.name)).toContain('Jest: current file');
    for (const compound of launch.compounds ?? []) {
      for (const name of compound.configurations) expect(launch.configurations.map((c: Json) => c.name)).toContain(name);
      if (compound.preLaunchTask) expect(labels).toContain(compound.preLaunchTask);
    }
    // One compound runs the whole pipeline from its bundles, built by one task; another attaches to every module.
    const compounds: Json[] = launch.compounds ?? [];
    const pipeline = compounds.find((compound) => compound.preLaunchTask);
    expect([...(pipeline?.configurations ?? [])].sort()).toEqual(Object.keys(deploymentModules).sort());
    const buildsFor = tasks.find((task) => task.label === pipeline?.preLaunchTask)?.command as string;
    for (const module of Object.keys(deploymentModules)) expect(buildsFor).toMatch(new RegExp(`\\b${module}\\b`));
    expect(compounds.some((compound) => [...compound.configurations].sort().join() === attachments.map((config) => config.name).sort().join())).toBe(true);
  });

  it('points every code-workspace folder at a folder that exists, one per module plus the root', () => {
    const folders: Json[] = readJsonc('iot-edge-vision.code-workspace').folders;
    for (const folder of folders) expect(existsSync(join(root, folder.path)) ? folder.path : `missing ${folder.path}`).toBe(folder.path);
    expect(folders.map((f) => f.path).sort()).toEqual(['.', ...Object.keys(deploymentModules).map((module) => `apps/${module}`)].sort());
  });

  it.each(devcontainerFiles)("%s builds the dev container Dockerfile, runs npm ci and forwards the modules' ports", (path) => {
    const config = readJsonc(path);
    const dir = join(root, path, '..');
    expect(readFileSync(join(dir, config.build.dockerfile), 'utf8')).toBe(readFileSync(join(root, '.devcontainer/Dockerfile'), 'utf8'));
    expect(['nocuda', 'cuda', '${localEnv:CUDA_SUPPORT:nocuda}']).toContain(config.build.args.CUDA_SUPPORT);
    expect(config.postCreateCommand).toBe('npm ci');
    // Every module's HTTP port in the deployment (METRICS_PORT, the preview's PREVIEW_PORT), as `npm start` uses them.
    const httpPorts = Object.values(deploymentModules).flatMap((module) =>
      Object.entries(module.env as Record<string, { value: string }>)
        .filter(([name]) => name.endsWith('_PORT'))
        .map(([, { value }]) => Number(value)),
    );
    expect(httpPorts.length).toBeGreaterThan(3);
    expect([...config.forwardPorts].sort((a, b) => a - b)).toEqual(httpPorts.sort((a, b) => a - b));
  });

  it('has the GPU and camera variants, and passes no device in the default one', () => {
    expect(readJsonc('.devcontainer/devcontainer.json').runArgs ?? []).toEqual([]);
    const gpu = readJsonc('.devcontainer/gpu/devcontainer.json');
    expect(gpu.build.args.CUDA_SUPPORT).toBe('cuda');
    expect(gpu.runArgs).toContain('--gpus=all');
    expect(readJsonc('.devcontainer/camera/devcontainer.json').runArgs).toContain('--device=/dev/video0');
  });

  it('recommends only extensions for tools the workspace uses', () => {
    const recommended: string[] = [
      ...readJsonc('.vscode/extensions.json').recommendations,
      ...devcontainerFiles.flatMap((path) => readJsonc(path).customizations.vscode.extensions),
    ];
    for (const id of recommended) expect(id).toMatch(/^[a-z0-9-]+\.[a-z0-9-]+$/i);
    const usesPrettier = readdirSync(root).some((name) => name.startsWith('.prettierrc') || name.startsWith('prettier.config'));
    if (!usesPrettier) expect(recommended).not.toContain('esbenp.prettier-vscode');
  });

  it('selects the dev container base the way the module images do: four bases, FROM base-${TARGETARCH}-${CUDA_SUPPORT}', () => {
    const dockerfile = readFileSync(join(root, '.devcontainer/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ARG TARGETARCH$/m);
    expect(dockerfile).toMatch(/^ARG CUDA_SUPPORT=nocuda$/m);
    for (const stage of ['base-amd64-nocuda', 'base-amd64-cuda', 'base-arm64-nocuda', 'base-arm64-cuda']) {
      expect(dockerfile).toMatch(new RegExp(`^FROM \\S+ AS ${stage}$`, 'm'));
    }
    expect(dockerfile).toMatch(/^FROM base-\$\{TARGETARCH\}-\$\{CUDA_SUPPORT\} AS base$/m);
    for (const pkg of ['ffmpeg', 'gstreamer1.0-tools', 'gstreamer1.0-plugins-base', 'gstreamer1.0-plugins-good', 'gstreamer1.0-libav']) {
      expect(dockerfile).toContain(pkg);
    }
    expect(dockerfile).toMatch(/^ENV ONNXRUNTIME_NODE_INSTALL=skip$/m);
  });
});

describe("the README's Layout", () => {
  it('names every app, lib and the Nx plugin', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const layout = /^## Layout\n([\s\S]*?)^## /m.exec(`${readme}\n## `)?.[1] ?? '';
    const listed = [...projects.values()].filter(({ root: projectRoot }) => /^(apps|libs)\//.test(projectRoot) || projectRoot === 'tools/nx-plugin');
    expect(listed.length).toBeGreaterThan(10);
    for (const { name } of listed) expect(new RegExp(`\\b${name}\\b`).test(layout) ? name : `${name} is missing from the README's Layout`).toBe(name);
  });
});

describe('.env for npm start and npm run simulate', () => {
  /** What tools/scripts/lib/dotenv.mjs leaves in an environment that already has `env`, with `dotEnv` as .env. */
  function loadInto(env: Record<string, string>, dotEnv?: string): { loaded: string[]; env: Record<string, string> } {
    const dir = mkdtempSync(join(tmpdir(), 'iev-dotenv-'));
    try {
      if (dotEnv !== undefined) writeFileSync(join(dir, '.env'), dotEnv);
      const script = `import { loadDotEnv } from ${JSON.stringify(join(root, 'tools/scripts/lib/dotenv.mjs'))};
        const env = ${JSON.stringify(env)}; const loaded = loadDotEnv(${JSON.stringify(dir)}, env);
        console.log(JSON.stringify({ loaded, env }));`;
      return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('sets what the environment lacks and leaves what it has', () => {
    expect(loadInto({ CAMERA_PATH: 'from-shell.mp4' }, '# a comment\nCAMERA_PATH=from-file.mp4\nDETECTION_PRESET="default"\n')).toEqual({
      loaded: ['DETECTION_PRESET'],
      env: { CAMERA_PATH: 'from-shell.mp4', DETECTION_PRESET: 'default' },
    });
  });

  it('is optional', () => {
    expect(loadInto({ A: '1' })).toEqual({ loaded: [], env: { A: '1' } });
  });

  it('starts from .env.example, which sets nothing until edited and names only documented variables', () => {
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    expect(loadInto({}, example).loaded).toEqual([]);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const named = [...example.matchAll(/^# ([A-Z][A-Z0-9_]*)=/gm)].map(([, name]) => name);
    expect(named.length).toBeGreaterThan(0);
    for (const name of named) expect(new RegExp(`\\b${name}\\b`).test(readme) ? name : `${name} is not in the README`).toBe(name);
  });
});
