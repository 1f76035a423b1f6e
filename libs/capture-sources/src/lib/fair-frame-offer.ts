import { FRAMES_TOPIC, type Frame } from '@iev/frame-protocol';
import type { ClientZmqOnDemand } from '@iev/zmq-transport';
import { lastValueFrom } from 'rxjs';

/**
 * Frames of several sources offered on one on-demand client (inference offering the cameras it decodes to the
 * preview), each request answered by the next source in turn with its newest frame. Emitted as they came, a request
 * got whichever source's frame came first after it: a 60 fps camera took nearly every one, and a 2 fps camera beside
 * it was hardly shown. A frame waits here for its source's turn, replaced by a newer one of its source meanwhile
 * (holds() keeps its memory from reuse), and nothing is sent that nobody asked for.
 */
export class FairFrameOffer {
  private readonly waiting = new Map<string, Frame>();
  /** Sources in the order they take turns: the one served last goes to the back. */
  private readonly turns: string[] = [];
  private arrived?: () => void;
  private closed = false;

  constructor(
    private readonly client: ClientZmqOnDemand,
    private readonly notOffered: (error: Error, frame: Frame) => void,
  ) {
    void this.serve();
  }

  offer(frame: Frame): void {
    if (this.closed) return;
    if (!this.turns.includes(frame.sourceId)) this.turns.push(frame.sourceId);
    this.waiting.set(frame.sourceId, frame);
    this.arrived?.();
  }

  /** Whether this memory may still be read: a frame waiting for its turn, or one the client holds. */
  holds(buffer: ArrayBufferLike): boolean {
    for (const frame of this.waiting.values()) if (frame.pixels.buffer === buffer) return true;
    return this.client.holds(buffer);
  }

  /**
   * Offers nothing more of a source (a camera removed): neither the frame it left waiting nor the one the client keeps
   * for a consumer that asks later, which is the source's where it was sent last (the client keeps encoded frames, so
   * whose it is is not asked: withdrawn another's, the consumer gets the next frame instead).
   */
  forget(sourceId: string): void {
    this.client.withdraw(FRAMES_TOPIC);
    this.waiting.delete(sourceId);
    const turn = this.turns.indexOf(sourceId);
    if (turn >= 0) this.turns.splice(turn, 1);
  }

  /** Offers nothing more; the client's close ends the wait for a request. */
  close(): void {
    this.closed = true;
    this.waiting.clear();
    this.arrived?.();
  }

  private async serve(): Promise<void> {
    for (;;) {
      await this.client.whenWanted(FRAMES_TOPIC);
      const frame = await this.nextInTurn();
      if (!frame) return;
      await lastValueFrom(this.client.emit(FRAMES_TOPIC, frame), { defaultValue: undefined }).catch((error: Error) => this.notOffered(error, frame));
    }
  }

  /** The newest frame of the first source in turn that has one, once one has; undefined once closed. */
  private async nextInTurn(): Promise<Frame | undefined> {
    while (!this.closed) {
      const sourceId = this.turns.find((id) => this.waiting.has(id));
      if (sourceId === undefined) {
        await new Promise<void>((resolve) => (this.arrived = resolve));
        this.arrived = undefined;
        continue;
      }
      const frame = this.waiting.get(sourceId) as Frame;
      this.waiting.delete(sourceId);
      this.turns.splice(this.turns.indexOf(sourceId), 1);
      this.turns.push(sourceId);
      return frame;
    }
    return undefined;
  }
}
