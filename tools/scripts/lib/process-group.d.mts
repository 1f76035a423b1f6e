import type { ChildProcess } from 'node:child_process';

export interface ProcessSpec {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Default: this Node.js. */
  command?: string;
}

export type Printer = (name: string, line: string) => void;

export function formatLogLine(line: string, rawJson?: boolean): string;
export function previewAddress(line: string): string | undefined;
export function createPrinter(names: string[], options?: { rawJson?: boolean; write?: (text: string) => void }): Printer;
export function runProcessGroup(
  specs: ProcessSpec[],
  options: { print: Printer; killAfterMs?: number; startUpWaitMs?: number },
): { children: Map<string, ChildProcess>; stop(signal?: NodeJS.Signals): void; done: Promise<number>; started: Promise<void> };
