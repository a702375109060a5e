// What the receiver of a spawner's state keeps per sending peer: the snapshots it received whole
// (the baselines the sender's deltas refer to), the parts of ticks still coming, what to
// acknowledge, and how regularly state arrives (for the interpolation delay).
import { MAX_BASELINES } from './baselines.js';

/** A tick's state being received: its parts so far and what they carried. */
interface Reception {
  readonly parts: number;
  readonly got: Set<number>;
  readonly entries: Map<number, unknown[]>;
  /** False once a part could not be decoded or applied whole: the tick is then never acknowledged. */
  whole: boolean;
}

/** Ticks received in part at once; an older one is given up. */
const RECEPTIONS = 4;
/** Weight of a new sample in the interval estimate. */
const SMOOTHING = 1 / 16;
/** Arrivals the jitter is measured over, and the share of them it covers. */
const JITTER_WINDOW = 64;
const JITTER_PERCENTILE = 0.95;

/** The state of one spawner from one peer. */
export class StateStream {
  private readonly complete = new Map<number, ReadonlyMap<number, unknown[]>>();
  private readonly receptions = new Map<number, Reception>();
  private latestComplete = 0;
  private acknowledged = 0;
  private lastTick = 0;
  private lastTime = Number.NaN;
  private readonly transits: number[] = [];
  /** Smoothed time between the sender's snapshots, in ms. */
  intervalMs = Number.NaN;
  /**
   * How much later than the quickest a snapshot arrives, in ms: the 95th percentile of the
   * recent arrivals' transit times less the least of them, so that a render delay covering it
   * finds the next snapshot in time for 19 arrivals in 20.
   */
  jitterMs = 0;

  /** @param remotePathId the sender's path id for the spawner, which acknowledgements name. */
  constructor(readonly remotePathId: number) {}

  /** The snapshot received whole at `tick`, as a baseline; an empty one for tick 0 (none). */
  baseline(tick: number): ReadonlyMap<number, unknown[]> | undefined {
    return tick === 0 ? EMPTY : this.complete.get(tick);
  }

  /**
   * The record of `tick`'s reception, begun with its first part; undefined for a tick older than
   * one already complete (it changes nothing) or a part count that disagrees.
   */
  reception(tick: number, parts: number): Reception | undefined {
    if (tick <= this.latestComplete) return undefined;
    let reception = this.receptions.get(tick);
    if (!reception) {
      if (this.receptions.size >= RECEPTIONS) this.receptions.delete(this.receptions.keys().next().value!);
      reception = { parts, got: new Set(), entries: new Map(), whole: true };
      this.receptions.set(tick, reception);
    }
    return reception.parts === parts ? reception : undefined;
  }

  /** Notes when a tick's state was sampled (`time`) and arrived (`arrival`), both network time. */
  time(tick: number, time: number, arrival: number): void {
    if (tick <= this.lastTick) return;
    this.lastTick = tick;
    if (!Number.isNaN(this.lastTime) && time > this.lastTime) {
      const interval = time - this.lastTime;
      this.intervalMs = Number.isNaN(this.intervalMs) ? interval : this.intervalMs + SMOOTHING * (interval - this.intervalMs);
    }
    this.lastTime = time;
    this.transits.push(arrival - time);
    if (this.transits.length > JITTER_WINDOW) this.transits.shift();
    const sorted = [...this.transits].sort((a, b) => a - b);
    this.jitterMs = sorted[Math.floor((sorted.length - 1) * JITTER_PERCENTILE)]! - sorted[0]!;
  }

  /**
   * Ends a part of `tick`: when it was the last and every part was whole, the tick's snapshot
   * (its baseline with the entries over it, for the ids still `alive`) is kept and is due for
   * acknowledgement.
   */
  finishPart(tick: number, part: number, baselineTick: number, reception: Reception, alive: (netId: number) => boolean): void {
    reception.got.add(part);
    if (reception.got.size < reception.parts) return;
    this.receptions.delete(tick);
    if (!reception.whole) return;
    const snapshot = new Map<number, unknown[]>();
    for (const [netId, values] of this.baseline(baselineTick) ?? EMPTY) if (alive(netId)) snapshot.set(netId, values);
    for (const [netId, values] of reception.entries) snapshot.set(netId, values);
    this.complete.set(tick, snapshot);
    if (this.complete.size > MAX_BASELINES) this.complete.delete(this.complete.keys().next().value!);
    this.latestComplete = Math.max(this.latestComplete, tick);
  }

  /** The tick to acknowledge, once per tick received whole; 0 when there is nothing new. */
  takeAcknowledgement(): number {
    if (this.latestComplete <= this.acknowledged) return 0;
    this.acknowledged = this.latestComplete;
    return this.acknowledged;
  }
}

const EMPTY: ReadonlyMap<number, unknown[]> = new Map();
