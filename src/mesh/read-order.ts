/** What the read order needs of a peer. */
export interface Readable {
  readonly id: number;
  /** Packets readable now. */
  readonly available: number;
  /** Whether its packets may be read: it is connected, and has not been dropped. */
  readonly connected: boolean;
}

/**
 * The order in which getPacket() visits peers: one packet from each peer that has one, round-robin,
 * starting after the peer read last. Built once per poll, when packets become readable; a packet
 * read costs O(1) amortised however many peers there are, where scanning every peer per packet
 * made a server's reads grow with the square of its clients.
 */
export class ReadOrder<P extends Readable> {
  /**
   * The peers of the round, the first `size` entries; the array is never shortened (setting its
   * length at every rebuild, once per poll, was a runtime call), but what lies past `size` is
   * emptied, so that a dropped peer is not kept.
   */
  private readonly ring: (P | undefined)[] = [];
  private size = 0;
  /** @param peers every peer, in the order a round visits them; walked only to rebuild. */
  constructor(private readonly peers: ReadonlyMap<number, P>) {}

  private cursor = 0;
  private total = 0;
  /** Peers of the ring left with nothing by reads this round: compacted away when it ends. */
  private emptied = 0;
  private stale = true;
  private lastReadId = 0;

  /** Something changed which peers have packets (a poll, a peer dropped): rebuilt when next asked. */
  invalidate(): void {
    this.stale = true;
  }

  /** Forgets the peer read last too: reading starts again from the first peer. */
  reset(): void {
    this.stale = true;
    this.lastReadId = 0;
  }

  /** Packets readable across every peer. */
  count(): number {
    if (this.stale) this.rebuild();
    return this.total;
  }

  /** The peer whose packet comes next, without taking it; undefined when none. */
  peek(): P | undefined {
    if (this.stale) this.rebuild();
    const ring = this.ring;
    while (this.size > 0) {
      if (this.cursor >= this.size) this.compact();
      if (this.cursor >= this.size) return undefined;
      const peer = ring[this.cursor]!;
      if (peer.available > 0 && peer.connected) return peer;
      this.emptied++;
      this.cursor++;
    }
    return undefined;
  }

  /** Says that a packet of `peer` (the one `peek` named) was read: the next comes from the peer after it. */
  taken(peer: P): void {
    this.lastReadId = peer.id;
    this.total--;
    this.cursor++;
    if (peer.available === 0) this.emptied++;
  }

  private rebuild(): void {
    const ring = this.ring;
    let size = 0;
    this.total = 0;
    let start = -1;
    let passedLast = false;
    for (const peer of this.peers.values()) {
      if (peer.available > 0 && peer.connected) {
        if (passedLast && start < 0) start = size;
        ring[size++] = peer;
        this.total += peer.available;
      }
      if (peer.id === this.lastReadId) passedLast = true;
    }
    this.shrink(size);
    this.cursor = start < 0 ? 0 : start;
    this.emptied = 0;
    this.stale = false;
  }

  /** At the end of a round: drops the peers that have nothing left, and starts the next round. */
  private compact(): void {
    this.cursor = 0;
    // A peer read dry is counted as it empties; one dropped meanwhile invalidates the whole order.
    if (this.emptied === 0) return;
    this.emptied = 0;
    const ring = this.ring;
    let kept = 0;
    for (let n = 0; n < this.size; n++) {
      const peer = ring[n]!;
      if (peer.available > 0 && peer.connected) ring[kept++] = peer;
    }
    this.shrink(kept);
  }

  /** Makes the ring `size` long, emptying the entries it no longer holds. */
  private shrink(size: number): void {
    for (let n = size; n < this.size; n++) this.ring[n] = undefined;
    this.size = size;
  }
}
