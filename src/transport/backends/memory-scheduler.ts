/**
 * The time the in-memory backend runs on: when its messages arrive, and what `now` is. The real
 * one follows the event loop; a {@link ManualScheduler} moves only when a test says so.
 */
export interface MemoryScheduler {
  /** Milliseconds on this scheduler's clock. */
  now(): number;
  /** Runs `task` once `delayMs` of this scheduler's time have passed, after every task due earlier. */
  schedule(delayMs: number, task: () => void): void;
}

/** The event loop's time: a task due now runs as a microtask, a later one on a timer. */
export const realTimeScheduler: MemoryScheduler = {
  now: () => performance.now(),
  schedule(delayMs, task) {
    if (delayMs <= 0) queueMicrotask(task);
    else setTimeout(task, delayMs);
  },
};

interface ScheduledTask {
  at: number;
  order: number;
  task: () => void;
}

/**
 * A clock that stands still until `advance()`: tasks then run in the order they fall due (in the
 * order they were scheduled, at one instant), and the clock reads each one's time while it runs.
 * Pass `now` as the mesh's `clock` too, and a whole group of peers runs on test time.
 */
export class ManualScheduler implements MemoryScheduler {
  private time: number;
  private scheduled = 0;
  private readonly tasks: ScheduledTask[] = [];

  /** @param startMs the clock's reading at first. Default 0. */
  constructor(startMs = 0) {
    this.time = startMs;
  }

  now = (): number => this.time;

  schedule(delayMs: number, task: () => void): void {
    const entry = { at: this.time + Math.max(0, delayMs), order: this.scheduled++, task };
    // Kept sorted by due time, then by order: tasks are few, and most go to the end.
    let index = this.tasks.length;
    while (index > 0 && this.tasks[index - 1]!.at > entry.at) index--;
    this.tasks.splice(index, 0, entry);
  }

  /** Moves the clock `ms` forward, running every task that falls due on the way, those they schedule included. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (let next = this.tasks[0]; next !== undefined && next.at <= end; next = this.tasks[0]) {
      this.tasks.shift();
      this.time = Math.max(this.time, next.at);
      next.task();
    }
    this.time = end;
  }

  /** Tasks not yet run. */
  get pending(): number {
    return this.tasks.length;
  }
}
