/** A consumer as the ROUTER socket names it: its routing id. */
export type PeerId = string;

interface Peer {
  /** It takes only messages a leading peer took, while one is there (see the class). */
  follows: boolean;
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
  /** The most patterns one peer may ask for: bounds what it makes the ledger remember (default 16). */
  maxPatternsPerPeer?: number;
  now?: () => number;
}

/** Peers forgotten for their silence whose counts are kept, should they speak again (see `silenced`). */
const MAX_SILENCED = 64;

/** A message to send to a peer, already counted as sent to it. */
export interface Delivery<M> {
  peer: PeerId;
  /** Messages of the pattern sent to this peer, this one included: the peer quotes the last it received. */
  ordinal: number;
  message: M;
}

interface Kept<M> {
  serial: number;
  message: M;
  buffers: ArrayBufferLike[];
  /** Sent to some peer. */
  taken: boolean;
}

/**
 * The bookkeeping behind on-demand delivery, apart from the socket so it can be reasoned about and tested alone.
 * Consumers say how many messages of a pattern they are waiting for; each message goes to the peers waiting at
 * the time, and the newest message of a pattern is kept so a consumer that asks later gets it at once unless it
 * already had it. A request also acknowledges everything sent to that peer before: the consumer has read it, so
 * ZeroMQ is done with the buffers, which is what lets a producer reuse them (see `holds`).
 *
 * A peer may follow: it is sent only messages some leading (not following) peer was sent too, the newest of those,
 * and its wants make nothing new be produced; with no leading peer there it is served like one. So the preview gets
 * the frames inference takes, each of which will have its detections, and never has a frame decoded for it alone.
 */
export class DemandLedger<M> {
  private readonly peers = new Map<PeerId, Peer>();
  /**
   * What was sent to each peer forgotten for its silence, the latest MAX_SILENCED. One heard from again is on the same
   * connection (a routing id names one), whose messages were not lost: a consumer busy or stopped for a while, or
   * this producer stopped (SIGSTOP, a suspended VM) with the consumer's requests waiting for it. So it is not sent
   * again the newest message it already had, nor counted as a new connection.
   */
  private readonly silenced = new Map<PeerId, Pick<Peer, 'lastSent' | 'sentCount'>>();
  private readonly latest = new Map<string, Kept<M>>();
  /** The newest message of each pattern a leading peer was sent, while there are followers: what they get. */
  private readonly latestLed = new Map<string, Kept<M>>();
  private readonly waiters = new Map<string, Array<() => void>>();
  /**
   * Buffers sent to peers that were forgotten before they acknowledged them: a stopped consumer may still be owed
   * the rest of one, so they stay held for good. Weakly: once ZeroMQ and the producer let go, they are gone.
   */
  private readonly orphaned = new WeakSet<ArrayBufferLike>();
  private readonly peerTimeoutMs: number;
  private readonly maxWants: number;
  private readonly maxPatternsPerPeer: number;
  private readonly now: () => number;
  private serial = 0;
  private replacedUnsent = 0;

  constructor(options: DemandLedgerOptions = {}) {
    this.peerTimeoutMs = options.peerTimeoutMs ?? 5000;
    this.maxWants = options.maxWants ?? 16;
    this.maxPatternsPerPeer = options.maxPatternsPerPeer ?? 16;
    this.now = options.now ?? Date.now;
  }

  /**
   * A peer says it waits for `wanted` messages of `pattern`, the last it received being its `received`-th (the
   * ordinal each Delivery carries); `follows`: it takes only what leading peers take (see the class). Messages sent
   * after that are on their way: they count against what it wants (so a request that crossed a message, or a
   * repeat, never gets it more than it wants) and stay held; the ones it received are released. Returns what to
   * send now: the newest message, when the peer wants one and has not had it (and, when a leading peer takes it
   * so, to the followers waiting for it). Throws a RangeError, remembering nothing of it, for a pattern beyond the
   * peer's maxPatternsPerPeer.
   */
  request(peerId: PeerId, pattern: string, wanted: number, received: number, follows = false): Delivery<M>[] {
    this.forgetSilentPeers();
    const known = this.peers.get(peerId);
    if (known && !known.wants.has(pattern) && known.wants.size >= this.maxPatternsPerPeer) {
      throw new RangeError(`a consumer asked for more than ${this.maxPatternsPerPeer} patterns`);
    }
    const peer = this.peer(peerId);
    peer.lastHeardAt = this.now();
    peer.follows = follows;
    const sent = peer.sentCount.get(pattern) ?? 0;
    // More than was ever sent to this connection: the count is from the consumer's previous one; nothing is vouched for.
    const acknowledged = received <= sent ? received : 0;
    peer.unacknowledged = peer.unacknowledged.filter((message) => message.pattern !== pattern || message.ordinal > acknowledged);
    const inFlight = sent - acknowledged;
    const wants = Math.min(Math.max(0, wanted - inFlight), this.maxWants);
    peer.wants.set(pattern, wants);
    const following = this.following(peer);
    const newest = (following ? this.latestLed : this.latest).get(pattern);
    const owed = wants > 0 && newest !== undefined && (peer.lastSent.get(pattern) ?? 0) < newest.serial;
    // What the newest message does not cover has to be produced; not for a follower, which waits for its leaders.
    if (!following && wants > (owed ? 1 : 0)) this.wakeWaiters(pattern);
    if (!owed) return [];
    const delivery = this.countSent(peerId, peer, pattern, newest);
    return following ? [delivery] : [delivery, ...this.led(pattern, newest)];
  }

  /**
   * A new message of `pattern`: it becomes the newest (held, so its buffers count as in use) and goes to every
   * peer waiting for one, whose wants it uses up (to followers only if a leading peer takes it, or none is there).
   */
  publish(pattern: string, message: M, buffers: ArrayBufferLike[]): Delivery<M>[] {
    this.forgetSilentPeers();
    if (this.latest.get(pattern)?.taken === false) this.replacedUnsent++;
    const kept = { serial: ++this.serial, message, buffers, taken: false };
    this.latest.set(pattern, kept);
    const deliveries: Delivery<M>[] = [];
    for (const [peerId, peer] of this.peers) {
      if ((peer.wants.get(pattern) ?? 0) === 0 || this.following(peer)) continue;
      deliveries.push(this.countSent(peerId, peer, pattern, kept));
    }
    const followed = deliveries.length > 0 || !this.hasLeaders();
    return followed ? [...deliveries, ...this.led(pattern, kept)] : deliveries;
  }

  /** Whether any known peer is waiting for a message of `pattern` that has to be produced (a follower's wait does not count while it has leaders). */
  wanted(pattern: string): boolean {
    this.forgetSilentPeers();
    for (const peer of this.peers.values()) if ((peer.wants.get(pattern) ?? 0) > 0 && !this.following(peer)) return true;
    return false;
  }

  /** Resolves once `wanted` says true (at once if it does). */
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
    for (const kept of [...this.latest.values(), ...this.latestLed.values()]) if (kept.buffers.includes(buffer)) return true;
    for (const peer of this.peers.values()) if (peer.unacknowledged.some((sent) => sent.buffers.includes(buffer))) return true;
    return false;
  }

  /** Messages replaced by a newer one of their pattern before any peer was sent them. */
  get unclaimed(): number {
    return this.replacedUnsent;
  }

  /** Peers heard from within peerTimeoutMs. */
  get peerCount(): number {
    this.forgetSilentPeers();
    return this.peers.size;
  }

  /** Drops a peer at once: its routing id is no longer reachable. */
  forget(peerId: PeerId): void {
    this.silenced.delete(peerId);
    const peer = this.peers.get(peerId);
    if (!peer) return;
    for (const buffer of peer.unacknowledged.flatMap((sent) => sent.buffers)) this.orphaned.add(buffer);
    this.peers.delete(peerId);
    // The last leading peer gone: its followers are served like it, and what they wait for has to be produced.
    if (peer.follows || this.hasLeaders()) return;
    for (const follower of this.peers.values()) for (const [pattern, wants] of follower.wants) if (wants > 0) this.wakeWaiters(pattern);
  }

  /**
   * The newest message of `pattern` is given to no peer that asks later (what it shows is gone: a camera removed); a
   * peer asking is served the next one produced. Those already sent stay held until acknowledged.
   */
  withdraw(pattern: string): void {
    this.latest.delete(pattern);
    this.latestLed.delete(pattern);
  }

  /** Wakes every whenWanted waiter so a closing producer is not left waiting. */
  releaseWaiters(): void {
    for (const pattern of [...this.waiters.keys()]) this.wakeWaiters(pattern);
  }

  private peer(peerId: PeerId): Peer {
    let peer = this.peers.get(peerId);
    if (!peer) {
      const { lastSent, sentCount } = this.silenced.get(peerId) ?? { lastSent: new Map(), sentCount: new Map() };
      this.silenced.delete(peerId);
      peer = { follows: false, wants: new Map(), lastSent, sentCount, unacknowledged: [], lastHeardAt: this.now() };
      this.peers.set(peerId, peer);
    }
    return peer;
  }

  /**
   * `kept` went to a leading peer: the followers waiting that have not had it get it too, and it is what they get
   * next; kept (and its buffers held) only while there are followers.
   */
  private led(pattern: string, kept: Kept<M>): Delivery<M>[] {
    const followers = [...this.peers].filter(([, peer]) => peer.follows);
    if (followers.length === 0) {
      this.latestLed.delete(pattern);
      return [];
    }
    this.latestLed.set(pattern, kept);
    return followers
      .filter(([, peer]) => (peer.wants.get(pattern) ?? 0) > 0 && (peer.lastSent.get(pattern) ?? 0) < kept.serial)
      .map(([peerId, peer]) => this.countSent(peerId, peer, pattern, kept));
  }

  private hasLeaders(): boolean {
    for (const peer of this.peers.values()) if (!peer.follows) return true;
    return false;
  }

  /** A follower with a leading peer there to follow. */
  private following(peer: Peer): boolean {
    return peer.follows && this.hasLeaders();
  }

  private countSent(peerId: PeerId, peer: Peer, pattern: string, kept: Kept<M>): Delivery<M> {
    const { serial, message, buffers } = kept;
    kept.taken = true;
    const ordinal = (peer.sentCount.get(pattern) ?? 0) + 1;
    peer.sentCount.set(pattern, ordinal);
    peer.wants.set(pattern, Math.max(0, (peer.wants.get(pattern) ?? 0) - 1));
    peer.lastSent.set(pattern, serial);
    if (buffers.length > 0) peer.unacknowledged.push({ pattern, ordinal, buffers });
    return { peer: peerId, ordinal, message };
  }

  private forgetSilentPeers(): void {
    const cutoff = this.now() - this.peerTimeoutMs;
    for (const [peerId, peer] of this.peers) {
      if (peer.lastHeardAt >= cutoff) continue;
      this.forget(peerId);
      this.silenced.set(peerId, { lastSent: peer.lastSent, sentCount: peer.sentCount });
      if (this.silenced.size > MAX_SILENCED) this.silenced.delete(this.silenced.keys().next().value as PeerId);
    }
  }

  private wakeWaiters(pattern: string): void {
    const waiting = this.waiters.get(pattern);
    this.waiters.delete(pattern);
    for (const wake of waiting ?? []) wake();
  }
}
