import { execFile } from 'node:child_process';

/**
 * util-linux's setpriv sets PR_SET_PDEATHSIG and execs the command in its place (the same pid: our signals and its
 * exit code are the command's own), so the kernel signals it when this process dies by SIGKILL or the OOM killer,
 * which no handler here sees. gst-launch-1.0 needs it, as on a silent udpsrc it would live for good; ffmpeg does not
 * (see the README, "Sources that fail"). The signal is SIGINT, gst-launch's own stop signal (gstLaunchTool): it takes
 * the pipeline down to NULL, where SIGKILL would leave a Jetson's Argus camera unopenable. It comes when the thread
 * that spawned the command ends: decoders are spawned from the main thread, which ends with the process.
 */
const DIE_WITH_PARENT = ['--pdeathsig', 'INT', '--'];
const SETPRIV = 'setpriv';

let parentDeathCheck: Promise<string | undefined> | undefined;

/**
 * Undefined where setpriv can bind a command to this process, else why not (no setpriv, one older than util-linux
 * 2.33, not Linux): checked once a process, by running `setpriv --pdeathsig INT -- true`.
 */
export function whyCommandsOutliveThisProcess(): Promise<string | undefined> {
  parentDeathCheck ??= new Promise((resolve) => {
    if (process.platform !== 'linux') return resolve(`${process.platform} has no parent-death signal`);
    execFile(SETPRIV, [...DIE_WITH_PARENT, 'true'], (error, _stdout, stderr) =>
      resolve(error ? `${SETPRIV} --pdeathsig does not run here (${stderr.trim() || error.message}): it needs util-linux 2.33 or later` : undefined),
    );
  });
  return parentDeathCheck;
}

/** The command line that runs path with args killed along with this process where setpriv can do it, else as given. */
export async function boundToThisProcess(path: string, args: string[]): Promise<{ path: string; args: string[] }> {
  return (await whyCommandsOutliveThisProcess()) === undefined ? { path: SETPRIV, args: [...DIE_WITH_PARENT, path, ...args] } : { path, args };
}

let warned = false;

/**
 * One warning, the first time a GStreamer pipeline becomes a source in this process (at start-up or by a twin), if
 * gst-launch-1.0 would outlive this module killed by SIGKILL.
 */
export async function warnIfGstLaunchOutlivesThisProcess(sourceType: string, logger: { warn(message: string): void }): Promise<void> {
  if (sourceType !== 'gstreamer' || warned) return;
  warned = true;
  const reason = await whyCommandsOutliveThisProcess();
  if (reason) logger.warn(`gst-launch-1.0 is not bound to this module (${reason}): if the module is killed by SIGKILL, a GStreamer pipeline reading a silent source runs on until killed`);
}
