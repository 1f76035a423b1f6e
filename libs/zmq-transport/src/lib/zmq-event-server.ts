import { inspect } from 'node:util';
import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { Codec } from '@iev/frame-protocol';
import { isObservable, lastValueFrom } from 'rxjs';
import type { Event, EventType, Readable, Socket } from 'zeromq';
import { codecFor } from './codecs';
import { DropOldestMailbox } from './mailbox';
import { SocketEventRelay, ZmqStatus, type ZmqSocketEvents } from './zmq-socket';
import { ZmqContext } from './zmq-context';

/** Identifies the transport, so `@EventPattern(pattern, ZMQ_TRANSPORT)` binds a handler to ZeroMQ only. */
export const ZMQ_TRANSPORT = Symbol('ZMQ_TRANSPORT');

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
  /** Peers refused for their CURVE key (a bound server only). */
  refusedPeers: number;
}

/** One pattern's counters, where a link carries several: its messages' share of ZmqServerStats but the socket's refusedPeers. */
export type ZmqPatternStats = Omit<ZmqServerStats, 'refusedPeers'>;

const noMessages = (): ZmqPatternStats => ({ received: 0, dispatched: 0, skipped: 0, malformed: 0, handlerErrors: 0 });

export interface MalformedMessage {
  pattern: string;
  /** Usually a ProtocolError from the codec; whatever else the codec threw otherwise. */
  error: unknown;
}

export type ZmqServerEvents = ZmqSocketEvents & { malformed: (message: MalformedMessage) => void };

export interface Route {
  pattern: string;
  handler: MessageHandler;
  mailbox: DropOldestMailbox<unknown>;
  /** The pattern's counters, found with its mailbox: one lookup a message. */
  counters: ZmqPatternStats;
}

/**
 * What the ZeroMQ transport strategies share: they serve `@EventPattern` handlers from a socket whose messages are
 * `[topic, ...codec parts]` with the pattern as topic. A receive loop drains the socket eagerly and decodes in
 * place into a mailbox per pattern; a dispatch loop per pattern runs its handler one message at a time, awaiting
 * its promise or observable, so a slow handler sees fresh data instead of a growing backlog. Subclasses say which
 * socket, and how messages are asked for.
 */
export abstract class ZmqEventServer<S extends Socket & Readable> extends Server<ZmqServerEvents, ZmqStatus> implements CustomTransportStrategy {
  override readonly transportId = ZMQ_TRANSPORT;
  protected override readonly logger = new Logger(this.constructor.name);

  private readonly patternCounters = new Map<string, ZmqPatternStats>();
  protected readonly socketEvents = new SocketEventRelay((status) => this._status$.next(status), this.logger);
  private readonly malformedListeners: Array<(message: MalformedMessage) => void> = [];
  protected socket?: S;
  private routes = new Map<string, Route>();
  /** No topic longer than this names a handled pattern: a longer one is skipped without being decoded. */
  private longestPatternBytes = 0;
  private loops: Promise<void>[] = [];

  protected constructor(
    private readonly codecs: Record<string, Codec<unknown>> | undefined,
    /** Where the socket binds or connects; handlers find it in their ZmqContext. */
    readonly endpoint: string,
  ) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(() => callback(), callback);
  }

  async close(): Promise<void> {
    this.socket?.close(); // ends the receive loop's for-await
    this.socket = undefined;
    this.socketEvents.detach();
    for (const { mailbox, counters } of this.routes.values()) counters.skipped += mailbox.close();
    await Promise.all(this.loops); // lets a running handler finish
    this.loops = [];
  }

  stats(): ZmqServerStats {
    const total = { ...noMessages(), refusedPeers: this.socketEvents.refusals };
    for (const counters of this.patternCounters.values()) {
      for (const key of Object.keys(counters) as Array<keyof ZmqPatternStats>) total[key] += counters[key];
    }
    return total;
  }

  /** The counters of one pattern's messages since construction. */
  patternStats(pattern: string): ZmqPatternStats {
    return { ...this.countersOf(pattern) };
  }

  private countersOf(pattern: string): ZmqPatternStats {
    let counters = this.patternCounters.get(pattern);
    if (!counters) this.patternCounters.set(pattern, (counters = noMessages()));
    return counters;
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

  unwrap<T = S>(): T {
    if (!this.socket) throw new Error('Not initialized. Please call the "listen"/"startAllMicroservices" method before accessing the server.');
    return this.socket as unknown as T;
  }

  /** Creates the socket for these patterns and binds or connects it (see openSocket). */
  protected abstract open(patterns: string[]): Promise<S>;

  /** A mailbox for one pattern's messages on their way to its handler. */
  protected abstract mailboxFor(pattern: string): DropOldestMailbox<unknown>;

  /** The codec's parts of a message that arrived on `pattern`; throws (a ProtocolError) when it is malformed. */
  protected payload(_pattern: string, parts: Buffer[]): Buffer[] {
    return parts;
  }

  /** A message on `pattern` was dropped before its handler got it (malformed). */
  protected dropped(_pattern: string): void {
    // Nothing to do when messages simply keep coming.
  }

  private async start(): Promise<void> {
    const handlers = this.eventHandlers();
    const socket = await this.open([...handlers.keys()]);
    this.socket = socket;
    const routes = [...handlers].map(([pattern, handler]): Route => ({ pattern, handler, mailbox: this.mailboxFor(pattern), counters: this.countersOf(pattern) }));
    this.routes = new Map(routes.map((route) => [route.pattern, route]));
    this.longestPatternBytes = Math.max(0, ...routes.map(({ pattern }) => Buffer.byteLength(pattern)));
    this.loops = [this.receive(socket).catch((error) => this.logger.error(`Receive loop stopped: ${inspect(error)}`)), ...routes.map((route) => this.dispatch(route))];
  }

  /** Neither transport has a way back to the sender, so request/response handlers cannot be served. */
  private eventHandlers(): Map<string, MessageHandler> {
    const requestPatterns = [...this.messageHandlers].filter(([, handler]) => !handler.isEventHandler).map(([pattern]) => pattern);
    if (requestPatterns.length > 0) {
      throw new Error(`${this.constructor.name} serves @EventPattern handlers only (no replies); found @MessagePattern for: ${requestPatterns.join(', ')}`);
    }
    return new Map(this.messageHandlers);
  }

  private async receive(socket: S): Promise<void> {
    for await (const [topic, ...parts] of socket) {
      // Only a known pattern's bytes are worth decoding (a topic of any size up to ZMQ_MAXMSGSIZE may come).
      const pattern = topic.length <= this.longestPatternBytes ? topic.toString('utf8') : undefined;
      const route = pattern === undefined ? undefined : this.routes.get(pattern);
      // SUB filters by prefix, so "frames" also lets "frames.debug" through: only exact patterns count.
      if (pattern === undefined || !route) continue;
      const { mailbox, counters } = route;
      counters.received++;
      let data: unknown;
      try {
        data = codecFor(this.codecs, pattern).decode(this.payload(pattern, parts));
      } catch (error) {
        this.reportMalformed({ pattern, error });
        this.dropped(pattern);
        continue;
      }
      counters.skipped += mailbox.put(data);
    }
  }

  private async dispatch({ pattern, handler, mailbox, counters }: Route): Promise<void> {
    for await (const data of mailbox) {
      counters.dispatched++;
      try {
        await this.runHandler(pattern, handler, data);
      } catch (error) {
        counters.handlerErrors++;
        this.logger.error(`Handler for "${pattern}" failed: ${error instanceof Error ? error.message : inspect(error)}`, error instanceof Error ? error.stack : undefined);
      }
    }
  }

  /** Runs the handler inside Nest's processing hooks; settles once its promise or observable has completed. */
  private runHandler(pattern: string, handler: MessageHandler, data: unknown): Promise<void> {
    const context = new ZmqContext([pattern, this.endpoint]);
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
    this.countersOf(message.pattern).malformed++;
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
