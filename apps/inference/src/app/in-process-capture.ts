import { LentBuffers, observedSupervision, prepareSource, ServerInProcessCapture, sourceSetup, sourceTwinSpec, stallAfterMs, type SourceConfig, type SourceSettings, type SourceSetup } from '@iev/capture-sources';
import { desiredGroups, twinKey, type DesiredGroups } from '@iev/iot-edge';
import { counterReadAtScrape } from '@iev/service-runtime';
import type { Frame } from '@iev/frame-protocol';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';

/** Another consumer of the frames decoded here (the preview, through capture's frames socket). */
export interface FramesOffer {
  offer(frame: Frame): void;
  /** Whether it still reads this memory (ClientZmqOnDemand.holds). */
  holds(buffer: ArrayBufferLike): boolean;
}

/** The cameras of CAPTURE_SOURCES decoded here, and what inference's twin changes of them live. */
export interface InProcessCapture {
  server: ServerInProcessCapture;
  cameras: InProcessCameras;
}

/**
 * The sources of CAPTURE_SOURCES, prepared as a capture module prepares its one (a file that cannot be read fails
 * start-up, a camera or stream not up yet is retried), decoded in this process; their state goes to the log and to
 * capture's metrics, labelled by source. Each frame is also offered to `also`, where given.
 */
export async function inProcessCapture(configs: SourceConfig[], logger: Logger, registry: Registry, also?: FramesOffer): Promise<InProcessCapture> {
  const registers = [registry];
  const labelNames = ['source_id'] as const;
  const sourceUp = new Gauge({ name: 'iev_inference_source_up', help: '1 while the source decoded in this process delivers frames', labelNames, registers });
  const restarts = new Counter({ name: 'iev_inference_source_restarts_total', help: 'Times a source decoded in this process failed and was restarted', labelNames, registers });
  const downSeconds = new Counter({
    name: 'iev_inference_source_down_seconds_total',
    help: 'Time from a source decoded in this process failing to its next frame, summed over outages',
    labelNames,
    registers,
  });
  const lent = new LentBuffers();
  const cameras = configs.map((config) => new InProcessCamera(config, sourceSetup(config, also ? (buffer) => lent.held(buffer) || also.holds(buffer) : lent.held)));
  const sources = await Promise.all(
    cameras.map(async (camera) => {
      const { description, create } = await prepareSource(camera.settings, camera.setup.options);
      const source = { source_id: camera.sourceId };
      return {
        sourceId: camera.sourceId,
        create,
        failFastBeforeFirstFrame: description.type === 'file',
        stallTimeoutMs: () => camera.stallTimeoutMs(),
        // Not the source's type in the log's context: a twin may switch it to another.
        listener: observedSupervision(
          { setUp: (up) => sourceUp.set(source, up), countRestart: () => restarts.inc(source), addDownSeconds: (seconds) => downSeconds.inc(source, seconds) },
          logger.child({ sourceId: camera.sourceId }),
        ),
      };
    }),
  );
  const server = new ServerInProcessCapture(sources, lent, also && ((frame) => also.offer(frame)));
  counterReadAtScrape(registry, 'iev_inference_source_frames_decoded_total', 'Frames the decoders in this process delivered, taken or not', () => server.stats().reduce((sum, { framesDecoded }) => sum + framesDecoded, 0));
  return { server, cameras: new InProcessCameras(server, cameras, logger) };
}

/** One camera of CAPTURE_SOURCES: how it is opened, and its settings now (start-up's, then the twin's). */
class InProcessCamera {
  readonly sourceId: string;
  settings: SourceSettings;

  constructor(
    private readonly config: SourceConfig,
    readonly setup: SourceSetup,
  ) {
    this.sourceId = config.sourceId;
    this.settings = setup.settings;
  }

  stallTimeoutMs(): number {
    return stallAfterMs(this.config.streamTimeout, this.settings.fps);
  }
}

/**
 * What inference's twin sets of its cameras: `cameras`, keyed by each camera's SOURCE_ID (as a twin key), with what
 * a capture module's twin sets of its one (source, fps, width, height). A camera that changes is restarted on its new
 * settings, as capture's twin restarts its source; the set of cameras is the deployment's.
 */
export class InProcessCameras {
  readonly twinSpec: DesiredGroups<typeof sourceTwinSpec>;
  private readonly byTwinKey: Map<string, InProcessCamera>;

  constructor(
    private readonly server: ServerInProcessCapture,
    cameras: readonly InProcessCamera[],
    private readonly logger: Logger,
  ) {
    this.byTwinKey = new Map(cameras.map((camera) => [twinKey(camera.sourceId), camera]));
    this.twinSpec = desiredGroups(sourceTwinSpec, [...this.byTwinKey.keys()], 'camera');
  }

  /** Each camera's settings now, by twin key. */
  settings(): Record<string, SourceSettings> {
    return Object.fromEntries([...this.byTwinKey].map(([key, camera]) => [key, { ...camera.settings }]));
  }

  /**
   * Prepares each camera whose settings `next` changes, checked as capture checks a twin change (a camera device that
   * is not there, a file that cannot be read): one that fails rejects them all, and nothing has changed. Returns what
   * switches them.
   */
  async prepare(next: Record<string, SourceSettings>): Promise<() => Promise<void>> {
    const changed = [...this.byTwinKey].filter(([key, camera]) => !sameSettings(camera.settings, next[key]));
    const outcomes = await Promise.allSettled(
      changed.map(async ([key, camera]) => {
        const settings = next[key];
        const source = await prepareSource(settings, camera.setup.options, { requireCamera: true }).catch((error: Error) => {
          throw new Error(`cameras.${key}: ${error.message}`);
        });
        return { camera, settings, source };
      }),
    );
    const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [(outcome.reason as Error).message] : []));
    if (failures.length > 0) throw new Error(failures.join('; '));
    const prepared = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    return async () => {
      for (const { camera, settings, source } of prepared) {
        camera.settings = settings;
        await this.server.switchSource(camera.sourceId, source.create);
        this.logger.info({ sourceId: camera.sourceId, sourceType: source.description.type, fps: settings.fps, width: settings.width, height: settings.height }, 'camera switched by the twin');
      }
    };
  }
}

function sameSettings(a: SourceSettings, b: SourceSettings): boolean {
  return a.source === b.source && a.fps === b.fps && a.width === b.width && a.height === b.height;
}
