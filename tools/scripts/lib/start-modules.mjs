// The module processes `npm start` runs for its plan (lib/cameras.mjs's startPlan): each one's command and environment.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrinter, previewAddress, runProcessGroup } from './process-group.mjs';

/**
 * Each process of `plan` ({ name, args, cwd, env }), the built module run from `root`: its environment the caller's
 * `env`, the module's NODE_OPTIONS in the release deployment after the caller's own (each runs as deployed: README,
 * Soak), and what the plan gives that module on top.
 */
export function moduleProcesses(plan, env, root) {
  const deployment = JSON.parse(readFileSync(join(root, 'deployment/deployment.template.json'), 'utf8'));
  const deployedModules = deployment.modulesContent.$edgeAgent['properties.desired'].modules;
  // Inference sums its frames up in one line at this interval (telemetry prints every frame anyway).
  const shared = { LOG_SUMMARY_INTERVAL: '10', ...env };
  const moduleProcess = (name, module, own) => {
    const deployed = deployedModules[module]?.env?.NODE_OPTIONS?.value;
    const nodeOptions = deployed ? { NODE_OPTIONS: [shared.NODE_OPTIONS, deployed].filter(Boolean).join(' ') } : {};
    return { name, args: ['--enable-source-maps', join(root, 'dist/apps', module, 'main.js')], cwd: root, env: { ...shared, ...nodeOptions, ...own } };
  };
  return [
    ...plan.captures.map((capture) => moduleProcess(capture.name, 'capture', capture.env)),
    moduleProcess('inference', 'inference', plan.inferenceEnv),
    moduleProcess('telemetry', 'telemetry', plan.telemetryEnv),
    moduleProcess('preview', 'preview', plan.previewEnv),
  ];
}

/**
 * Runs `processes` as one group (lib/process-group.mjs: { children, stop, done, started }), each line printed with its
 * module's name, and tells a person (`note`: stderr) what they look for: what to do when a module finds its port taken
 * ("already in use", AddressInUseError), and the preview's address once every module is up, the last line they read.
 */
export function runModules(processes, { note = (text) => process.stderr.write(text), ...options } = {}) {
  const printLine = createPrinter(processes.map(({ name }) => name));
  let saidPortsTaken = false;
  let previewUrl;
  const print = (name, line) => {
    printLine(name, line);
    if (name === 'preview') previewUrl ??= previewAddress(line);
    if (saidPortsTaken || !line.includes('is already in use; another instance may be running')) return;
    saidPortsTaken = true;
    note('npm start: a port it gives a module is taken: another npm start is probably running: stop it first, or give this one other ports (npm start -- --help)\n');
  };
  const group = runProcessGroup(processes, { print, ...options });
  group.started.then(() => previewUrl && note(`preview: ${previewUrl}\n`));
  return group;
}
