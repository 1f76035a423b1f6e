import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Whether `command` is an executable file in one of the PATH folders. */
export function isOnPath(command: string): boolean {
  return (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((folder) => folder !== '')
    .some((folder) => {
      try {
        accessSync(join(folder, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

// Arguments made only of these characters read the same to a POSIX shell unquoted.
const SHELL_SAFE = /^[\w@%+=:,./-]+$/;

/** The argv as one line a POSIX shell would run unchanged. */
export function formatCommandLine(argv: readonly string[]): string {
  return argv.map((arg) => (SHELL_SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Runs argv without a shell, its output on ours; resolves with the exit code (1 when killed by a signal). */
export function runCommand(argv: readonly string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const [command, ...args] = argv;
    // process.env explicitly: the command is looked up on the PATH that isOnPath checked.
    const child = spawn(command, args, { cwd, stdio: 'inherit', env: process.env });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}
