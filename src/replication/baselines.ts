// What the sender of a spawner's state keeps per peer: the snapshots it sent, so that the next
// can be a delta against the newest one the peer acknowledged, and no more than a fixed number.

/** The snapshots kept per peer and spawner: a peer whose acknowledgement is older gets whole state. */
export const MAX_BASELINES = 32;

/** The `Always` state one peer was sent at one tick: network ids ascending, with their values. */
export interface Snapshot {
  readonly tick: number;
  readonly netIds: readonly number[];
  readonly values: readonly (readonly unknown[])[];
}

/** The snapshots sent to one peer for one spawner, and the newest it acknowledged. */
export class Baselines {
  private readonly ring: Snapshot[] = [];
  private acked = 0;

  /** Keeps a snapshot just sent, forgetting the oldest past {@link MAX_BASELINES}. */
  add(snapshot: Snapshot): void {
    this.ring.push(snapshot);
    if (this.ring.length > MAX_BASELINES) this.ring.shift();
  }

  /** The peer received `tick` whole; acknowledgements travel unreliably, so only a newer one counts. */
  acknowledge(tick: number): void {
    if (tick > this.acked && this.ring.some((snapshot) => snapshot.tick === tick)) this.acked = tick;
  }

  /** The snapshot to send a delta against: the acknowledged one, while it is still kept. */
  baseline(): Snapshot | undefined {
    for (let index = this.ring.length - 1; index >= 0; index--) {
      const snapshot = this.ring[index]!;
      if (snapshot.tick === this.acked) return snapshot;
      if (snapshot.tick < this.acked) break;
    }
    return undefined;
  }
}
