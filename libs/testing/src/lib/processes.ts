import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Whether a process with this pid exists (signal 0 checks without signalling) and, where /proc says, is no zombie: an
 * orphan that exited stays one while its new parent does not reap it (a container's init may never).
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return process.platform !== 'linux' || processState(pid) !== 'Z';
}

/** The state letter of /proc/<pid>/stat (R, S, Z, ...), after the command name, which may hold spaces and brackets; undefined once gone. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2];
  } catch {
    return undefined;
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
