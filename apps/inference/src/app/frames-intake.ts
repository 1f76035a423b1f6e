import type { SourceConfig } from '@iev/capture-sources';
import { frameCodec, FRAMES_TOPIC } from '@iev/frame-protocol';
import { connectingCurve, releaseReceived, ServerZmqFanIn, type CurveSettings } from '@iev/zmq-transport';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { inProcessCapture } from './in-process-capture';
import type { ReleasePixels } from './tokens';

/** Where inference's frames come from: the transport strategy that serves them, and what the module reads of it. */
export interface FramesIntake {
  server: CustomTransportStrategy;
  /** Gives a frame's pixels back once nothing reads them (RELEASE_PIXELS). */
  release: ReleasePixels;
  /** For /health and the twin's status. */
  status(): Record<string, unknown>;
  /** Messages that failed to decode, per capture endpoint (none in process). */
  malformedByEndpoint(): ReadonlyArray<{ endpoint: string; malformed: number }>;
}

/** Frames on demand from capture modules, one link per FRAMES_CONNECT endpoint. */
export function capturedFrames(framesConnect: string[], curve: CurveSettings | undefined): FramesIntake {
  const server = new ServerZmqFanIn({ endpoints: framesConnect, codecs: { [FRAMES_TOPIC]: frameCodec }, curve: connectingCurve(curve, 'FRAMES') });
  return {
    server,
    release: (pixels) => void releaseReceived(pixels),
    status: () => ({ transport: server.stats() }),
    malformedByEndpoint: () => server.stats().endpoints,
  };
}

/** Frames from the decoders of CAPTURE_SOURCES, run in this process (inProcessCapture). */
export async function ownFrames(sources: SourceConfig[], logger: Logger, registry: Registry): Promise<FramesIntake> {
  const server = await inProcessCapture(sources, logger, registry);
  return {
    server,
    release: (pixels) => server.release(pixels),
    status: () => ({ capture: server.stats() }),
    malformedByEndpoint: () => [],
  };
}
