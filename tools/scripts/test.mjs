// `npm test`: every project's tests through Nx, then one closing line `N passed, N failed, N skipped`
// summed from each Jest run's own "Tests:" line (replayed by Nx for cached runs too). First, that no cached pass
// can stand for a changed input: each test target's inputs hold every file its tests read (lib/test-inputs.mjs).
import { spawn } from 'node:child_process';
import { checkTestInputs } from './lib/test-inputs.mjs';
import { workspaceRoot } from './nx-build.mjs';

const inputProblems = await checkTestInputs(workspaceRoot);
for (const problem of inputProblems) process.stderr.write(`test inputs: ${problem}\n`);

const child = spawn('npx', ['nx', 'run-many', '-t', 'test', '--outputStyle=static', ...process.argv.slice(2)], {
  cwd: workspaceRoot,
  env: { ...process.env, NX_TUI: 'false', FORCE_COLOR: '0' },
  stdio: ['ignore', 'pipe', 'pipe'],
});

let output = '';
for (const stream of [child.stdout, child.stderr]) {
  stream.on('data', (chunk) => {
    output += chunk;
    (stream === child.stdout ? process.stdout : process.stderr).write(chunk);
  });
}

const count = (line, word) => Number(new RegExp(`(\\d+) ${word}`).exec(line)?.[1] ?? 0);

child.on('exit', (code) => {
  const totals = { passed: 0, failed: inputProblems.length, skipped: 0 };
  const lines = output.split('\n');
  for (const [index, line] of lines.entries()) {
    if (!/^\s*Tests:/.test(line)) continue;
    totals.passed += count(line, 'passed');
    totals.failed += count(line, 'failed');
    totals.skipped += count(line, 'skipped') + count(line, 'todo');
    // A suite that failed to load (syntax error, missing module) fails no individual test: count it.
    const suites = lines[index - 1] ?? '';
    if (/^\s*Test Suites:/.test(suites) && count(line, 'failed') === 0) totals.failed += count(suites, 'failed');
  }
  if (code !== 0 && totals.failed === 0) totals.failed = 1; // Nx failed outside Jest (a build the tests need).
  process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
  process.exit(code === 0 && inputProblems.length > 0 ? 1 : (code ?? 1));
});
