/**
 * The event-loop helpers every scenario runs on. node-datachannel calls back from its own threads
 * through the event loop, so a benchmark that never yields never hears anything: each helper here
 * runs one step per loop turn and yields with setImmediate, which passes through the I/O phase
 * (where those callbacks land) without sleeping.
 */

/** Yields for one event-loop turn. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Sleeps `ms` milliseconds on a timer that never outlives the wait. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Milliseconds on the monotonic clock. */
export function now(): number {
  return performance.now();
}

/**
 * Runs `step` once per loop turn (or, with `pause`, once after each pause) until it returns true;
 * rejects after `timeoutMs`, naming `what`. A test passes a pause of a timer, so that its waits
 * leave the CPU to the other test files; a benchmark keeps the loop turn.
 */
export async function loopUntil(step: () => boolean, what: string, timeoutMs: number, pause: () => Promise<void> = nextTurn): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!step()) {
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await pause();
  }
}

/** Anything with a poll(): a connection, a multiplayer peer, a signaling client. */
export interface Pollable {
  poll(): void;
}

/** Polls every target once per step of {@link loopUntil} until `done()` holds. */
export function pollUntil(targets: readonly Pollable[], done: () => boolean, what: string, timeoutMs: number, pause?: () => Promise<void>): Promise<void> {
  return loopUntil(
    () => {
      for (const target of targets) target.poll();
      return done();
    },
    what,
    timeoutMs,
    pause,
  );
}

/**
 * Runs `turn` once per loop turn: first for `warmupMs` (not measured), then for `durationMs`,
 * with `measuring(true)` called when the measured window opens and `measuring(false)` when it
 * closes. Resolves with the window's exact length in seconds.
 */
export async function measureWindow(
  warmupMs: number,
  durationMs: number,
  turn: () => void,
  measuring: (on: boolean) => void,
): Promise<number> {
  const start = now();
  let windowStart = -1;
  for (;;) {
    turn();
    const time = now();
    if (windowStart < 0) {
      if (time - start >= warmupMs) {
        windowStart = time;
        measuring(true);
      }
    } else if (time - windowStart >= durationMs) {
      measuring(false);
      return (time - windowStart) / 1000;
    }
    await nextTurn();
  }
}

/** Runs `turn` once per loop turn for `ms` milliseconds: to let what is in flight arrive. */
export async function turnFor(ms: number, turn: () => void = () => undefined): Promise<void> {
  const end = now() + ms;
  do {
    turn();
    await nextTurn();
  } while (now() < end);
}

/** Runs the process's garbage collector when node runs with --expose-gc; says whether it could. */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  gc();
  gc();
  return true;
}
