import { type Pollable, pollUntil as pollTargetsUntil, sleep } from '../../bench/loop.js';

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
