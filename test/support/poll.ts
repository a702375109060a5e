/** Anything with a poll(): a connection, a multiplayer peer, a signaling client. */
export interface Pollable {
  poll(): void;
}

/**
 * Polls every target once per event-loop turn, as a game loop would, until `done()` holds.
 * Rejects after `timeoutMs` with `what` in the message; the timer never outlives the wait.
 */
export async function pollUntil(
  targets: readonly Pollable[],
  done: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const target of targets) target.poll();
    if (done()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Polls every target for `ms` milliseconds, for checks that something does not happen. */
export async function pollFor(targets: readonly Pollable[], ms: number): Promise<void> {
  const end = Date.now() + ms;
  await pollUntil(targets, () => Date.now() >= end, 'the end of the wait', ms + 1000);
}
