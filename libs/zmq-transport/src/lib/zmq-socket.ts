import { MAX_MESSAGE_PART_BYTES } from '@iev/frame-protocol';
import type { Event, EventOfType, EventType, Socket } from 'zeromq';

/**
 * linger 0: close() must not wait for stale frames to drain. Reconnect after 100 ms, backing off to 2 s while
 * a peer stays away, so a restarted module is picked up quickly without hammering a dead endpoint. A peer that
 * announces a message part beyond the protocol's largest is disconnected before ZeroMQ allocates it (ZeroMQ's own
 * default is no limit); this holds for a publisher too, which receives its subscribers' subscriptions.
 */
export const SOCKET_DEFAULTS = { linger: 0, reconnectInterval: 100, reconnectMaxInterval: 2_000, maxMessageSize: MAX_MESSAGE_PART_BYTES } as const;

/** Binds or connects with the relay attached; a socket that fails to open is closed again. */
export async function openSocket<S extends Socket>(socket: S, endpoint: string, bind: boolean, events: SocketEventRelay): Promise<S> {
  events.attach(socket, bind);
  try {
    if (bind) {
      await socket.bind(endpoint);
    } else {
      // Returns at once; ZeroMQ connects (and reconnects) in the background, so peers may start in any order.
      socket.connect(endpoint);
    }
    return socket;
  } catch (error) {
    socket.close();
    events.detach();
    throw error;
  }
}

export enum ZmqStatus {
  /** Bound, no peer connected. */
  LISTENING = 'listening',
  /** At least one peer is connected. */
  CONNECTED = 'connected',
  /** Connecting side: the peer is not (or no longer) reachable and ZeroMQ keeps retrying. */
  RECONNECTING = 'reconnecting',
  /** Connecting side: the peer went away. */
  DISCONNECTED = 'disconnected',
}

/** ZeroMQ monitor events by type, as `on()` takes them, e.g. `on('accept', ({ address }) => ...)`. */
export type ZmqSocketEvents = { [Type in EventType]: (event: EventOfType<Type>) => void };

/**
 * What the server and the client share about their socket's monitor events: listeners registered before
 * the socket exists (Nest allows `on()` before `listen()`/`connect()`, and they carry over to a re-created
 * socket), and the peer bookkeeping behind the `status` observable.
 */
export class SocketEventRelay {
  private readonly subscriptions: Array<(socket: Socket) => void> = [];
  private socket?: Socket;
  private peers = 0;

  constructor(private readonly reportStatus: (status: ZmqStatus) => void) {}

  on(type: EventType, listener: (event: Event) => void): void {
    const subscribe = (socket: Socket) => socket.events.on(type, listener);
    this.subscriptions.push(subscribe);
    if (this.socket) subscribe(this.socket);
  }

  attach(socket: Socket, bound: boolean): void {
    const idleStatus = bound ? ZmqStatus.LISTENING : ZmqStatus.DISCONNECTED;
    const peerUp = () => {
      this.peers++;
      this.reportStatus(ZmqStatus.CONNECTED);
    };
    socket.events
      .on('bind', () => this.reportStatus(ZmqStatus.LISTENING))
      .on('connect', peerUp)
      .on('accept', peerUp)
      .on('disconnect', () => {
        this.peers = Math.max(0, this.peers - 1);
        if (this.peers === 0) this.reportStatus(idleStatus);
      })
      .on('connect:retry', () => {
        if (this.peers === 0) this.reportStatus(ZmqStatus.RECONNECTING);
      });
    for (const subscribe of this.subscriptions) subscribe(socket);
    this.socket = socket;
    this.peers = 0;
  }

  detach(): void {
    this.socket = undefined;
  }
}
