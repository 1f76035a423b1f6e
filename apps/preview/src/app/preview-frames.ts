import { setTimeout as sleep } from 'node:timers/promises';
import { frameCodec, FRAMES_TOPIC, type Frame } from '@iev/frame-protocol';
import type { PreviewSources } from '@iev/preview-server';
import { releaseReceived, ServerZmqFanIn, type ServerZmqFanInOptions } from '@iev/zmq-transport';

/**
 * One more consumer of each capture's frames, at its own pace: the handler resolves no sooner than `intervalMs()`
 * after it started, and that capture then sends the newest frame inference took (frames on demand, following: each
 * frame has detections of its own and none is decoded for the preview alone; with no inference there, the newest).
 * A link per capture, so every source is shown at up to PREVIEW_FPS whatever the others do.
 */
export class PreviewFrames extends ServerZmqFanIn {
  /** Cuts the handlers' waits short on close, which lets a running handler finish: 10 s at PREVIEW_FPS=0.1, Docker's whole stop timeout. */
  private readonly closing = new AbortController();

  constructor(sources: PreviewSources, intervalMs: () => number, options: Pick<ServerZmqFanInOptions, 'endpoints' | 'curve'>) {
    super({ ...options, codecs: { [FRAMES_TOPIC]: frameCodec }, follow: true });
    this.addHandler(
      FRAMES_TOPIC,
      async (frame: Frame) => {
        const started = performance.now();
        sources.addFrame(frame);
        releaseReceived(frame.pixels); // kept as a copy, if at all: see releaseReceived
        // Rejects only when aborted: closing, the frame is kept all the same.
        // Not below 0: a frame that took longer than the interval (a busy machine) is followed by the next at once.
        await sleep(Math.max(0, intervalMs() - (performance.now() - started)), undefined, { signal: this.closing.signal }).catch(() => undefined);
      },
      true,
    );
  }

  override async close(): Promise<void> {
    this.closing.abort();
    await super.close();
  }
}
