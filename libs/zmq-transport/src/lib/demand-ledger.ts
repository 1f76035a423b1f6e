/** A consumer as the ROUTER socket names it: its routing id. */
export type PeerId = string;

interface Peer {
  /** Messages of each pattern the peer is waiting for. */
  wants: Map<string, number>;
  /** The newest message of each pattern it was sent (by the ledger's own numbering). */
  lastSent: Map<string, number>;
  /** Messages of each pattern sent to it. */
  sentCount: Map<string, number>;
  /** Zero-copy buffers of messages it has not yet said it received: ZeroMQ may still be reading them. */
  unacknowledged: Array<{ pattern: string; ordinal: number; buffers: ArrayBufferLike[] }>;
  lastHeardAt: number;
}

export interface DemandLedgerOptions {
  /** A peer not heard from for this long is forgotten, with its wants and the buffers it held (default 5000 ms). */
  peerTimeoutMs?: number;
  /** The most a single request may ask for: bounds what a confused or hostile peer can claim (default 16). */
  maxWants?: number;
  now?: () => number;
}

/** A message to send to a peer, already counted as sent to it. */
export interface Delivery {
  peer: PeerId;
  /** Messages of the pattern sent to this peer, this one included: the peer quotes the last it received. */
  ordinal: number;
}

/**
 * The bookkeeping behind on-demand delivery, apart from the socket so it can be reasoned about and tested alone.
 * Consumers say how many messages of a pattern they are waiting for; each message goes to the peers waiting at
 * the time, and the newest message of a pattern is kept so a consumer that asks later gets it at once unless it
 * already had it. A request also acknowledges everything sent to that peer before: the consumer has read it, so
 * ZeroMQ is done with the buffers, which is what lets a producer reuse them (see `holds`).
 */
export class DemandLedger {
  private readonly peers = new Map<PeerId, Peer>();
  private readonly latest = new Map<string, { serial: number; buffers: ArrayBufferLike[] }>();
  private readonly waiters = new Map<string, Array<() => void>>();
  /**
   * Buffers sent to peers that were forgotten before they acknowledged them: a stopped consumer may still be owed
   * the rest of one, so they stay held for good. Weakly: once ZeroMQ and the producer let go, they are gone.
   */
  private readonly orphaned = new WeakSet<ArrayBufferLike>();
  private readonly peerTimeoutMs: number;
  private readonly maxWants: number;
  private readonly now: () => number;
  private serial = 0;

  constructor(options: DemandLedgerOptions = {}) {
    this.peerTimeoutMs = options.peerTimeoutMs ?? 5000;
    this.maxWants = options.maxWants ?? 16;
    this.now = options.now ?? Date.now;
  }

  /**
   * A peer says it waits for `wanted` messages of `pattern`, the last it received being its `received`-th (the
   * ordinal each Delivery carries). Messages sent after that are on their way: they count against what it wants
   * (so a request that crossed a message, or a repeat, never gets it more than it wants) and stay held; the ones it
   * received are released. Returns true when the newest message should go to it now: it wants one and has not had
   * that one yet; the caller then sends it via `deliverLatest`.
   */
  request(peerId: PeerId, pattern: string, wanted: number, received: number): boolean {
    const peer = this.peer(peerId);
    peer.lastHeardAt = this.now();
    const sent = peer.sentCount.get(pattern) ?? 0;
    // More than was ever sent to this connection: the count is from the consumer's previous one; nothing is vouched for.
    const acknowledged = received <= sent ? received : 0;
    peer.unacknowledged = peer.unacknowledged.filter((message) => message.pattern !== pattern || message.ordinal > acknowledged);
    const inFlight = sent - acknowledged;
    const wants = Math.min(Math.max(0, wanted - inFlight), this.maxWants);
    peer.wants.set(pattern, wants);
    const latest = this.latest.get(pattern);
    const owed = wants > 0 && latest !== undefined && (peer.lastSent.get(pattern) ?? 0) < latest.serial;
    // What the newest message does not cover has to be produced.
    if (wants > (owed ? 1 : 0)) this.wakeWaiters(pattern);
    return owed;
  }

  /** Counts the newest message as sent to the peer that was owed it (see `request`). */
  deliverLatest(peerId: PeerId, pattern: string): Delivery | undefined {
    const latest = this.latest.get(pattern);
    const peer = this.peers.get(peerId);
    if (!latest || !peer) return undefined;
    return { peer: peerId, ordinal: this.countSent(peer, pattern, latest.serial, latest.buffers) };
  }

  /**
   * A new message of `pattern`: it becomes the newest (held, so its buffers count as in use) and goes to every
   * peer waiting for one, whose wants it uses up.
   */
  publish(pattern: string, buffers: ArrayBufferLike[]): Delivery[] {
    this.forgetSilentPeers();
    const serial = ++this.serial;
    this.latest.set(pattern, { serial, buffers });
    const deliveries: Delivery[] = [];
    for (const [peerId, peer] of this.peers) {
      if ((peer.wants.get(pattern) ?? 0) === 0) continue;
      deliveries.push({ peer: peerId, ordinal: this.countSent(peer, pattern, serial, buffers) });
    }
    return deliveries;
  }

  /** Whether any known peer is waiting for a message of `pattern`. */
  wanted(pattern: string): boolean {
    this.forgetSilentPeers();
    for (const peer of this.peers.values()) if ((peer.wants.get(pattern) ?? 0) > 0) return true;
    return false;
  }

  /** Resolves once some peer waits for a message of `pattern` (at once if one does). */
  whenWanted(pattern: string): Promise<void> {
    if (this.wanted(pattern)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiting = this.waiters.get(pattern) ?? [];
      waiting.push(resolve);
      this.waiters.set(pattern, waiting);
    });
  }

  /**
   * Whether ZeroMQ may still read this memory: it belongs to the newest message of a pattern, or was sent to a peer
   * that has not asked again since (a peer forgotten before it did holds its buffers for good). A producer reuses
   * a buffer only when this says false.
   */
  holds(buffer: ArrayBufferLike): boolean {
    if (this.orphaned.has(buffer)) return true;
    for (const latest of this.latest.values()) if (latest.buffers.includes(buffer)) return true;
    for (const peer of this.peers.values()) if (peer.unacknowledged.some((sent) => sent.buffers.includes(buffer))) return true;
    return false;
  }

  /** Peers heard from within peerTimeoutMs. */
  get peerCount(): number {
    this.forgetSilentPeers();
    return this.peers.size;
  }

  /** Drops a peer at once: its routing id is no longer reachable. */
  forget(peerId: PeerId): void {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    for (const buffer of peer.unacknowledged.flatMap((sent) => sent.buffers)) this.orphaned.add(buffer);
    this.peers.delete(peerId);
  }

  /** Wakes every whenWanted waiter so a closing producer is not left waiting. */
  releaseWaiters(): void {
    for (const pattern of [...this.waiters.keys()]) this.wakeWaiters(pattern);
  }

  private peer(peerId: PeerId): Peer {
    let peer = this.peers.get(peerId);
    if (!peer) {
      peer = { wants: new Map(), lastSent: new Map(), sentCount: new Map(), unacknowledged: [], lastHeardAt: this.now() };
      this.peers.set(peerId, peer);
    }
    return peer;
  }

  private countSent(peer: Peer, pattern: string, serial: number, buffers: ArrayBufferLike[]): number {
    const ordinal = (peer.sentCount.get(pattern) ?? 0) + 1;
    peer.sentCount.set(pattern, ordinal);
    peer.wants.set(pattern, Math.max(0, (peer.wants.get(pattern) ?? 0) - 1));
    peer.lastSent.set(pattern, serial);
    if (buffers.length > 0) peer.unacknowledged.push({ pattern, ordinal, buffers });
    return ordinal;
  }

  private forgetSilentPeers(): void {
    const cutoff = this.now() - this.peerTimeoutMs;
    for (const [peerId, peer] of this.peers) if (peer.lastHeardAt < cutoff) this.forget(peerId);
  }

  private wakeWaiters(pattern: string): void {
    const waiting = this.waiters.get(pattern);
    this.waiters.delete(pattern);
    for (const wake of waiting ?? []) wake();
  }
}
