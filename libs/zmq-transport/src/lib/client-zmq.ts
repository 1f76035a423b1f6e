import type { ReadPacket } from '@nestjs/microservices';
import type { Codec } from '@iev/frame-protocol';
import { Publisher } from 'zeromq';
import { codecFor } from './codecs';
import { ZmqClientProxy } from './zmq-client-proxy';
import { openSocket, SendTurns, SOCKET_DEFAULTS, type CurveOptions } from './zmq-socket';

export interface ClientZmqOptions {
  /** `tcp://host:port` or `ipc:///path`. */
  endpoint: string;
  /** Bind the endpoint (default true: the publisher owns it, subscribers come and go). */
  bind?: boolean;
  /**
   * ZMQ_SNDHWM (default 4): messages queued per subscriber before new ones are dropped for it. Small, so a
   * slow subscriber gets recent messages rather than a backlog.
   */
  sendHighWaterMark?: number;
  /** Codec per pattern; a pattern without one carries JSON. */
  codecs?: Record<string, Codec<unknown>>;
  /** CURVE encryption and authentication of this socket's connections (see CurveOptions); unset: plain. */
  curve?: CurveOptions;
}

const DEFAULT_SEND_HIGH_WATER_MARK = 4;

/**
 * NestJS client that publishes events (`emit`) on a ZeroMQ PUB socket as `[pattern, ...codec parts]`.
 *
 * Delivery is fire-and-forget, like PUB itself: `emit` completes once ZeroMQ has queued the message, and a
 * subscriber that is not connected yet, or whose queue is at the high-water mark, silently misses it. ZeroMQ
 * reports no such drops to the sender, so none are counted here; receivers see them as sequence gaps.
 * Buffers over 128 bytes are sent without copying, so do not modify them after emitting them.
 * `send` (request/response) is not supported: PUB/SUB has no reply path.
 */
export class ClientZmq extends ZmqClientProxy<Publisher> {
  /** Emits from several callers (inference's detections and its announced cameras) on the one socket. */
  private readonly sends = new SendTurns();

  constructor(private readonly options: ClientZmqOptions) {
    super();
  }

  /** Subscribers refused for their CURVE key, since construction. */
  stats(): { refusedPeers: number } {
    return { refusedPeers: this.socketEvents.refusals };
  }

  protected async dispatchEvent<T = undefined>(packet: ReadPacket): Promise<T> {
    const socket = await this.connect();
    const pattern = this.normalizePattern(packet.pattern);
    const message = [pattern, ...codecFor(this.options.codecs, pattern).encode(packet.data)];
    await this.sends.take(() => socket.send(message));
    return undefined as T;
  }

  protected async open(): Promise<Publisher> {
    const socket = new Publisher({ ...SOCKET_DEFAULTS, sendHighWaterMark: this.options.sendHighWaterMark ?? DEFAULT_SEND_HIGH_WATER_MARK });
    this.socket = await openSocket(socket, this.options.endpoint, this.options.bind ?? true, this.socketEvents, this.options.curve);
    return this.socket;
  }
}
