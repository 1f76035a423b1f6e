import type { Codec } from '@iev/frame-protocol';
import { Subscriber } from 'zeromq';
import { DropOldestMailbox } from './mailbox';
import { ZmqEventServer } from './zmq-event-server';
import { openSocket, SOCKET_DEFAULTS, type CurveOptions } from './zmq-socket';

export interface ServerZmqOptions {
  /** `tcp://host:port` or `ipc:///path`. */
  endpoint: string;
  /** Bind the endpoint instead of connecting to it (default false: publishers bind, subscribers connect). */
  bind?: boolean;
  /**
   * 'latest' (default, live data): each handler gets the newest message once it is free; older ones are
   * skipped. 'queue': a bounded FIFO per pattern whose oldest message is dropped when full.
   */
  delivery?: 'latest' | 'queue';
  /** Messages held per pattern in 'queue' mode (default 1000). */
  queueCapacity?: number;
  /** ZMQ_RCVHWM: messages ZeroMQ buffers per publisher while JavaScript is busy (default: ZeroMQ's 1000). */
  receiveHighWaterMark?: number;
  /** Codec per pattern; a pattern without one carries JSON. */
  codecs?: Record<string, Codec<unknown>>;
  /** ZMQ_MAXMSGSIZE: a larger message part disconnects its sender (default: the protocol's largest, MAX_MESSAGE_PART_BYTES). */
  maxMessageBytes?: number;
  /** CURVE encryption and authentication of this socket's connections (see CurveOptions); unset: plain. */
  curve?: CurveOptions;
}

const DEFAULT_QUEUE_CAPACITY = 1000;

/** NestJS transport strategy that serves `@EventPattern` handlers from a ZeroMQ SUB socket (see ZmqEventServer). */
export class ServerZmq extends ZmqEventServer<Subscriber> {
  private readonly mailboxCapacity: number;

  constructor(private readonly options: ServerZmqOptions) {
    super(options.codecs, options.endpoint);
    this.mailboxCapacity = options.delivery === 'queue' ? (options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY) : 1;
    if (!Number.isSafeInteger(this.mailboxCapacity) || this.mailboxCapacity < 1) {
      throw new RangeError(`queueCapacity must be a positive integer, got ${options.queueCapacity}`);
    }
  }

  protected async open(patterns: string[]): Promise<Subscriber> {
    const socket = new Subscriber({ ...SOCKET_DEFAULTS, maxMessageSize: this.options.maxMessageBytes ?? SOCKET_DEFAULTS.maxMessageSize });
    if (this.options.receiveHighWaterMark !== undefined) socket.receiveHighWaterMark = this.options.receiveHighWaterMark;
    // subscribe() without arguments would subscribe to every topic.
    if (patterns.length > 0) socket.subscribe(...patterns);
    return openSocket(socket, this.options.endpoint, this.options.bind ?? false, this.socketEvents, this.options.curve);
  }

  protected mailboxFor(): DropOldestMailbox<unknown> {
    return new DropOldestMailbox(this.mailboxCapacity);
  }
}
