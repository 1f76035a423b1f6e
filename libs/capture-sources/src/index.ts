export { DECODED_FORMAT_NAMES, type CapturedFrame, type DecodedFormat, type DecoderMessageListener, type FrameSource, type FrameSourceStats, type OutputShape } from './lib/frame-source';
export { loggedDecoderMessages } from './lib/decoder-message-log';
export { FairFrameOffer } from './lib/fair-frame-offer';
export { SOURCES_REPEAT_MS, SourcesAnnouncer } from './lib/sources-announcer';
export { FrameRing, type BufferHeld } from './lib/frame-ring';
export { assertCropFitsKnownPicture, prepareSource, prepareStartupSource, sameSettings, type PreparedSource, type SourceSettings } from './lib/prepare-source';
export { SourceSupervisor, type SourceState, type SourceSupervisorOptions, type StreamingInfo, type SourceIdentity, type SupervisionListener, type SwitchPending, type SwitchTarget } from './lib/source-supervisor';
export { observedSupervision, type SourceStateMetrics } from './lib/observed-supervision';
export {
  createFrameSource,
  ensureDecoderInstalled,
  resolveSource,
  SOURCE_TYPE_OVERRIDES,
  type FrameSourceOptions,
  type SourceDescription,
  type SourceType,
  type SourceTypeOverride,
} from './lib/resolve-source';
export { assertIsFile, VideoFileSource, type VideoFileSourceOptions, type VideoFileSourceStats } from './lib/video-file-source';
export { buildStreamArgs } from './lib/stream-input';
export { buildTestPatternArgs } from './lib/test-pattern-input';
export { buildV4l2Args, type V4l2InputFormat } from './lib/v4l2-input';
export { buildGstLaunchArgs } from './lib/gstreamer-source';
export { FrameAssembler } from './lib/frame-assembler';
export { VideoSourceError } from './lib/video-source-error';
export { cropSetting } from './lib/crop';
export { readAddedSource, readSourceList, sourceConfigSpec, sourceSetup, sourceTwinSpec, stallAfterMs, stallSetting, type SourceConfig, type SourceSetup } from './lib/source-config';
export { InProcessCaptureContext, LentBuffers, ServerInProcessCapture, type InProcessSource, type InProcessSourceStats } from './lib/server-in-process-capture';
