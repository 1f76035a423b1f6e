import { inspect } from 'node:util';
import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { Codec } from '@iev/frame-protocol';
import { isObservable, lastValueFrom } from 'rxjs';
import { Subscriber, type Event, type EventType } from 'zeromq';
import { codecFor } from './codecs';
import { DropOldestMailbox } from './mailbox';
import { openSocket, SOCKET_DEFAULTS, SocketEventRelay, ZmqStatus, type ZmqSocketEvents } from './zmq-socket';
import { ZmqContext } from './zmq-context';

/** Identifies the transport, so `@EventPattern(pattern, ZMQ_TRANSPORT)` binds a handler to ZeroMQ only. */
export const ZMQ_TRANSPORT = Symbol('ZMQ_TRANSPORT');

export interface ServerZmqOptions {
  /** `tcp://host:port` or `ipc:///path`. */
  endpoint: string;
  /** Bind the endpoint instead of connecting to it (default false: publishers bind, subscribers connect). */
  bind?: boolean;
  /**
   * 'latest' (default, live video): each handler gets the newest message once it is free; older ones are
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
}

/** Counters since construction; once idle, received = dispatched + skipped + malformed. */
export interface ZmqServerStats {
  /** Messages on a registered pattern (decodable or not). */
  received: number;
  /** Messages handed to a handler. */
  dispatched: number;
  /** Messages replaced or dropped before a handler was free for them (including those waiting at close()). */
  skipped: number;
  /** Messages the pattern's codec rejected; dropped. */
  malformed: number;
  /** Handler calls that threw, rejected or errored their observable. */
  handlerErrors: number;
}

export interface MalformedMessage {
  pattern: string;
  /** Usually a ProtocolError from the codec; whatever else the codec threw otherwise. */
  error: unknown;
}

export type ZmqServerEvents = ZmqSocketEvents & { malformed: (message: MalformedMessage) => void };

const DEFAULT_QUEUE_CAPACITY = 1000;

/**
 * NestJS transport strategy that serves `@EventPattern` handlers from a ZeroMQ SUB socket. Each message is
 * `[topic, ...codec parts]` with the pattern as topic. A receive loop drains the socket eagerly and decodes
 * in place; a dispatch loop per pattern runs its handler one message at a time, awaiting its promise or
 * observable, so a slow handler sees fresh data instead of a growing backlog.
 */
export class ServerZmq extends Server<ZmqServerEvents, ZmqStatus> implements CustomTransportStrategy {
  override readonly transportId = ZMQ_TRANSPORT;
  protected override readonly logger = new Logger(ServerZmq.name);

  private readonly mailboxCapacity: number;
  private readonly counters: ZmqServerStats = { received: 0, dispatched: 0, skipped: 0, malformed: 0, handlerErrors: 0 };
  private readonly socketEvents = new SocketEventRelay((status) => this._status$.next(status));
  private readonly malformedListeners: Array<(message: MalformedMessage) => void> = [];
  private socket?: Subscriber;
  private mailboxes = new Map<string, DropOldestMailbox<unknown>>();
  private loops: Promise<void>[] = [];

  constructor(private readonly options: ServerZmqOptions) {
    super();
    this.mailboxCapacity = options.delivery === 'queue' ? (options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY) : 1;
    if (!Number.isSafeInteger(this.mailboxCapacity) || this.mailboxCapacity < 1) {
      throw new RangeError(`queueCapacity must be a positive integer, got ${options.queueCapacity}`);
    }
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(() => callback(), callback);
  }

  async close(): Promise<void> {
    this.socket?.close(); // ends the receive loop's for-await
    this.socket = undefined;
    this.socketEvents.detach();
    for (const mailbox of this.mailboxes.values()) this.counters.skipped += mailbox.close();
    await Promise.all(this.loops); // lets a running handler finish
    this.loops = [];
  }

  stats(): ZmqServerStats {
    return { ...this.counters };
  }

  /** ZeroMQ monitor events (`connect`, `disconnect`, `connect:retry`, ...) and `malformed`. */
  on<EventKey extends keyof ZmqServerEvents = keyof ZmqServerEvents, EventCallback extends ZmqServerEvents[EventKey] = ZmqServerEvents[EventKey]>(
    event: EventKey,
    callback: EventCallback,
  ): void {
    if (event === 'malformed') {
      this.malformedListeners.push(callback as ZmqServerEvents['malformed']);
    } else {
      this.socketEvents.on(event as EventType, callback as (event: Event) => void);
    }
  }

  unwrap<T = Subscriber>(): T {
    if (!this.socket) throw new Error('Not initialized. Please call the "listen"/"startAllMicroservices" method before accessing the server.');
    return this.socket as T;
  }

  private async start(): Promise<void> {
    const handlers = this.eventHandlers();
    const socket = new Subscriber({ ...SOCKET_DEFAULTS, maxMessageSize: this.options.maxMessageBytes ?? SOCKET_DEFAULTS.maxMessageSize });
    if (this.options.receiveHighWaterMark !== undefined) socket.receiveHighWaterMark = this.options.receiveHighWaterMark;
    // subscribe() without arguments would subscribe to every topic.
    if (handlers.size > 0) socket.subscribe(...handlers.keys());
    this.socket = await openSocket(socket, this.options.endpoint, this.options.bind ?? false, this.socketEvents);
    const routes = [...handlers].map(([pattern, handler]) => ({ pattern, handler, mailbox: new DropOldestMailbox<unknown>(this.mailboxCapacity) }));
    this.mailboxes = new Map(routes.map(({ pattern, mailbox }) => [pattern, mailbox]));
    this.loops = [
      this.receive(socket).catch((error) => this.logger.error(`Receive loop stopped: ${inspect(error)}`)),
      ...routes.map((route) => this.dispatch(route)),
    ];
  }

  /** PUB/SUB has no way back to the sender, so request/response handlers cannot be served. */
  private eventHandlers(): Map<string, MessageHandler> {
    const requestPatterns = [...this.messageHandlers].filter(([, handler]) => !handler.isEventHandler).map(([pattern]) => pattern);
    if (requestPatterns.length > 0) {
      throw new Error(`ServerZmq serves @EventPattern handlers only (PUB/SUB has no replies); found @MessagePattern for: ${requestPatterns.join(', ')}`);
    }
    return new Map(this.messageHandlers);
  }

  private async receive(socket: Subscriber): Promise<void> {
    for await (const [topic, ...parts] of socket) {
      const pattern = topic.toString('utf8');
      const mailbox = this.mailboxes.get(pattern);
      // SUB filters by prefix, so "frames" also lets "frames.debug" through: only exact patterns count.
      if (!mailbox) continue;
      this.counters.received++;
      let data: unknown;
      try {
        data = codecFor(this.options.codecs, pattern).decode(parts);
      } catch (error) {
        this.reportMalformed({ pattern, error });
        continue;
      }
      this.counters.skipped += mailbox.put(data);
    }
  }

  private async dispatch({ pattern, handler, mailbox }: { pattern: string; handler: MessageHandler; mailbox: DropOldestMailbox<unknown> }): Promise<void> {
    for await (const data of mailbox) {
      this.counters.dispatched++;
      try {
        await this.runHandler(pattern, handler, data);
      } catch (error) {
        this.counters.handlerErrors++;
        this.logger.error(`Handler for "${pattern}" failed: ${error instanceof Error ? error.message : inspect(error)}`, error instanceof Error ? error.stack : undefined);
      }
    }
  }

  /** Runs the handler inside Nest's processing hooks; settles once its promise or observable has completed. */
  private runHandler(pattern: string, handler: MessageHandler, data: unknown): Promise<void> {
    const context = new ZmqContext([pattern]);
    const run = async () => {
      const result: unknown = await handler(data, context);
      if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
    };
    return new Promise<void>((resolve, reject) => {
      this.onProcessingStartHook(this.transportId, context, () =>
        run()
          .then(resolve, reject)
          .finally(() => this.onProcessingEndHook?.(this.transportId, context)),
      );
    });
  }

  private reportMalformed(message: MalformedMessage): void {
    this.counters.malformed++;
    for (const listener of this.malformedListeners) {
      try {
        listener(message);
      } catch (error) {
        // A throwing listener must not stop the receive loop.
        this.logger.error(`"malformed" listener threw: ${inspect(error)}`);
      }
    }
  }
}
