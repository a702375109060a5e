/**
 * A side's own loop, as a game, a bot or a dedicated server drives rtcmesh: one turn per event-loop
 * turn, on setImmediate, independent of the other side's loop in the same process.
 */
export class TurnLoop {
  private running = true;
  private readonly done: Promise<void>;

  constructor(turn: () => void) {
    this.done = new Promise((resolve, reject) => {
      const step = (): void => {
        if (!this.running) {
          resolve();
          return;
        }
        try {
          turn();
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        setImmediate(step);
      };
      setImmediate(step);
    });
  }

  /** Stops after the turn under way; resolves once it has (rejects with what a turn threw). */
  stop(): Promise<void> {
    this.running = false;
    return this.done;
  }
}
