import { FairFrameOffer, type SourceConfig } from '@iev/capture-sources';
import { frameCodec, FRAMES_TOPIC } from '@iev/frame-protocol';
import { listenAsConfigured } from '@iev/service-runtime';
import { boundCurve, ClientZmqOnDemand, connectingCurve, releaseReceived, ServerZmqFanIn, type CurveSettings } from '@iev/zmq-transport';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { inProcessCapture, type InProcessCameras } from './in-process-capture';
import type { ReleasePixels } from './tokens';

/** Where inference's frames come from: the transport strategy that serves them, and what the module reads of it. */
export interface FramesIntake {
  server: CustomTransportStrategy;
  /** Gives a frame's pixels back once nothing reads them (RELEASE_PIXELS). */
  release: ReleasePixels;
  /** For /health and the twin's status. */
  status(): Record<string, unknown>;
  /** The cameras decoded here that deliver no frames (not yet, or retrying); none for frames from capture modules. */
  sourcesDown(): string[];
  /** Messages that failed to decode, per capture endpoint (none in process). */
  malformedByEndpoint(): ReadonlyArray<{ endpoint: string; malformed: number }>;
  /** What it opened beside its server, closed once the server has. */
  close?(): Promise<void>;
  /** The cameras it decodes itself, which the twin may change. */
  cameras?: InProcessCameras;
}

/** Frames on demand from capture modules, one link per FRAMES_CONNECT endpoint. */
export function capturedFrames(framesConnect: string[], curve: CurveSettings | undefined): FramesIntake {
  const server = new ServerZmqFanIn({ endpoints: framesConnect, codecs: { [FRAMES_TOPIC]: frameCodec }, curve: connectingCurve(curve, 'FRAMES') });
  return {
    server,
    release: (pixels) => void releaseReceived(pixels),
    status: () => ({ transport: server.stats() }),
    sourcesDown: () => [],
    malformedByEndpoint: () => server.stats().endpoints,
  };
}

/**
 * Frames from the decoders of CAPTURE_SOURCES, run in this process (inProcessCapture). With `framesBind`, each frame
 * is also offered there as capture offers it, so that the preview can show them: a consumer gets the newest when it
 * asks, and nothing is sent that nobody asks for.
 */
export async function ownFrames(
  sources: SourceConfig[],
  addedConfig: (sourceId: string) => SourceConfig,
  logger: Logger,
  registry: Registry,
  framesBind: string | undefined,
  curve: CurveSettings | undefined,
): Promise<FramesIntake> {
  const framesClient = framesBind === undefined ? undefined : new ClientZmqOnDemand({ endpoint: framesBind, bind: true, codecs: { [FRAMES_TOPIC]: frameCodec }, curve: boundCurve(curve) });
  if (framesClient) await listenAsConfigured('FRAMES_BIND', framesClient.connect());
  // Each consumer's request answered by the cameras in turn, as a capture module per camera would answer its own.
  const offered =
    framesClient &&
    new FairFrameOffer(framesClient, (error, frame) => logger.warn({ err: error, sourceId: frame.sourceId, sequence: frame.sequence }, `frame not offered: ${error.message}`));
  const closeOffer = async () => {
    offered?.close();
    await framesClient?.close();
  };
  const { server, cameras } = await inProcessCapture(sources, addedConfig, logger, registry, offered).catch(async (error: unknown) => {
    await closeOffer();
    throw error;
  });
  return {
    server,
    cameras,
    release: (pixels) => server.release(pixels),
    status: () => ({ capture: server.stats(), ...(framesClient && { offered: framesClient.stats() }) }),
    // A file played once that ended is done, not down: a capture module is healthy then too.
    sourcesDown: () => server.stats().flatMap(({ sourceId, state }) => (state === 'streaming' || state === 'ended' ? [] : [sourceId])),
    malformedByEndpoint: () => [],
    close: closeOffer,
  };
}
