// The network clock: one time every peer of a match agrees on, the reference peer's clock,
// reached through the keepalive's estimate of that peer's clock offset. Small corrections are
// slewed so the time never jumps; it never runs backwards once it has been read.

/** How fast the clock may be pulled toward a new estimate: this share of the time that passes. */
export const NETWORK_CLOCK_SLEW = 0.1;
/** A correction larger than this steps the clock at once (forward only: backward ones are slewed). */
export const NETWORK_CLOCK_STEP_MS = 100;

/** Where the clock learns the reference peer's offset from; NaN while it is not known. */
export type OffsetSource = () => number;

/**
 * Local time plus a slewed offset toward the reference peer's clock. `now` is the local clock
 * in milliseconds (injected, so the rules can be tested without waiting).
 */
export class NetworkClock {
  private offset = 0;
  private synchronized = false;
  private lastLocal = Number.NaN;
  private lastRead = -Infinity;

  constructor(private readonly now: () => number) {}

  /**
   * Moves the applied offset toward `target` (the reference clock minus the local one; 0 on the
   * reference itself; NaN while unknown). The first estimate is taken as it is; after it, a
   * correction within {@link NETWORK_CLOCK_STEP_MS} is slewed at {@link NETWORK_CLOCK_SLEW} of
   * the elapsed time, a larger one forward steps, a larger one backward is slewed too.
   */
  update(target: number): void {
    const local = this.now();
    const elapsed = Number.isNaN(this.lastLocal) ? 0 : Math.max(0, local - this.lastLocal);
    this.lastLocal = local;
    if (Number.isNaN(target)) return;
    if (!this.synchronized) {
      this.offset = target;
      this.synchronized = true;
      return;
    }
    const error = target - this.offset;
    if (error > NETWORK_CLOCK_STEP_MS) {
      this.offset = target;
      return;
    }
    const limit = elapsed * NETWORK_CLOCK_SLEW;
    this.offset += Math.max(-limit, Math.min(limit, error));
  }

  /** Whether an estimate of the reference clock has been taken. */
  isSynchronized(): boolean {
    return this.synchronized;
  }

  /** The network time in milliseconds: never less than what it answered before. */
  read(): number {
    const time = Math.max(this.now() + this.offset, this.lastRead);
    this.lastRead = time;
    return time;
  }

  /** Forgets the estimate (the reference changed or the match ended); the time still never runs backwards. */
  reset(): void {
    this.synchronized = false;
  }
}
