import { type Pollable, pollUntil as pollTargetsUntil, sleep } from '../../bench/loop.js';
import { median } from '../../src/cli/statistics.js';
import { clockMs } from '../../src/mesh/clock.js';

/** A millisecond's timer between polls, as a game loop's frame timer would give. */
export const pauseOneMs = (): Promise<void> => sleep(1);

/**
 * Polls every target once a millisecond, as a game loop's frame timer would, until `done()` holds.
 * Rejects after `timeoutMs` with `what` in the message; the timer never outlives the wait.
 */
export function pollUntil(targets: readonly Pollable[], done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return pollTargetsUntil(targets, done, what, timeoutMs, pauseOneMs);
}

/** Polls every target for `ms` milliseconds, for checks that something does not happen. */
export async function pollFor(targets: readonly Pollable[], ms: number): Promise<void> {
  const end = Date.now() + ms;
  await pollUntil(targets, () => Date.now() >= end, 'the end of the wait', ms + 1000);
}

/**
 * The gaps between the polls a test ran: a bound on something judged at a poll allows for the
 * late polls of a loaded machine by these, not by a fixed margin.
 */
export class PollGaps {
  private readonly gaps: number[] = [];
  private longest = 0;

  /** @param lastAt when the last poll before the first one marked ran (clockMs). */
  constructor(private lastAt: number = clockMs()) {}

  /** Records a poll now; returns its time (clockMs). */
  mark(): number {
    const now = clockMs();
    const gap = now - this.lastAt;
    this.gaps.push(gap);
    this.longest = Math.max(this.longest, gap);
    this.lastAt = now;
    return now;
  }

  /** When the last poll marked ran (clockMs). */
  get lastPollAt(): number {
    return this.lastAt;
  }

  get longestMs(): number {
    return this.longest;
  }

  get medianMs(): number {
    return median(this.gaps);
  }
}
