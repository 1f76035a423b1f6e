import { Logger } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import type { Event, EventType, Socket } from 'zeromq';
import { SocketEventRelay, ZmqStatus, type ZmqSocketEvents } from './zmq-socket';

export type ZmqClientEvents = ZmqSocketEvents;

/**
 * What the ZeroMQ client proxies share: a socket opened lazily on first use and shared by later calls, monitor
 * events and status, and no request/response (`send`): these transports carry events only.
 */
export abstract class ZmqClientProxy<S extends Socket> extends ClientProxy<ZmqClientEvents> {
  protected readonly socketEvents = new SocketEventRelay((status) => this._status$.next(status), new Logger(this.constructor.name));
  protected socket?: S;
  private connection?: Promise<S>;

  // The class keeps the base's `string` status type so a client can be passed wherever Nest code expects
  // a plain ClientProxy (the protected ReplaySubject makes that type parameter invariant); narrowed here.
  override get status(): Observable<ZmqStatus> {
    return super.status as Observable<ZmqStatus>;
  }

  /** Binds or connects on first use; later calls share the same socket. */
  connect(): Promise<S> {
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

  unwrap<T = S>(): T {
    if (!this.socket) throw new Error('Not initialized. Please call the "connect" method first.');
    return this.socket as unknown as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = this.normalizePattern(packet.pattern);
    callback({ err: new Error(`${this.constructor.name} cannot send("${pattern}"): request/response is not supported on this transport; use emit() for events`), isDisposed: true });
    return () => undefined;
  }

  /** Creates the socket and binds or connects it (see openSocket). */
  protected abstract open(): Promise<S>;
}
