export const FRAMES_CLIENT = Symbol('FRAMES_CLIENT');
/** The source at start-up: what it is, and how to create one (PreparedSource). */
export const SOURCE = Symbol('SOURCE');
/** Whether a source failing before its first frame stops start-up (files) or is retried (cameras, streams). */
export const FAIL_FAST = Symbol('FAIL_FAST');
/** How long a live source may deliver no frame before it is restarted (SourceSupervisorOptions.stallTimeoutMs). */
export const STALL_TIMEOUT = Symbol('STALL_TIMEOUT');
/** The setting that gives it, named in a stall's error (SourceSupervisorOptions.stallSetting). */
export const STALL_SETTING = Symbol('STALL_SETTING');
