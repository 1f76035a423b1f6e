// Honest caches: a cached test pass must never stand for a changed input. For every project's test target this
// checks Nx's own hash plan (the files and runtime probes its cache key is made of) against what the tests read:
//  - every workspace file a project's code names by a quoted path (`'models/x.onnx'`, `'../../../../testdata/...'`,
//    `join(root, 'deployment/deployment.template.json')`), in its own files or the non-spec files of the projects it
//    depends on (a module's default MODEL_PATH is read by the e2e tests that run it), must be an input;
//  - a project whose specs skip themselves on what the machine lacks (`cond ? describe : describe.skip`) must have a
//    runtime input that tells machines apart, or not be cached at all, so a skip is never replayed as a pass.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const CONDITIONAL_SKIP = /\?\s*(?:describe|it|test)\s*:\s*(?:describe|it|test)\.skip\b|(?:describe|it|test)\.skip\(`[^`]*\$\{/;
const QUOTED_PATH = /['"`]((?:\.\.\/)*)([\w@.-]+(?:\/[\w@.-]+)*)\/?['"`]/g;

/** Workspace files named by quoted paths in `source`: a file itself, or every file under a folder. */
export function namedWorkspaceFiles(source, trackedFiles, projectRoots) {
  const named = new Set();
  for (const [, , path] of source.matchAll(QUOTED_PATH)) {
    if (!path.includes('/') && !trackedFiles.has(path)) continue; // a bare word, not a path
    // A folder that holds projects (`readdirSync('apps')`) is the project graph's business, not a file input.
    if (projectRoots.some((root) => root === path || root.startsWith(`${path}/`))) continue;
    if (trackedFiles.has(path)) named.add(path);
    else for (const file of trackedFiles) if (file.startsWith(`${path}/`)) named.add(file);
  }
  return named;
}

export async function checkTestInputs(workspaceRoot) {
  const require = createRequire(join(workspaceRoot, 'package.json'));
  const { createProjectGraphAsync } = require('@nx/devkit');
  const { readNxJson } = require('nx/src/config/nx-json');
  // Not public API, but the very function behind `nx show target inputs`: the hash plan the task runner uses.
  const { getTaskRawInputs } = require('nx/src/hasher/check-task-files');

  const projectGraph = await createProjectGraphAsync({ exitOnError: true });
  const nxJson = readNxJson(workspaceRoot);
  const trackedFiles = new Set(execFileSync('git', ['ls-files'], { cwd: workspaceRoot, encoding: 'utf8' }).split('\n').filter(Boolean));
  const projectRoots = Object.values(projectGraph.nodes).map((node) => node.data.root);
  const sourcesOf = (root, { specs }) => [...trackedFiles].filter((file) => file.startsWith(`${root}/`) && file.endsWith('.ts') && (specs || !file.endsWith('.spec.ts')));
  const dependenciesOf = (name, seen = new Set()) => {
    for (const { target } of projectGraph.dependencies[name] ?? []) {
      if (projectGraph.nodes[target] && !seen.has(target)) dependenciesOf(target, seen.add(target));
    }
    return seen;
  };

  const problems = [];
  for (const [name, node] of Object.entries(projectGraph.nodes)) {
    const target = node.data.targets?.test;
    if (!target || target.cache === false) continue; // not cached: nothing to be stale
    const ownSources = sourcesOf(node.data.root, { specs: true });
    const read = (file) => readFileSync(join(workspaceRoot, file), 'utf8');
    const dependencyRoots = [...dependenciesOf(name)].map((dep) => projectGraph.nodes[dep].data.root);
    const sources = [...ownSources, ...dependencyRoots.flatMap((root) => sourcesOf(root, { specs: false }))];
    const named = new Set(sources.flatMap((file) => [...namedWorkspaceFiles(read(file), trackedFiles, projectRoots)]));

    const inputs = await getTaskRawInputs(`${name}:test`, { projectGraph, nxJson });
    const hashed = new Set(inputs.files);
    // The project's own files and its dependencies' are the project graph's to hash (default, ^production).
    const missing = [...named].filter((file) => !hashed.has(file) && ![node.data.root, ...dependencyRoots].some((root) => file.startsWith(`${root}/`)));
    if (missing.length > 0) problems.push(`${name}:test reads ${missing.join(', ')} but they are not among its inputs`);

    const skipsOnMachine = ownSources.filter((file) => file.endsWith('.spec.ts') && CONDITIONAL_SKIP.test(read(file)));
    if (skipsOnMachine.length > 0 && target.cache !== false && inputs.runtime.length === 0) {
      problems.push(`${name}:test skips tests on what the machine lacks (${skipsOnMachine.join(', ')}) but is cached without a runtime input that probes the machine`);
    }
  }
  return problems;
}
