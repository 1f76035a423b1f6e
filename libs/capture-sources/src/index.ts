export { VideoFileSource, type CapturedFrame, type VideoFileSourceOptions, type VideoFileSourceStats } from './lib/video-file-source';
export { FrameAssembler } from './lib/frame-assembler';
export { VideoSourceError } from './lib/video-source-error';
