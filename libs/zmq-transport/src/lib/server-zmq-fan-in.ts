import { Server, type BaseRpcContext, type CustomTransportStrategy } from '@nestjs/microservices';
import type { Dealer } from 'zeromq';
import { ServerZmqOnDemand, type ServerZmqOnDemandOptions, type ZmqOnDemandServerStats } from './server-zmq-on-demand';
import { ZMQ_TRANSPORT, type ZmqServerEvents } from './zmq-event-server';
import { ZmqStatus } from './zmq-socket';

export interface ServerZmqFanInOptions extends Omit<ServerZmqOnDemandOptions, 'endpoint' | 'bind'> {
  /** One ClientZmqOnDemand producer per endpoint (e.g. one capture module per camera); each connected to, none twice. */
  endpoints: readonly string[];
}

/** One producer's link: its counters and whether it is connected now. */
export interface ZmqFanInEndpointStats extends ZmqOnDemandServerStats {
  endpoint: string;
  status: ZmqStatus;
}

/** The counters of all links added up, and each link's own. */
export interface ZmqFanInStats extends ZmqOnDemandServerStats {
  endpoints: ZmqFanInEndpointStats[];
}

const STAT_KEYS = ['received', 'dispatched', 'skipped', 'malformed', 'handlerErrors', 'refusedPeers', 'requests'] as const;

/**
 * NestJS transport strategy that takes messages on demand from several producers: one ServerZmqOnDemand (one
 * DEALER socket) per endpoint, all serving the same `@EventPattern` handlers. A single DEALER connected to several
 * producers would deal its requests round robin among them and mix their ordinals; a socket each keeps every
 * producer's requests, ordinals, reconnects and counters its own. Each link runs the handler for its own messages,
 * one at a time, and asks for the next when the handler settles, so links take turns only where the handler makes
 * them (inference's SourceScheduler); a link whose producer stalls, vanishes or sends garbage holds up no other.
 * The handler tells the links apart by `ZmqContext.getEndpoint()`.
 */
export class ServerZmqFanIn extends Server<ZmqServerEvents, ZmqStatus> implements CustomTransportStrategy {
  override readonly transportId = ZMQ_TRANSPORT;
  private readonly links: ServerZmqOnDemand[];
  private readonly linkStatus = new Map<ServerZmqOnDemand, ZmqStatus>();

  constructor(options: ServerZmqFanInOptions) {
    super();
    const { endpoints, ...linkOptions } = options;
    if (endpoints.length === 0) throw new RangeError('ServerZmqFanIn needs at least one endpoint');
    const repeated = endpoints.filter((endpoint, index) => endpoints.indexOf(endpoint) !== index);
    if (repeated.length > 0) throw new RangeError(`ServerZmqFanIn connects to each endpoint once; repeated: ${repeated.join(', ')}`);
    this.links = endpoints.map((endpoint) => new ServerZmqOnDemand({ ...linkOptions, endpoint }));
    for (const link of this.links) {
      link.status.subscribe((status) => {
        this.linkStatus.set(link, status);
        this._status$.next(this.overallStatus());
      });
    }
  }

  listen(callback: (error?: unknown) => void): void {
    const listening = this.links.map((link) => {
      for (const [pattern, handler] of this.messageHandlers) link.addHandler(pattern, handler, handler.isEventHandler, handler.extras);
      // Read at each call: Nest may set this server's hooks after it listens.
      link.setOnProcessingStartHook((transportId, context, done) => this.onProcessingStartHook(transportId, context as BaseRpcContext, done));
      link.setOnProcessingEndHook((transportId, context) => this.onProcessingEndHook?.(transportId, context as BaseRpcContext));
      return new Promise<void>((resolve, reject) => link.listen((error) => (error ? reject(error) : resolve())));
    });
    Promise.all(listening).then(() => callback(), callback);
  }

  async close(): Promise<void> {
    await Promise.all(this.links.map((link) => link.close()));
  }

  stats(): ZmqFanInStats {
    const endpoints = this.links.map((link) => ({ endpoint: link.endpoint, status: this.linkStatus.get(link) ?? ZmqStatus.DISCONNECTED, ...link.stats() }));
    const total = Object.fromEntries(STAT_KEYS.map((key) => [key, endpoints.reduce((sum, link) => sum + link[key], 0)])) as Record<(typeof STAT_KEYS)[number], number>;
    return { ...total, endpoints };
  }

  /** Each link's ZeroMQ monitor events and `malformed`; the callback is told which endpoint's. */
  on<EventKey extends keyof ZmqServerEvents = keyof ZmqServerEvents, EventCallback extends ZmqServerEvents[EventKey] = ZmqServerEvents[EventKey]>(
    event: EventKey,
    callback: EventCallback,
  ): void {
    for (const link of this.links) {
      const withEndpoint = (...args: unknown[]) => (callback as (...args: unknown[]) => void)(...args, link.endpoint);
      link.on(event, withEndpoint as EventCallback);
    }
  }

  /** The links' DEALER sockets, in the order of the endpoints. */
  unwrap<T = Dealer[]>(): T {
    return this.links.map((link) => link.unwrap<Dealer>()) as T;
  }

  /** Connected while any producer is: the others are reconnected to in the background. */
  private overallStatus(): ZmqStatus {
    const statuses = [...this.linkStatus.values()];
    if (statuses.includes(ZmqStatus.CONNECTED)) return ZmqStatus.CONNECTED;
    if (statuses.includes(ZmqStatus.RECONNECTING)) return ZmqStatus.RECONNECTING;
    return ZmqStatus.DISCONNECTED;
  }
}
