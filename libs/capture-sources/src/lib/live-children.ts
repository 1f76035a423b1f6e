import type { ChildProcess } from 'node:child_process';

// Every running decoder, so none outlives this process: 'exit' handlers must be synchronous, and SIGKILL is.
const runningChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAllRunning(): void {
  for (const child of runningChildren) child.kill('SIGKILL');
}

/** Registers a spawned decoder to be killed if the process exits first; call the returned function once it has exited. */
export function trackRunningChild(child: ChildProcess): () => void {
  if (!exitHookInstalled) {
    process.on('exit', killAllRunning);
    exitHookInstalled = true;
  }
  runningChildren.add(child);
  return () => runningChildren.delete(child);
}
