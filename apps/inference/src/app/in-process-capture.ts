import { LentBuffers, observedSupervision, prepareSource, ServerInProcessCapture, sourceSetup, stallAfterMs, type SourceConfig } from '@iev/capture-sources';
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

/**
 * The sources of CAPTURE_SOURCES, prepared as a capture module prepares its one (a file that cannot be read fails
 * start-up, a camera or stream not up yet is retried), decoded in this process; their state goes to the log and to
 * capture's metrics, labelled by source. Each frame is also offered to `also`, where given.
 */
export async function inProcessCapture(configs: SourceConfig[], logger: Logger, registry: Registry, also?: FramesOffer): Promise<ServerInProcessCapture> {
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
  const sources = await Promise.all(
    configs.map(async (config) => {
      const { settings, options } = sourceSetup(config, also ? (buffer) => lent.held(buffer) || also.holds(buffer) : lent.held);
      const { description, create } = await prepareSource(settings, options);
      const source = { source_id: config.sourceId };
      return {
        sourceId: config.sourceId,
        create,
        failFastBeforeFirstFrame: description.type === 'file',
        stallTimeoutMs: () => stallAfterMs(config.streamTimeout, config.fps),
        listener: observedSupervision(
          { setUp: (up) => sourceUp.set(source, up), countRestart: () => restarts.inc(source), addDownSeconds: (seconds) => downSeconds.inc(source, seconds) },
          logger.child({ sourceId: config.sourceId, sourceType: description.type }),
        ),
      };
    }),
  );
  const capture = new ServerInProcessCapture(sources, lent, also && ((frame) => also.offer(frame)));
  counterReadAtScrape(registry, 'iev_inference_source_frames_decoded_total', 'Frames the decoders in this process delivered, taken or not', () => capture.stats().reduce((sum, { framesDecoded }) => sum + framesDecoded, 0));
  return capture;
}
