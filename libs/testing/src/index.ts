// Helpers for specs: real processes, real ports, and waiting on what they do. Used by tests only.
export { LineProcess } from './lib/line-process';
export { readBgrImage } from './lib/images';
export { videoFrames, type VideoFrame } from './lib/video-frames';
export { freePort, freeRtpPort } from './lib/ports';
export { childPids, isRunning } from './lib/processes';
export { metricSums } from './lib/prometheus';
export { recordingLog } from './lib/recording-log';
export { startSilencingCamera, type SilencingCamera } from './lib/silencing-camera';
export { stopThreads, threadsNamed, whyThreadsCannotBeStopped } from './lib/thread-stops';
export { eventually, waitUntil, type WaitOptions } from './lib/wait';
