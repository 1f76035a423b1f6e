import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { Codec } from '@iev/frame-protocol';
import type { Observable } from 'rxjs';
import { Publisher, type Event, type EventType } from 'zeromq';
import { codecFor } from './codecs';
import { openSocket, SOCKET_DEFAULTS, SocketEventRelay, ZmqStatus, type ZmqSocketEvents } from './zmq-socket';

export interface ClientZmqOptions {
  /** `tcp://host:port` or `ipc:///path`. */
  endpoint: string;
  /** Bind the endpoint (default true: the publisher owns it, subscribers come and go). */
  bind?: boolean;
  /**
   * ZMQ_SNDHWM (default 4): messages queued per subscriber before new ones are dropped for it. Small, so a
   * slow subscriber gets recent frames rather than a backlog.
   */
  sendHighWaterMark?: number;
  /** Codec per pattern; a pattern without one carries JSON. */
  codecs?: Record<string, Codec<unknown>>;
}

export type ZmqClientEvents = ZmqSocketEvents;

const DEFAULT_SEND_HIGH_WATER_MARK = 4;

/**
 * NestJS client that publishes events (`emit`) on a ZeroMQ PUB socket as `[pattern, ...codec parts]`.
 *
 * Delivery is fire-and-forget, like PUB itself: `emit` completes once ZeroMQ has queued the message, and a
 * subscriber that is not connected yet, or whose queue is at the high-water mark, silently misses it. ZeroMQ
 * reports no such drops to the sender, so none are counted here; receivers see them as sequence gaps.
 * Buffers over 128 bytes are sent without copying, so do not modify pixels after emitting them.
 * `send` (request/response) is not supported: PUB/SUB has no reply path.
 */
export class ClientZmq extends ClientProxy<ZmqClientEvents> {
  private readonly socketEvents = new SocketEventRelay((status) => this._status$.next(status));
  private socket?: Publisher;
  private connection?: Promise<Publisher>;

  constructor(private readonly options: ClientZmqOptions) {
    super();
  }

  // The class keeps the base's `string` status type so a ClientZmq can be passed wherever Nest code expects
  // a plain ClientProxy (the protected ReplaySubject makes that type parameter invariant); narrowed here.
  override get status(): Observable<ZmqStatus> {
    return super.status as Observable<ZmqStatus>;
  }

  /** Binds or connects on first use; later calls share the same socket. */
  connect(): Promise<Publisher> {
    this.connection ??= this.open().catch((error: unknown) => {
      this.connection = undefined; // let the next call try again
      throw error;
    });
    return this.connection;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    // A socket must not be closed while bind() is in progress.
    const socket = await connection?.catch(() => undefined);
    socket?.close();
    this.socket = undefined;
    this.socketEvents.detach();
  }

  /** ZeroMQ monitor events: `accept`, `disconnect`, `connect:retry`, ... */
  override on<EventKey extends keyof ZmqClientEvents = keyof ZmqClientEvents, EventCallback extends ZmqClientEvents[EventKey] = ZmqClientEvents[EventKey]>(
    event: EventKey,
    callback: EventCallback,
  ): void {
    this.socketEvents.on(event as EventType, callback as (event: Event) => void);
  }

  unwrap<T = Publisher>(): T {
    if (!this.socket) throw new Error('Not initialized. Please call the "connect" method first.');
    return this.socket as T;
  }

  protected async dispatchEvent<T = undefined>(packet: ReadPacket): Promise<T> {
    const socket = await this.connect();
    const pattern = this.normalizePattern(packet.pattern);
    await socket.send([pattern, ...codecFor(this.options.codecs, pattern).encode(packet.data)]);
    return undefined as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = this.normalizePattern(packet.pattern);
    callback({ err: new Error(`ClientZmq cannot send("${pattern}"): request/response is not supported over ZeroMQ PUB/SUB; use emit() for events`), isDisposed: true });
    return () => undefined;
  }

  private async open(): Promise<Publisher> {
    const socket = new Publisher({ ...SOCKET_DEFAULTS, sendHighWaterMark: this.options.sendHighWaterMark ?? DEFAULT_SEND_HIGH_WATER_MARK });
    this.socket = await openSocket(socket, this.options.endpoint, this.options.bind ?? true, this.socketEvents);
    return this.socket;
  }
}
