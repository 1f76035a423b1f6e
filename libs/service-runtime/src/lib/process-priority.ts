import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Gives every thread of a process the nice value `nice`, or keeps a thread's own where it is already lower priority
 * (raising one needs a privilege). Linux keeps one per thread; threads started later inherit their creator's, so
 * libuv's and libvips' pools started after this run at it too. For a module that should use
 * only the CPU the pipeline leaves: on a saturated edge box it slows down, not the others. Returns the threads set.
 */
export function reniceProcess(nice: number, pid = process.pid): number {
  let threads: number[];
  try {
    threads = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    // No /proc (not Linux): the process's priority, as the OS keeps it.
    setPriority(pid, Math.max(getPriority(pid), nice));
    return 1;
  }
  let set = 0;
  for (const thread of threads) {
    try {
      setPriority(thread, Math.max(getPriority(thread), nice));
      set++;
    } catch (error) {
      // A thread that ended since the listing has nothing to set.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  return set;
}
