import {
  assertCropFitsKnownPicture,
  cropSetting,
  LentBuffers,
  loggedDecoderMessages,
  observedSupervision,
  prepareSource,
  prepareStartupSource,
  sameSettings,
  ServerInProcessCapture,
  sourceSetup,
  sourceTwinSpec,
  stallAfterMs,
  stallSetting,
  type InProcessSource,
  type PreparedSource,
  type SourceConfig,
  type SourceSettings,
  type SourceSetup,
} from '@iev/capture-sources';
import { regionListTextVariable } from '@iev/detection-pipeline';
import { desiredGroups, edgeConnectionKind, twinKey, type DesiredGroups } from '@iev/iot-edge';
import type { Frame } from '@iev/frame-protocol';
import type { Logger } from 'pino';
import { optional, type ConfigOf } from '@iev/service-runtime';
import { Counter, Gauge, type Registry } from 'prom-client';

/** Another consumer of the frames decoded here (the preview, through capture's frames socket). */
export interface FramesOffer {
  offer(frame: Frame): void;
  /** Whether it still reads this memory (ClientZmqOnDemand.holds). */
  holds(buffer: ArrayBufferLike): boolean;
  /** A camera removed: its last frame, offered while nobody asked, must not reach a consumer that asks later. */
  forget(sourceId: string): void;
}

/** The cameras of CAPTURE_SOURCES decoded here, and what inference's twin changes of them live. */
export interface InProcessCapture {
  server: ServerInProcessCapture;
  cameras: InProcessCameras;
}

/**
 * The sources of CAPTURE_SOURCES, prepared as a capture module prepares its one (a file that cannot be read fails
 * start-up, a camera or stream not up yet is retried), decoded in this process; their state goes to the log and to
 * capture's metrics, labelled by source. Each frame is also offered to `also`, where given. A camera the twin adds is
 * configured by `addedConfig` (CAPTURE_SOURCES' own inheritance: readAddedSource).
 */
export async function inProcessCapture(
  configs: SourceConfig[],
  addedConfig: (sourceId: string) => SourceConfig,
  logger: Logger,
  registry: Registry,
  also?: FramesOffer,
): Promise<InProcessCapture> {
  const registers = [registry];
  const labelNames = ['source_id'] as const;
  const sourceUp = new Gauge({ name: 'iev_inference_source_up', help: '1 while the source decoded in this process delivers frames', labelNames, registers });
  const restarts = new Counter({ name: 'iev_inference_source_restarts_total', help: 'Times a source decoded in this process failed and was restarted', labelNames, registers });
  const downSeconds = new Counter({
    name: 'iev_inference_source_down_seconds_total',
    help: 'Time from a source decoded in this process failing to its next frame, summed over outages; an outage adds its time at each retry while it lasts',
    labelNames,
    registers,
  });
  const switchFailures = new Counter({
    name: 'iev_inference_source_switch_failures_total',
    help: 'Attempts of a source switched to make-before-break (a twin change) that failed before its first frame, the running source delivering on',
    labelNames,
    registers,
  });
  const decoderMessages = new Counter({
    name: 'iev_inference_source_decoder_messages_total',
    help: 'Warnings and errors the decoder of a source decoded in this process wrote while frames flowed: corrupt frames, packets lost on a stream',
    labelNames,
    registers,
  });
  const lent = new LentBuffers();
  const bufferHeld = also ? (buffer: ArrayBufferLike) => lent.held(buffer) || also.holds(buffer) : lent.held;
  /** `startupSetting`: where its source was set at start-up, its crop beside it (`CAPTURE_SOURCES[1] CAMERA_PATH`). */
  const cameraOf = (config: SourceConfig, startupSetting: string) => {
    const cameraLogger = logger.child({ sourceId: config.sourceId });
    const onDecoderMessage = loggedDecoderMessages(cameraLogger, () => decoderMessages.inc({ source_id: config.sourceId }));
    const setup = sourceSetup(config, { bufferHeld, onDecoderMessage, onWarning: (message) => cameraLogger.warn(message) });
    return new InProcessCamera(config, setup, startupSetting);
  };
  const factory: CameraFactory = {
    // Its settings but the source are inference's own variables' (CAPTURE_CROP).
    camera: (sourceId) => cameraOf(addedConfig(sourceId), 'CAMERA_PATH'),
    source: (camera, prepared, failFastBeforeFirstFrame) => {
      const source = { source_id: camera.sourceId };
      return {
        sourceId: camera.sourceId,
        create: prepared.create,
        identity: prepared,
        failFastBeforeFirstFrame,
        stallTimeoutMs: () => camera.stallTimeoutMs(),
        stallSetting: () => camera.stallSetting(),
        // Not the source's type in the log's context: a twin may switch it to another.
        listener: observedSupervision(
          {
            setUp: (up) => sourceUp.set(source, up),
            countRestart: () => restarts.inc(source),
            addDownSeconds: (seconds) => downSeconds.inc(source, seconds),
            countSwitchFailure: () => switchFailures.inc(source),
          },
          logger.child({ sourceId: camera.sourceId }),
        ),
      };
    },
    removed: (sourceId) => {
      for (const metric of [sourceUp, restarts, downSeconds, switchFailures, decoderMessages]) metric.remove({ source_id: sourceId });
      also?.forget(sourceId);
    },
  };
  const cameras = configs.map((config, index) => cameraOf(config, `CAPTURE_SOURCES[${index}] CAMERA_PATH`));
  // Under IoT Edge the twin's document at start-up may give a camera another source, which its CAPTURE_CROP was meant
  // for: a test pattern's picture is not checked against it then, only its own start, as capture does.
  const prepareConfigured = edgeConnectionKind() === 'none' ? prepareStartupSource : prepareSource;
  const sources = await Promise.all(
    cameras.map(async (camera) => {
      const prepared = await prepareConfigured(camera.settings, camera.setup.options, { setting: camera.startupSetting, logger });
      return factory.source(camera, prepared, prepared.description.type === 'file');
    }),
  );
  const server = new ServerInProcessCapture(sources, lent, also && ((frame) => also.offer(frame)));
  new Counter({
    name: 'iev_inference_source_frames_decoded_total',
    help: 'Frames the decoder of a source decoded in this process delivered, taken or not',
    labelNames,
    registers,
    collect() {
      // Read at scrape, as capture's own: the series of a camera the twin removed goes with it.
      this.reset();
      for (const { sourceId, framesDecoded } of server.stats()) this.inc({ source_id: sourceId }, framesDecoded);
    },
  });
  new Gauge({
    name: 'iev_inference_source_switch_pending_seconds',
    help: "How long a make-before-break switch (a twin change) of a source decoded in this process has waited for its new source's first frame, the running source delivering on; 0 with none pending",
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const { sourceId, switchPendingSeconds } of server.stats()) this.set({ source_id: sourceId }, switchPendingSeconds);
    },
  });
  return { server, cameras: new InProcessCameras(server, cameras, factory, logger) };
}

/** How InProcessCameras makes and runs a camera. */
interface CameraFactory {
  /** A camera the twin adds, configured as a CAPTURE_SOURCES entry that names only its SOURCE_ID. */
  camera(sourceId: string): InProcessCamera;
  /** What the server runs for the camera, its state going to the log and the metrics. */
  source(camera: InProcessCamera, source: PreparedSource, failFastBeforeFirstFrame: boolean): InProcessSource;
  /** A camera the twin removed (stopped): its series go, and its frame waiting for a consumer. */
  removed(sourceId: string): void;
}

/** One camera: how it is opened, and its settings now (start-up's, then the twin's). */
class InProcessCamera {
  readonly sourceId: string;
  settings: CameraTwinSettings;
  /**
   * The rate of the source it is switching to, or runs: what its stall limit follows, read as each source starts,
   * so set before the switch starts the new one (settings change only once it is done), as capture's twin does.
   */
  private sourceFps: number;

  constructor(
    private readonly config: SourceConfig,
    readonly setup: SourceSetup,
    /** Where its source was set at start-up (`CAPTURE_SOURCES[1] CAMERA_PATH`), its other settings beside it. */
    readonly startupSetting: string,
  ) {
    this.sourceId = config.sourceId;
    this.settings = setup.settings;
    this.sourceFps = setup.settings.fps;
  }

  /** A source on these settings is about to start (added, or switched to). */
  starting(settings: CameraTwinSettings): void {
    this.sourceFps = settings.fps;
  }

  stallTimeoutMs(): number {
    return stallAfterMs(this.config.streamTimeout, this.sourceFps);
  }

  /** The setting that gives stallTimeoutMs: its start-up one's, or the twin's rate where the twin changed it. */
  stallSetting(): string {
    const fps = this.sourceFps;
    const twinFpsSetting = fps === this.setup.settings.fps ? undefined : `cameras.${twinKey(this.sourceId)}.fps`;
    return stallSetting({ sourceSetting: this.startupSetting, streamTimeoutSeconds: this.config.streamTimeout, fps, twinFpsSetting });
  }
}

/** InProcessCameras.prepare's answer. */
export interface PreparedCameras {
  /** Switches, adds and removes the cameras that could be prepared. */
  switch(): Promise<void>;
  /** Why each camera that could not be was refused (`cameras.door: source: video file not found: ...`). */
  refused: string[];
}

/** A twin change prepared: what each camera becomes. */
interface PreparedCamera {
  key: string;
  camera: InProcessCamera;
  settings: SourceSettings;
  source: PreparedSource;
}

/**
 * A camera's entry in inference's twin: what capture's twin sets of its one, and its own ignore regions, as a
 * CAPTURE_SOURCES entry may give them (as text: a twin holds no arrays). Not the camera's: a change of them alone
 * restarts nothing (sameSettings), they go to the regions in force (applyInferenceSettings).
 */
export const cameraTwinSpec = { ...sourceTwinSpec, ignoreRegions: optional(regionListTextVariable('ignoreRegions')) };
export type CameraTwinSettings = SourceSettings & Partial<Pick<ConfigOf<typeof cameraTwinSpec>, 'ignoreRegions'>>;

/**
 * What inference's twin sets of its cameras: `cameras`, keyed by each camera's SOURCE_ID (as a twin key), with what
 * a capture module's twin sets of its one (source, fps, width, height, crop). A camera that changes is switched to its new
 * settings as capture's twin switches its source (make-before-break where the two can run side by side). The twin may add a camera of its own, named by a new key (its
 * SOURCE_ID) with its source, its other settings inherited as a CAPTURE_SOURCES entry's are; null removes it again.
 * The cameras of CAPTURE_SOURCES stay: null returns them to their start-up settings.
 */
export class InProcessCameras {
  readonly twinSpec: DesiredGroups<typeof cameraTwinSpec>;
  private readonly byTwinKey: Map<string, InProcessCamera>;
  private readonly listeners: CameraListener[] = [];

  constructor(
    private readonly server: ServerInProcessCapture,
    cameras: readonly InProcessCamera[],
    private readonly factory: CameraFactory,
    private readonly logger: Logger,
  ) {
    this.byTwinKey = new Map(cameras.map((camera) => [twinKey(camera.sourceId), camera]));
    this.twinSpec = desiredGroups(cameraTwinSpec, [...this.byTwinKey.keys()], 'camera', {
      required: ['source'],
      defaults: (key) => {
        const { fps, width, height, crop } = factory.camera(key).settings;
        return { fps, width, height, crop };
      },
      // The key becomes the camera's SOURCE_ID, which must be its own twin key: a camera of CAPTURE_SOURCES whose
      // SOURCE_ID is that key has it as its twin key too, and is that camera.
      refuse: (key) => (twinKey(key) === key ? undefined : `a camera's SOURCE_ID, which it would be, must be its own twin key, and this one's is ${twinKey(key)}`),
    });
  }

  /** Tells `listener` of each camera the twin adds, and of each it removes once its decoder has stopped. */
  watch(listener: CameraListener): void {
    this.listeners.push(listener);
  }

  /** Each camera's SOURCE_ID, as its frames and detections name it: those of CAPTURE_SOURCES and those the twin added. */
  sourceIds(): string[] {
    return [...this.byTwinKey.values()].map(({ sourceId }) => sourceId);
  }

  /** The SOURCE_ID of the camera of a twin key: one of CAPTURE_SOURCES', or the key itself, as the twin adds it. */
  sourceIdOf(key: string): string {
    return this.byTwinKey.get(key)?.sourceId ?? key;
  }

  /** Each camera's settings now, by twin key. */
  settings(): Record<string, CameraTwinSettings> {
    return Object.fromEntries([...this.byTwinKey].map(([key, camera]) => [key, { ...camera.settings }]));
  }

  /**
   * Prepares each camera whose settings `next` changes or adds, checked as capture checks a twin change (a camera
   * device that is not there, a file that cannot be read). One that fails is refused, naming it, and left as it is
   * (not added): of a fleet's cameras, one mistyped must not keep the others from changing, nor, in the document read
   * at every reconnect, every later change. A camera device is required only where a camera's source changes, and
   * not by the document at start-up (`startup`, see TwinSettings.apply), where it is waited for. Returns what
   * switches, adds and removes the others, and why each refused camera was.
   */
  async prepare(next: Record<string, CameraTwinSettings>, { startup = false } = {}): Promise<PreparedCameras> {
    const changed = Object.entries(next).filter(([key, settings]) => !sameSettings(this.byTwinKey.get(key)?.settings, settings));
    const removed = [...this.byTwinKey].filter(([key]) => next[key] === undefined);
    const outcomes = await Promise.allSettled(
      changed.map(async ([key, settings]): Promise<PreparedCamera> => {
        const running = this.byTwinKey.get(key);
        const camera = running ?? this.factory.camera(key);
        const requireCamera = !startup && settings.source !== running?.settings.source;
        try {
          // Its crop's errors name the setting that gave it: the twin's, or the start-up one the twin leaves as it was.
          const cropNamed = settings.crop === camera.setup.settings.crop ? cropSetting(camera.startupSetting) : `cameras.${key}.crop`;
          const source = await prepareSource(settings, camera.setup.options, { setting: 'source', cropSetting: cropNamed, requireCamera, logger: this.logger });
          // A crop the running camera's picture cannot hold is refused, the camera left running, not switched to; so is
          // one a new camera's file or test pattern cannot, the camera not added.
          if (running) this.server.assertCropFits(running.sourceId, source);
          else assertCropFitsKnownPicture(source);
          return { key, camera, settings, source };
        } catch (error) {
          throw new Error(`cameras.${key}: ${(error as Error).message}`);
        }
      }),
    );
    const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [(outcome.reason as Error).message] : []));
    const prepared = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    return {
      refused,
      switch: async () => {
        for (const [key, camera] of removed) await this.remove(key, camera);
        for (const { key, camera, settings, source } of prepared) await this.run(key, camera, settings, source, startup);
        // A camera whose source and output stay (its ignore regions changed alone) runs on, with its new settings.
        for (const [key, settings] of Object.entries(next)) {
          const camera = this.byTwinKey.get(key);
          if (camera && sameSettings(camera.settings, settings)) camera.settings = settings;
        }
      },
    };
  }

  /**
   * Each step changes the server before the cameras here, so that one that throws (the server closing) leaves them
   * alike. `startup`: the twin's document at start-up, whose cameras replace CAPTURE_SOURCES' at once
   * (SourceSupervisor.switchSource's atOnce).
   */
  private async run(key: string, camera: InProcessCamera, settings: CameraTwinSettings, source: PreparedSource, startup: boolean): Promise<void> {
    const { sourceId } = camera;
    const added = !this.byTwinKey.has(key);
    camera.starting(settings);
    if (added) this.server.addSource(this.factory.source(camera, source, false));
    else await this.server.switchSource(sourceId, source, { atOnce: startup });
    camera.settings = settings;
    this.byTwinKey.set(key, camera);
    if (added) for (const listener of this.listeners) listener.added?.(sourceId);
    const { fps, width, height, crop } = settings;
    this.logger.info({ sourceId, sourceType: source.description.type, fps, width, height, crop }, added ? 'camera added by the twin' : 'camera switched by the twin');
  }

  private async remove(key: string, camera: InProcessCamera): Promise<void> {
    await this.server.removeSource(camera.sourceId);
    this.byTwinKey.delete(key);
    this.factory.removed(camera.sourceId);
    for (const listener of this.listeners) listener.removed?.(camera.sourceId);
    this.logger.info({ sourceId: camera.sourceId }, 'camera removed by the twin');
  }
}

/** What InProcessCameras.watch tells of the cameras the twin adds and removes. */
export interface CameraListener {
  added?(sourceId: string): void;
  removed?(sourceId: string): void;
}
