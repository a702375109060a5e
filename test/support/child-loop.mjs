// The game loop of a test child process: one step a tick until SIGTERM or the end of stdin (the
// parent is gone), then a clean shutdown between ticks (close() and cleanup() must never run
// inside a poll()), and exit 0. Events go to stdout as one JSON line each.

/** Prints one event line. */
export function print(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Runs `step` every `tickMs` until told to stop; then `shutdown` and exit. */
export function runLoop(tickMs, step, shutdown) {
  let stopping = false;
  const stop = () => (stopping = true);
  process.once('SIGTERM', stop);
  process.stdin.once('end', stop).resume();
  const tick = () => {
    if (stopping) {
      shutdown();
      process.exit(0);
    }
    step();
    setTimeout(tick, tickMs);
  };
  tick();
}
