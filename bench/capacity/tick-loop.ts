/**
 * A game's fixed-rate loop: tick n is due at start + n × interval. A tick that begins more than one
 * interval after it was due is late; the loop does not try to catch up with extra ticks.
 */
export class TickLoop {
  ticks = 0;
  lateTicks = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = true;

  constructor(hz: number, tick: () => void) {
    const interval = 1000 / hz;
    const start = performance.now();
    let due = start;
    const step = (): void => {
      if (!this.running) return;
      const time = performance.now();
      if (time - due > interval) this.lateTicks++;
      this.ticks++;
      tick();
      due += interval;
      // Behind by more than a tick: the next is due a tick from now, not at once.
      if (performance.now() > due + interval) due = performance.now();
      this.timer = setTimeout(step, Math.max(0, due - performance.now()));
    };
    this.timer = setTimeout(step, 0);
  }

  /** Counts from zero again: the measured window opens. */
  resetCounts(): void {
    this.ticks = 0;
    this.lateTicks = 0;
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }
}
