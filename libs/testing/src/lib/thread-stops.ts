import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Stops the threads named on its command line with ptrace (seized, then interrupted: each thread alone, its process
 * going on) and holds them until its stdin closes: a tracer that ends lets its threads go on. Meanwhile it reaps each
 * as it dies (killed with its process): a traced thread that dies stays until its tracer waits for it, and an exec or
 * exit of its process would wait for that, which no native call that hangs would make it do.
 */
const STOPPER = `
import ctypes, os, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_SEIZE, PTRACE_INTERRUPT, WALL = 0x4206, 0x4207, 0x40000000
tids = set(map(int, sys.argv[1:]))
for tid in tids:
    for request in (PTRACE_SEIZE, PTRACE_INTERRUPT):
        if libc.ptrace(request, tid, None, None) != 0:
            sys.exit(f"ptrace {request:#x} of thread {tid}: errno {ctypes.get_errno()}")
print("stopped", flush=True)
threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
while tids:
    tid, status = os.waitpid(-1, WALL)
    if os.WIFEXITED(status) or os.WIFSIGNALED(status):
        tids.discard(tid)
`;

/**
 * Why threads of another process cannot be stopped here, undefined where they can: Linux, python3 to call ptrace, and
 * leave to trace a process that is not the tracer's own descendant (Yama's ptrace_scope 1 and over refuse it without
 * CAP_SYS_PTRACE), tried on a sleep spawned beside the tracer, as a module is.
 */
export function whyThreadsCannotBeStopped(): string | undefined {
  if (process.platform !== 'linux') return `${process.platform} has no ptrace`;
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const tried = spawnSync('python3', ['-c', STOPPER, String(sleeper.pid)], { input: '', encoding: 'utf8' });
    if (tried.error) return `no python3 to call ptrace (${tried.error.message})`;
    return tried.stdout.includes('stopped') ? undefined : tried.stderr.trim();
  } finally {
    sleeper.kill('SIGKILL');
  }
}

/** A process's threads by name (Node.js names its worker threads `WorkerThread`), oldest first. */
export function threadsNamed(pid: number, name: string): number[] {
  const startOf = (tid: number) => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[19]);
  const tids = readdirSync(`/proc/${pid}/task`).map(Number);
  return tids.filter((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === name).sort((a, b) => startOf(a) - startOf(b) || a - b);
}

/**
 * Stops these threads of another process where they are, as a native call that never returns would hold them (a model
 * run hung in a driver), while its other threads run on; `release()` lets them go on. Resolves once all are stopped.
 */
export async function stopThreads(tids: readonly number[]): Promise<{ release(): void }> {
  const stopper = spawn('python3', ['-c', STOPPER, ...tids.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  stopper.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    stopper.stdout.once('data', () => resolve());
    stopper.once('exit', () => reject(new Error(`could not stop threads ${tids.join(', ')}: ${stderr.trim()}`)));
  });
  return { release: () => stopper.kill() };
}
