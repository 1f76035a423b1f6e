import type { LoggerService } from '@nestjs/common';
import { MAX_MESSAGE_PART_BYTES } from '@iev/frame-protocol';
import type { Event, EventOfType, EventType, Socket } from 'zeromq';
import { curvePublicKey, isZ85Key } from './curve-keys';
import { zapHandler } from './zap-handler';

/**
 * linger 0: close() must not wait for stale frames to drain. Reconnect after 100 ms, backing off to 2 s while
 * a peer stays away, so a restarted module is picked up quickly without hammering a dead endpoint. A peer that
 * announces a message part beyond the protocol's largest is disconnected before ZeroMQ allocates it (ZeroMQ's own
 * default is no limit); this holds for a publisher too, which receives its subscribers' subscriptions.
 */
export const SOCKET_DEFAULTS = { linger: 0, reconnectInterval: 100, reconnectMaxInterval: 2_000, maxMessageSize: MAX_MESSAGE_PART_BYTES } as const;

/**
 * CURVE encryption and authentication (RFC 26) of a socket's connections. The binding side is the CURVE server: its
 * peers must know its public key, and with `clientKeys` only the listed clients get in. Keys are Z85 text, as
 * zeromq's `curveKeyPair()` makes them.
 */
export interface CurveOptions {
  /** This host's secret key; its public key is derived from it. */
  secretKey: string;
  /** Connecting side: the public key of the socket it connects to (required there). */
  serverKey?: string;
  /** Binding side: the client public keys it accepts; unset accepts any client that knows its public key. */
  clientKeys?: readonly string[];
}

/**
 * Binds or connects with the relay attached (and CURVE when given); a socket that fails to open is closed again.
 * An endpoint with an IPv6 address (`tcp://[::1]:5555`) turns on the socket's IPv6, without which ZeroMQ cannot
 * bind it ("No such device") and never connects to it; `tcp://[::]:5555` then listens on IPv4 too (`tcp://*:5555`
 * stays IPv4 only). Other endpoints leave it off: with it, ZeroMQ
 * may resolve a host name to its IPv6 address (`localhost` to ::1 on most hosts, while the peer listens on
 * 127.0.0.1) and reports IPv4 peers and endpoints as ::ffff:a.b.c.d.
 */
export async function openSocket<S extends Socket>(socket: S, endpoint: string, bind: boolean, events: SocketEventRelay, curve?: CurveOptions): Promise<S> {
  events.attach(socket, bind);
  try {
    if (curve) await secure(socket, bind, curve, events);
    if (endpoint.startsWith('tcp://[')) socket.ipv6 = true;
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

/** Sets the socket's CURVE options; must run before bind or connect. */
async function secure(socket: Socket, bind: boolean, { secretKey, serverKey, clientKeys }: CurveOptions, events: SocketEventRelay): Promise<void> {
  const badKey = [secretKey, serverKey ?? '', ...(clientKeys ?? [])].find((key) => key !== '' && !isZ85Key(key));
  if (badKey !== undefined) throw new Error(`CURVE keys are 40 characters of Z85, got ${JSON.stringify(badKey)}`);
  socket.curveSecretKey = secretKey;
  socket.curvePublicKey = curvePublicKey(secretKey);
  if (!bind) {
    if (!serverKey) throw new Error('A connecting CURVE socket needs the public key of the socket it connects to (serverKey)');
    socket.curveServerKey = serverKey;
    return;
  }
  socket.curveServer = true;
  // Once a ZAP handler listens, libzmq asks it about every CURVE connection, so every server socket registers.
  const { domain, release } = await zapHandler.register({ allowed: clientKeys && new Set(clientKeys), refused: () => events.refused() });
  socket.zapDomain = domain;
  events.onDetach(release);
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
 * socket), the peer bookkeeping behind the `status` observable, and the peers refused for their CURVE key.
 */
export class SocketEventRelay {
  private readonly subscriptions: Array<(socket: Socket) => void> = [];
  private socket?: Socket;
  private peers = 0;
  private refusedPeers = 0;
  private release?: () => void;
  /** Whether handshakes have failed since the last one that succeeded: only the first of a run is logged. */
  private handshakesFailing = false;

  constructor(
    private readonly reportStatus: (status: ZmqStatus) => void,
    private readonly logger: Pick<LoggerService, 'warn'>,
  ) {}

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
      })
      .on('handshake', () => (this.handshakesFailing = false));
    // ZeroMQ retries a failed handshake for ever and says nothing: mismatched CURVE keys would look like an idle link.
    for (const type of ['handshake:error:protocol', 'handshake:error:auth', 'handshake:error:other'] as const) {
      socket.events.on(type, ({ address, error }) => {
        if (this.handshakesFailing) return;
        this.handshakesFailing = true;
        this.logger.warn(`Handshake with ${address} failed (${error.message}), retrying: with CURVE, check both ends' keys; one end without CURVE never connects`);
      });
    }
    for (const subscribe of this.subscriptions) subscribe(socket);
    this.socket = socket;
    this.peers = 0;
  }

  /** Runs `release` when the socket is detached (closed), e.g. to free what it holds beyond the socket. */
  onDetach(release: () => void): void {
    this.release = release;
  }

  detach(): void {
    this.release?.();
    this.release = undefined;
    this.socket = undefined;
  }

  /** Counts a peer the ZAP handler turned away (its CURVE key is not listed). */
  refused(): void {
    this.refusedPeers++;
  }

  /** Peers turned away since construction. */
  get refusals(): number {
    return this.refusedPeers;
  }
}

/** zeromq.js allows one send at a time per socket (EBUSY otherwise): the sends of several callers take turns here. */
export class SendTurns {
  private last: Promise<void> = Promise.resolve();

  /** Runs `send` once the sends queued before it have settled; settles as it does. */
  take(send: () => Promise<void>): Promise<void> {
    const turn = this.last.then(send);
    this.last = turn.catch(() => undefined);
    return turn;
  }
}
