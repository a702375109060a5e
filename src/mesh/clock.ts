// The local clock, and what keepalive answers tell of the remote one.

// Fixed for the life of the process or page, and a getter call of its own on every read in a browser.
const TIME_ORIGIN = performance.timeOrigin;

/** Milliseconds on a monotonic clock anchored at the Unix epoch. */
export function clockMs(): number {
  return TIME_ORIGIN + performance.now();
}

/** Clock samples kept: the offset comes from the one with the shortest round trip among them. */
export const CLOCK_SAMPLES = 16;
/** Weight of a new sample in the smoothed round-trip time, as TCP's SRTT (RFC 6298) uses. */
const RTT_SMOOTHING = 0.125;

/** Round-trip time and clock offset, estimated from answered pings. */
export class ClockEstimator {
  /** Smoothed round-trip time in milliseconds; NaN before the first answer. */
  rttMs = Number.NaN;
  /** The remote clock minus the local clock, in milliseconds; NaN before the first answer. */
  offsetMs = Number.NaN;
  private readonly samples: Array<{ rtt: number; offset: number }> = [];

  /** Whether it holds its full window of samples: before, each new one may still move the offset a lot. */
  get settled(): boolean {
    return this.samples.length >= CLOCK_SAMPLES;
  }

  /**
   * Takes an answer to a ping sent at `stamp` (local clock), answered at `remoteTime` (remote
   * clock), received at `now` (local clock). False for an answer that cannot be (from the future).
   */
  addSample(stamp: number, remoteTime: number, now: number): boolean {
    const rtt = now - stamp;
    if (rtt < 0 || rtt > 60_000) return false;
    this.rttMs = Number.isNaN(this.rttMs) ? rtt : this.rttMs + RTT_SMOOTHING * (rtt - this.rttMs);
    this.samples.push({ rtt, offset: remoteTime - (stamp + now) / 2 });
    if (this.samples.length > CLOCK_SAMPLES) this.samples.shift();
    // The shortest round trip has the least room for an asymmetric path to skew the offset.
    let best = this.samples[0]!;
    for (const sample of this.samples) if (sample.rtt < best.rtt) best = sample;
    this.offsetMs = best.offset;
    return true;
  }
}
