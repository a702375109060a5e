import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A line a child prints: one JSON object with its kind in `event`. */
export interface ProcessEvent {
  event: string;
}

interface Waiter<E> {
  check(event: E): void;
  fail(reason: string): void;
}

/**
 * A Node.js child running a script of test/support that prints one JSON event per line: its
 * events as they arrive, and waits on them that end with the child.
 */
export class EventProcess<E extends ProcessEvent> {
  readonly events: E[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<Waiter<E>>();
  private running = true;

  constructor(script: string, args: readonly string[]) {
    const path = fileURLToPath(new URL(script, import.meta.url));
    // stdin stays open and unused: the child exits when it ends, so none outlives a dead runner.
    this.child = spawn(process.execPath, [path, ...args], { cwd: PACKAGE_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.receive(line));
    this.exited = once(this.child, 'exit').then(([code, signal]) => {
      this.running = false;
      for (const waiter of this.waiters) waiter.fail(`exited (code ${code}, signal ${signal})`);
      return { code, signal };
    });
  }

  /**
   * Resolves with the first event of `kind` (or of one of several kinds), past or future, that
   * `matches`; rejects after `timeoutMs`, or as soon as the child exits.
   */
  waitFor<K extends E['event']>(
    kind: K | readonly K[],
    what: string,
    timeoutMs: number,
    matches: (event: Extract<E, { event: K }>) => boolean = () => true,
  ): Promise<Extract<E, { event: K }>> {
    const kinds: readonly E['event'][] = typeof kind === 'string' ? [kind] : kind;
    const fits = (event: E): event is Extract<E, { event: K }> => kinds.includes(event.event) && matches(event as Extract<E, { event: K }>);
    const past = this.events.find(fits);
    if (past !== undefined) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const waiter: Waiter<E> = {
        check: (event) => {
          if (!fits(event)) return;
          settle();
          resolve(event);
        },
        fail: (reason) => {
          settle();
          reject(new Error(`peer process ${this.child.pid} ${reason} while waiting for ${what}`));
        },
      };
      const timer = setTimeout(() => waiter.fail(`sent no ${what} within ${timeoutMs} ms`), timeoutMs);
      const settle = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (this.running) this.waiters.add(waiter);
      else waiter.fail('has exited');
    });
  }

  /** Sends `signal` if the child still runs. */
  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  private receive(line: string): void {
    // Anything else on stdout (a library's log line) is not for us.
    if (!line.startsWith('{"event":')) return;
    const event = JSON.parse(line) as E;
    this.events.push(event);
    for (const waiter of this.waiters) waiter.check(event);
  }
}
