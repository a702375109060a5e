// The loop every side of the arena runs on: a timer at the tick rate that tells how many whole
// ticks came due. Timers drift and stall (a busy event loop, a background tab); the simulation
// counts ticks from the clock instead, so it keeps time whatever the timer does.
import { TICK_MS } from './rules.js';

/**
 * Ticks run at most in one call after a stall: a server that froze for seconds skips ahead
 * rather than running the whole backlog at once.
 */
export const MAX_CATCH_UP_TICKS = 10;

/**
 * Calls `frame(ticks)` about once a tick, with the whole ticks (0, 1 or more) that came due since
 * the previous call, and returns a function that stops it.
 */
export function startTicker(frame: (ticks: number) => void): () => void {
  let last = performance.now();
  let owed = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    owed += (now - last) / TICK_MS;
    last = now;
    const ticks = Math.min(Math.floor(owed), MAX_CATCH_UP_TICKS);
    owed = ticks === MAX_CATCH_UP_TICKS ? 0 : owed - ticks;
    frame(ticks);
  }, TICK_MS);
  return () => clearInterval(timer);
}
