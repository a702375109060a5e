/**
 * A side's own loop in the page, the page's counterpart of the user-loop scenario's setImmediate
 * loop: one turn per task, each turn posting the next through a MessageChannel of its own.
 * setTimeout(0) would not do: Chromium clamps nested timeouts to 4 ms, where a MessageChannel
 * message runs as soon as the tasks queued before it (data-channel events included) have.
 */
export class PageLoop {
  private running = true;
  private readonly done: Promise<void>;

  constructor(turn: () => void) {
    const channel = new MessageChannel();
    this.done = new Promise((resolve, reject) => {
      channel.port1.onmessage = () => {
        if (!this.running) {
          channel.port1.close();
          resolve();
          return;
        }
        try {
          turn();
        } catch (error) {
          channel.port1.close();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        channel.port2.postMessage(null);
      };
      channel.port2.postMessage(null);
    });
  }

  /** Stops after the turn under way; resolves once it has (rejects with what a turn threw). */
  stop(): Promise<void> {
    this.running = false;
    return this.done;
  }
}

// One channel for every wait: making a MessageChannel costs more than the turn it waits for.
const waits = new MessageChannel();
const waiting: Array<() => void> = [];
waits.port1.onmessage = () => waiting.shift()?.();

/** Resolves on the next task: a loop turn for code that waits in steps. */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    waits.port2.postMessage(null);
  });
}
