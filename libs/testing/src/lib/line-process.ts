import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** How much of a process's output a failure to find something in it quotes. */
const QUOTED_LINES = 20;

/** A real child process whose output lines are collected as they come, for tests that wait on what it prints. */
export class LineProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  /** Both streams' lines in the order they arrived. */
  readonly output: string[] = [];
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** The exit code (null when killed by a signal), once the process has exited and its output is all read. */
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (into: string[]) => (line: string) => {
      into.push(line);
      this.output.push(line);
      this.wakeWaiters();
    };
    createInterface({ input: this.child.stdout }).on('line', collect(this.stdout));
    createInterface({ input: this.child.stderr }).on('line', collect(this.stderr));
    // 'close' comes after the output streams have ended, so every line is in before a waiter hears of the exit.
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code) => {
        this.closed = true;
        resolve(code);
        this.wakeWaiters();
      }),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Resolves with the first value `pick` finds (it is given the stdout lines so far, and asked again at every new
   * line); fails, quoting the output, if the process exits first or after the timeout.
   */
  async waitFor<T>(pick: (stdout: string[]) => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
    const giveUpAt = Date.now() + timeoutMs;
    for (;;) {
      const found = pick(this.stdout);
      if (found !== undefined) return found;
      if (this.closed) throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) waiting for ${what}; last output:\n${this.lastOutput()}`);
      const left = giveUpAt - Date.now();
      if (left <= 0) throw new Error(`${this.name}: timed out waiting for ${what}; last output:\n${this.lastOutput()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The first line, on either stream, that matches. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray> {
    return this.waitFor(() => this.output.map((line) => pattern.exec(line)).find((match) => match !== null) ?? undefined, String(pattern), timeoutMs);
  }

  /** Signals the process unless it has exited, and resolves with its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  private lastOutput(): string {
    return this.output.slice(-QUOTED_LINES).join('\n');
  }

  private wakeWaiters(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
