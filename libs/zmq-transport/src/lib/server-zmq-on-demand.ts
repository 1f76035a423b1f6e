import { ProtocolError, type Codec } from '@iev/frame-protocol';
import { Backoff } from '@iev/service-runtime';
import { Dealer } from 'zeromq';
import { DropOldestMailbox } from './mailbox';
import { FOLLOW, parseCount } from './on-demand-wire';
import { ZmqEventServer, type ZmqServerStats } from './zmq-event-server';
import { openSocket, SOCKET_DEFAULTS, type CurveOptions } from './zmq-socket';

export interface ServerZmqOnDemandOptions {
  /** `tcp://host:port` or `ipc:///path` of a ClientZmqOnDemand. */
  endpoint: string;
  /** Bind the endpoint instead of connecting to it (default false: the producer binds, consumers come and go). */
  bind?: boolean;
  /** Codec per pattern; a pattern without one carries JSON. */
  codecs?: Record<string, Codec<unknown>>;
  /** ZMQ_MAXMSGSIZE: a larger message part disconnects its sender (default: the protocol's largest, MAX_MESSAGE_PART_BYTES). */
  maxMessageBytes?: number;
  /**
   * While a handler waits, its request is repeated this often (default 1000 ms): a request lost with a producer
   * that restarted is renewed, and the producer, which forgets consumers it has not heard from in a while (5 s by
   * default), knows this one is still there. While a handler is busy, a request for none says so just as often.
   */
  requestRepeatMs?: number;
  /** CURVE encryption and authentication of this socket's connections (see CurveOptions); unset: plain. */
  curve?: CurveOptions;
  /**
   * Take only messages the producer's other consumers take too, the newest of those, and never make it produce one
   * for this consumer alone; with no other consumer there, any (default false). The preview follows inference.
   */
  follow?: boolean;
}

/** Counters since construction: ZmqServerStats plus the requests sent. */
export interface ZmqOnDemandServerStats extends ZmqServerStats {
  /** Requests sent, repeats and busy handlers' keep-alives included. */
  requests: number;
}

/**
 * NestJS transport strategy that asks for each message: a handler that is free requests one message of its pattern
 * from a ClientZmqOnDemand over a DEALER socket, and the producer sends it the newest (see DemandLedger). Nothing is
 * sent that no handler is free for, so a consumer costs the producer only what it takes. The wire: requests are
 * `[pattern, wanted, received]` (how many messages the consumer waits for, and the ordinal of the last it received,
 * as decimal strings: a repeat, or a request that crossed a message, never gets it more than it wants; a follower
 * adds `follow`); messages are `[pattern, ordinal, ...codec parts]`.
 */
export class ServerZmqOnDemand extends ZmqEventServer<Dealer> {
  /** Patterns whose handler is free and waiting for a message. */
  private readonly waiting = new Set<string>();
  /** Patterns whose handler has asked at least once: free or busy, the producer hears about each every repeat. */
  private readonly asked = new Set<string>();
  /** The ordinal of the last message received per pattern, quoted in requests. */
  private readonly received = new Map<string, number>();
  private repeatTimer?: NodeJS.Timeout;
  private requests = 0;
  /** Asking again after malformed messages: a producer that answers every request with garbage gets ~10 a second, not a busy loop. */
  private readonly malformedBackoff = new Backoff(10, 100);
  private retryTimer?: NodeJS.Timeout;

  constructor(private readonly options: ServerZmqOnDemandOptions) {
    super(options.codecs, options.endpoint);
  }

  override stats(): ZmqOnDemandServerStats {
    return { ...super.stats(), requests: this.requests };
  }

  override async close(): Promise<void> {
    clearInterval(this.repeatTimer);
    clearTimeout(this.retryTimer);
    this.waiting.clear();
    this.asked.clear();
    await super.close();
  }

  protected async open(): Promise<Dealer> {
    // sendTimeout 0: a request that cannot be queued (the producer long gone) is dropped, never awaited; the
    // repeat renews it.
    const socket = new Dealer({ ...SOCKET_DEFAULTS, maxMessageSize: this.options.maxMessageBytes ?? SOCKET_DEFAULTS.maxMessageSize, sendHighWaterMark: 4, sendTimeout: 0 });
    // A producer that (re)appears gets the outstanding requests at once instead of at the next repeat.
    socket.events.on('connect', () => this.repeatRequests());
    this.repeatTimer = setInterval(() => this.repeatRequests(), this.options.requestRepeatMs ?? 1000);
    return openSocket(socket, this.options.endpoint, this.options.bind ?? false, this.socketEvents, this.options.curve);
  }

  protected mailboxFor(pattern: string): DropOldestMailbox<unknown> {
    return new TakingMailbox(
      () => {
        this.waiting.add(pattern);
        this.asked.add(pattern);
        this.request(pattern);
      },
      () => {
        this.waiting.delete(pattern);
        this.malformedBackoff.reset();
      },
    );
  }

  /**
   * A waiting handler's request again; a busy one's as a request for none, which still acknowledges what arrived: a
   * handler busy longer than the producer's timeout (a model's first run, a preview at 0.1 fps) is not taken for gone.
   */
  private repeatRequests(): void {
    for (const pattern of this.asked) this.request(pattern, this.waiting.has(pattern) ? 1 : 0);
  }

  private request(pattern: string, wanted = 1): void {
    const socket = this.socket;
    if (!socket) return;
    this.requests++;
    const request = [pattern, String(wanted), String(this.received.get(pattern) ?? 0)];
    socket.send(this.options.follow ? [...request, FOLLOW] : request).catch(() => undefined);
  }

  /** The handler still waits: ask again soon rather than at the next repeat, backing off while messages stay malformed. */
  protected override dropped(pattern: string): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.waiting.has(pattern)) this.request(pattern);
    }, this.malformedBackoff.next());
  }

  protected override payload(pattern: string, parts: Buffer[]): Buffer[] {
    const ordinal = parts.length > 0 ? parseCount(parts[0]) : undefined;
    if (ordinal === undefined) throw new ProtocolError('INVALID_FIELD', 'on-demand messages start with their ordinal as a decimal string');
    this.received.set(pattern, ordinal);
    return parts.slice(1);
  }
}

/** A one-message mailbox that says when its consumer starts waiting and when a message arrives for it. */
class TakingMailbox extends DropOldestMailbox<unknown> {
  constructor(
    whenEmpty: () => void,
    private readonly arrived: () => void,
  ) {
    super(1, whenEmpty);
  }

  override put(item: unknown): number {
    this.arrived();
    return super.put(item);
  }
}
