import { inspect } from 'node:util';
import { Logger } from '@nestjs/common';
import type { ReadPacket } from '@nestjs/microservices';
import type { Codec } from '@iev/frame-protocol';
import { Router } from 'zeromq';
import { codecFor } from './codecs';
import { DemandLedger, type Delivery } from './demand-ledger';
import { MAX_REQUEST_PART_BYTES, parseRequest } from './on-demand-wire';
import { ZmqClientProxy } from './zmq-client-proxy';
import { openSocket, SendTurns, SOCKET_DEFAULTS, type CurveOptions } from './zmq-socket';

export interface ClientZmqOnDemandOptions {
  /** `tcp://host:port` or `ipc:///path`. */
  endpoint: string;
  /** Bind the endpoint (default true: the producer owns it, consumers come and go). */
  bind?: boolean;
  /** Codec per pattern; a pattern without one carries JSON. */
  codecs?: Record<string, Codec<unknown>>;
  /** A consumer not heard from for this long is forgotten (default 5000 ms; consumers repeat their requests every second). */
  peerTimeoutMs?: number;
  /** CURVE encryption and authentication of this socket's connections (see CurveOptions); unset: plain. */
  curve?: CurveOptions;
}

/** Counters since construction. */
export interface ZmqOnDemandClientStats {
  /** Requests received from consumers, repeats included. */
  requests: number;
  /** Requests that were not `[pattern, wanted, received]`, or asked for a pattern too many; dropped. */
  malformedRequests: number;
  /** Messages sent, counted once per consumer. */
  sent: number;
  /** Messages replaced by a newer one before any consumer took them. */
  unclaimed: number;
  /** Consumers refused for their CURVE key. */
  refusedPeers: number;
}

/** zeromq.js copies parts up to this size into the message and sends larger ones from the caller's memory. */
const ZERO_COPY_THRESHOLD_BYTES = 128;

/**
 * NestJS client that hands each emitted event only to consumers that asked for one (ServerZmqOnDemand), over a
 * ROUTER socket. `emit` sends the message to every consumer waiting at that moment and keeps it as the newest of its
 * pattern; a consumer that asks later and has not had it gets it at once, otherwise its request waits for the next
 * emit. So a consumer never gets an old message when a newer one exists, nothing is sent that nobody takes, and a
 * consumer that vanishes costs nothing. A producer that should only produce on demand waits on `whenWanted`.
 * A following consumer (ServerZmqOnDemandOptions.follow) gets only what the others take (see DemandLedger).
 *
 * Buffers over 128 bytes are sent without copying: `holds(buffer)` says whether ZeroMQ may still read one, so a
 * producer may reuse its buffers (capture's frame ring) once it says false.
 */
export class ClientZmqOnDemand extends ZmqClientProxy<Router> {
  private readonly ledger: DemandLedger<Buffer[]>;
  private readonly counters: Omit<ZmqOnDemandClientStats, 'refusedPeers' | 'unclaimed'> = { requests: 0, malformedRequests: 0, sent: 0 };
  private readonly log = new Logger(ClientZmqOnDemand.name);
  private receiving?: Promise<void>;
  private readonly sends = new SendTurns();

  constructor(private readonly options: ClientZmqOnDemandOptions) {
    super();
    this.ledger = new DemandLedger({ peerTimeoutMs: options.peerTimeoutMs });
  }

  stats(): ZmqOnDemandClientStats & { consumers: number } {
    return { ...this.counters, unclaimed: this.ledger.unclaimed, refusedPeers: this.socketEvents.refusals, consumers: this.ledger.peerCount };
  }

  /** Whether a consumer is waiting for a message of the pattern now. */
  wanted(pattern: string): boolean {
    return this.ledger.wanted(pattern);
  }

  /** Resolves once a consumer waits for a message of the pattern (at once if one does), or the client closes. */
  whenWanted(pattern: string): Promise<void> {
    return this.ledger.whenWanted(pattern);
  }

  /** The newest message of `pattern` goes to no consumer that asks later (see DemandLedger.withdraw). */
  withdraw(pattern: string): void {
    this.ledger.withdraw(pattern);
  }

  /** Whether ZeroMQ may still read this memory, so it must not be overwritten yet (see DemandLedger.holds). */
  holds(buffer: ArrayBufferLike): boolean {
    return this.ledger.holds(buffer);
  }

  override async close(): Promise<void> {
    await super.close();
    await this.receiving;
    this.receiving = undefined;
    this.ledger.releaseWaiters();
  }

  protected async dispatchEvent<T = undefined>(packet: ReadPacket): Promise<T> {
    const socket = await this.connect();
    const pattern = this.normalizePattern(packet.pattern);
    const parts = codecFor(this.options.codecs, pattern).encode(packet.data);
    const deliveries = this.ledger.publish(pattern, parts, zeroCopied(parts));
    for (const delivery of deliveries) await this.sendTo(socket, delivery, pattern);
    return undefined as T;
  }

  protected async open(): Promise<Router> {
    // mandatory: a consumer that has gone makes send() fail, so it is forgotten at once instead of after its timeout;
    // sendTimeout 0: a consumer's full queue drops the message for it instead of holding up the others.
    // maxMessageSize: far above any request part or CURVE handshake; a peer sending more is cut off before it is read.
    const socket = new Router({ ...SOCKET_DEFAULTS, maxMessageSize: MAX_REQUEST_PART_BYTES, mandatory: true, sendTimeout: 0 });
    this.socket = await openSocket(socket, this.options.endpoint, this.options.bind ?? true, this.socketEvents, this.options.curve);
    this.receiving = this.serveRequests(this.socket).catch((error) => this.log.error(`Request loop stopped: ${inspect(error)}`));
    return this.socket;
  }

  private async serveRequests(socket: Router): Promise<void> {
    for await (const [identity, ...request] of socket) {
      const parsed = parseRequest(request);
      if (!parsed) {
        this.counters.malformedRequests++;
        continue;
      }
      const { pattern, wanted, received, follows } = parsed;
      let deliveries: Delivery<Buffer[]>[];
      try {
        deliveries = this.ledger.request(identity.toString('hex'), pattern, wanted, received, follows);
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        this.counters.malformedRequests++;
        continue;
      }
      this.counters.requests++;
      for (const delivery of deliveries) await this.sendTo(socket, delivery, pattern);
    }
  }

  /** Emits and answers to requests take turns (SendTurns). */
  private sendTo(socket: Router, { peer, ordinal, message }: Delivery<Buffer[]>, pattern: string): Promise<void> {
    return this.sends.take(async () => {
      try {
        await socket.send([Buffer.from(peer, 'hex'), pattern, String(ordinal), ...message]);
        this.counters.sent++;
      } catch (error) {
        // EHOSTUNREACH: the consumer has gone. EAGAIN: its queue is full, so it is not reading; it asks again if it lives.
        const code = (error as { code?: string }).code;
        if (code !== 'EHOSTUNREACH' && code !== 'EAGAIN') throw error;
        this.ledger.forget(peer);
      }
    });
  }
}

function zeroCopied(parts: Buffer[]): ArrayBufferLike[] {
  return parts.filter((part) => part.length > ZERO_COPY_THRESHOLD_BYTES).map((part) => part.buffer);
}
