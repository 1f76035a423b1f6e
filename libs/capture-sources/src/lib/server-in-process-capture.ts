import { BaseRpcContext, Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { FRAMES_TOPIC, type Frame } from '@iev/frame-protocol';
import { assertEachOnce } from '@iev/service-runtime';
import { isObservable, lastValueFrom } from 'rxjs';
import type { BufferHeld } from './frame-ring';
import type { FrameSource } from './frame-source';
import { SourceSupervisor, type SourceIdentity, type SourceState, type SupervisionListener, type SwitchPending, type SwitchTarget } from './source-supervisor';

/** A source decoded in this process, as a capture module would run it (see CaptureService). */
export interface InProcessSource {
  sourceId: string;
  /** A fresh source each call: a failed source is replaced (PreparedSource.create). */
  create(): FrameSource;
  /** What the source is (a PreparedSource): given, a switch may be make-before-break (SourceSupervisor.switchSource). */
  identity?: SourceIdentity;
  /** See SourceSupervisorOptions.failFastBeforeFirstFrame: a file that cannot be read stops the module at start. */
  failFastBeforeFirstFrame: boolean;
  /** See SourceSupervisorOptions.stallTimeoutMs. */
  stallTimeoutMs?: () => number;
  /** See SourceSupervisorOptions.stallSetting. */
  stallSetting?: () => string;
  listener?: SupervisionListener;
}

/** One source's state for health and status. */
export interface InProcessSourceStats {
  sourceId: string;
  state: SourceState;
  framesDecoded: number;
  lastFrameAt?: number;
  /** Handler calls that threw or rejected. */
  handlerErrors: number;
  /** A switch waiting for its new source's first frame while the running one delivers (SourceSupervisor.switchPending). */
  switchPending?: SwitchPending;
  /** How long it has waited (SourceSupervisor.switchPendingSeconds), 0 with none. */
  switchPendingSeconds: number;
}

/** The `ServerInProcessCapture` context: which source a frame came from. */
export class InProcessCaptureContext extends BaseRpcContext<[sourceId: string]> {
  getSourceId(): string {
    return this.args[0];
  }
}

/**
 * Frame buffers lent to a consumer and not given back yet. Given to the sources as their bufferHeld, it keeps their
 * rings from cutting a frame into memory the consumer still reads.
 */
export class LentBuffers {
  private readonly lent = new Set<ArrayBufferLike>();
  readonly held: BufferHeld = (buffer) => this.lent.has(buffer);

  lend(pixels: Uint8Array): void {
    this.lent.add(pixels.buffer);
  }

  release(pixels: Uint8Array): void {
    this.lent.delete(pixels.buffer);
  }

  clear(): void {
    this.lent.clear();
  }
}

interface Running {
  source: InProcessSource;
  /** What the handler is told of each of its frames: made once, the same for every frame. */
  context: InProcessCaptureContext;
  supervisor: SourceSupervisor;
  pump?: Promise<void>;
  handlerErrors: number;
}

function runningOf(source: InProcessSource): Running {
  const { sourceId, identity, failFastBeforeFirstFrame, stallTimeoutMs, stallSetting, listener } = source;
  return {
    source,
    context: new InProcessCaptureContext([sourceId]),
    supervisor: new SourceSupervisor(() => source.create(), { identity, failFastBeforeFirstFrame, stallTimeoutMs, stallSetting, listener }),
    handlerErrors: 0,
  };
}

/**
 * NestJS transport strategy that decodes its sources itself and serves their frames to the `@EventPattern(FRAMES_TOPIC)`
 * handler: capture in the consumer's own process, as DeepStream and Savant run it, with no capture module and no
 * ZeroMQ between. Each source runs under a SourceSupervisor (retried with backoff, numbered on across restarts) and
 * is read as its handler settles, one frame at a time: a file is decoded as fast as the handler takes frames, a live
 * source at its own pace with only its newest frame kept. Sources that cut their frames into a ring of reused buffers
 * are given `lent.held` as their bufferHeld; the handler gives each frame's pixels back through release() once nothing
 * reads them.
 */
export class ServerInProcessCapture extends Server implements CustomTransportStrategy {
  private readonly running: Running[];
  private closing = false;
  /** The frames handler, from listen() on: a source added after it is pumped at once. */
  private handler?: MessageHandler;

  /**
   * `lent`: the one the sources were given as their bufferHeld (`lent.held`). `offer`: called with each frame as it is
   * handed to the handler, for another consumer to take the newest of (the preview); what it keeps of a frame's
   * memory, the sources' bufferHeld must say too.
   */
  constructor(
    sources: readonly InProcessSource[],
    private readonly lent: LentBuffers,
    private readonly offer?: (frame: Frame) => void,
  ) {
    super();
    if (sources.length === 0) throw new RangeError('ServerInProcessCapture needs at least one source');
    try {
      assertEachOnce(sources.map(({ sourceId }) => sourceId), 'source id');
    } catch (error) {
      throw new RangeError(`ServerInProcessCapture ${(error as Error).message}`);
    }
    this.running = sources.map(runningOf);
  }

  /** The handler is done with a frame's pixels: its buffer goes back to its source's ring. */
  release(pixels: Uint8Array): void {
    this.lent.release(pixels);
  }

  /** Throws where the target would crop the source streaming now outside its picture (SourceSupervisor.assertCropFits). */
  assertCropFits(sourceId: string, target: SwitchTarget): void {
    this.runningSource(sourceId).supervisor.assertCropFits(target);
  }

  /**
   * Replaces a source live (a twin change), make-before-break where it can (where the target says what it is); see
   * SourceSupervisor.switchSource. Before listen(), the pump it starts reads the new source.
   */
  async switchSource(sourceId: string, target: SwitchTarget, options?: { atOnce?: boolean }): Promise<void> {
    await this.runningSource(sourceId).supervisor.switchSource(target, options);
  }

  /**
   * Decodes one more source (a camera the twin added), served from its first frame on like the others; before
   * listen(), listen() starts it with them. Its failures are retried, never failing the server.
   */
  addSource(source: InProcessSource): void {
    if (this.closing) throw new Error(`ServerInProcessCapture is closing: ${source.sourceId} not added`);
    if (this.running.some((running) => running.source.sourceId === source.sourceId)) throw new RangeError(`ServerInProcessCapture has a source ${source.sourceId} already`);
    const running = runningOf({ ...source, failFastBeforeFirstFrame: false });
    this.running.push(running);
    if (this.handler) running.pump = this.pump(running, this.handler, () => undefined, () => undefined);
  }

  /**
   * Stops a source and forgets it (a camera the twin removed); resolves once its decoder has stopped and the handler
   * has settled its last frame. Until then stats() still has it.
   */
  async removeSource(sourceId: string): Promise<void> {
    const running = this.runningSource(sourceId);
    await running.supervisor.stop();
    await running.pump;
    const index = this.running.indexOf(running);
    if (index < 0) return;
    this.running.splice(index, 1);
  }

  /** Calls back once every source that fails fast has handed on its first frame, or with the first that failed. */
  listen(callback: (error?: unknown) => void): void {
    const handler = this.getHandlerByPattern(FRAMES_TOPIC);
    if (!handler?.isEventHandler) {
      callback(new Error(`ServerInProcessCapture serves an @EventPattern('${FRAMES_TOPIC}') handler, and there is none`));
      return;
    }
    this.handler = handler;
    const started = this.running.map(
      (running) =>
        new Promise<void>((resolve, reject) => {
          running.pump = this.pump(running, handler, resolve, reject);
          if (!running.source.failFastBeforeFirstFrame) resolve();
        }),
    );
    Promise.all(started).then(() => callback(), callback);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.running.map(({ supervisor }) => supervisor.stop()));
    await Promise.all(this.running.map(({ pump }) => pump));
    this.lent.clear();
  }

  stats(): InProcessSourceStats[] {
    return this.running.map(({ source, supervisor, handlerErrors }) => {
      const { switchPending } = supervisor;
      return {
        sourceId: source.sourceId,
        state: supervisor.state,
        framesDecoded: supervisor.framesDecoded,
        ...(supervisor.lastFrameAt !== undefined && { lastFrameAt: supervisor.lastFrameAt }),
        handlerErrors,
        ...(switchPending && { switchPending }),
        switchPendingSeconds: supervisor.switchPendingSeconds,
      };
    });
  }

  /** Its sources emit no transport events. */
  on(): never {
    throw new Error('ServerInProcessCapture has no events to listen to');
  }

  private runningSource(sourceId: string): Running {
    const running = this.running.find(({ source }) => source.sourceId === sourceId);
    if (!running) throw new RangeError(`ServerInProcessCapture has no source ${sourceId}`);
    return running;
  }

  /** Its sources' supervisors, in the order given, then those added. */
  unwrap<T = SourceSupervisor[]>(): T {
    return this.running.map(({ supervisor }) => supervisor) as T;
  }

  /** Hands each frame to the handler and takes the next once it settles; settles `firstFrame` or `failed` as capture's start does. */
  private async pump(running: Running, handler: MessageHandler, firstFrame: () => void, failed: (error: Error) => void): Promise<void> {
    const { source, context, supervisor } = running;
    let handedOn = false;
    try {
      for await (const frame of supervisor.frames()) {
        if (this.closing) break;
        this.lent.lend(frame.pixels);
        this.offer?.(frame);
        try {
          const result: unknown = await handler(frame, context);
          if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
        } catch (error) {
          // One frame the handler failed on is lost, not the source; a handler that failed holds no frame (lent for
          // good, a buffer a frame would leak).
          running.handlerErrors++;
          this.release(frame.pixels);
          this.logger.error(`Handler for "${FRAMES_TOPIC}" failed on ${source.sourceId}: ${error instanceof Error ? error.message : String(error)}`);
        }
        handedOn = true;
        firstFrame();
      }
      if (!handedOn) failed(new Error(`${source.sourceId} ${supervisor.state === 'ended' ? 'ended' : 'was stopped'} before its first frame`));
    } catch (error) {
      // Once listen() has settled for this source, nothing else would say why its frames stopped.
      if (handedOn || !source.failFastBeforeFirstFrame) this.logger.error(`${source.sourceId} stopped: ${(error as Error).message}`);
      failed(error as Error);
    }
  }
}
