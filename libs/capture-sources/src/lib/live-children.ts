import type { FfmpegCommand } from 'fluent-ffmpeg';

// Every running ffmpeg, so none outlives this process: 'exit' handlers must be synchronous, and SIGKILL is.
const runningCommands = new Set<FfmpegCommand>();
let exitHookInstalled = false;

function killAllRunning(): void {
  for (const command of runningCommands) command.kill('SIGKILL');
}

/** Registers a spawned ffmpeg to be killed if the process exits first; call the returned function once it has exited. */
export function trackRunningCommand(command: FfmpegCommand): () => void {
  if (!exitHookInstalled) {
    process.on('exit', killAllRunning);
    exitHookInstalled = true;
  }
  runningCommands.add(command);
  return () => runningCommands.delete(command);
}
