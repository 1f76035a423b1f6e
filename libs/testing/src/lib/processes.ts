import { execFileSync } from 'node:child_process';

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids of `parentPid`'s child processes, those whose name matches `name` (a pgrep pattern) when given. */
export function childPids(parentPid: number, name?: string): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parentPid), ...(name === undefined ? [] : [name])], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when none matches
  }
}
