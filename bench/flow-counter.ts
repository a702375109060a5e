/** What a one-way flow measured, counted on both ends, for the throughput scenarios. */
import { now, sleep } from './loop.js';

/** What one run measured. */
export interface Flow {
  /** Packets and megabytes (10^6) that arrived per second of the measured window. */
  msgPerS: number;
  mbPerS: number;
  /** Packets handed to the sender per second of the window. */
  sentPerS: number;
  /** Arrived / sent over the whole run, after a drain. */
  deliveryPct: number;
}

/** Counters of a flow: all of it for the delivery ratio, the measured window for the rates. */
export class FlowCounter {
  measuring = false;
  private sentTotal = 0;
  private arrivedTotal = 0;
  private sentInWindow = 0;
  private arrivedInWindow = 0;
  private bytesInWindow = 0;

  sent(): void {
    this.sentTotal++;
    if (this.measuring) this.sentInWindow++;
  }

  arrived(bytes: number): void {
    this.arrivedTotal++;
    if (this.measuring) {
      this.arrivedInWindow++;
      this.bytesInWindow += bytes;
    }
  }

  flow(seconds: number): Flow {
    return {
      msgPerS: this.arrivedInWindow / seconds,
      mbPerS: this.bytesInWindow / seconds / 1e6,
      sentPerS: this.sentInWindow / seconds,
      deliveryPct: this.sentTotal === 0 ? Number.NaN : (100 * this.arrivedTotal) / this.sentTotal,
    };
  }
}


/** Opens the measured window after the warm-up and closes it after the duration; resolves with its length in seconds. */
export async function measure(counts: { measuring: boolean }, warmupMs: number, durationMs: number): Promise<number> {
  await sleep(warmupMs);
  counts.measuring = true;
  const start = now();
  await sleep(durationMs);
  counts.measuring = false;
  return (now() - start) / 1000;
}
