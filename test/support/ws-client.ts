// A raw WebSocket client for tests: speaks whatever it is told, records what it hears.
import { WebSocket, type ClientOptions } from 'ws';

/** How a socket closed, as the client saw it. */
export interface CloseEvent {
  code: number;
  reason: string;
}

// Generous: a loopback reply takes milliseconds, a loaded machine's up to seconds; this only
// bounds a test that would hang.
const DEFAULT_WAIT_MS = 10_000;

/**
 * A connected `ws` client that queues every text frame it receives as parsed JSON. Every
 * instance is tracked so that {@link RawClient.closeAll} can release them after each test.
 */
export class RawClient {
  private static readonly open = new Set<RawClient>();
  private readonly received: unknown[] = [];
  private readonly waiters: (() => void)[] = [];
  /** Resolves with the close code and reason once the socket has closed. */
  readonly closed: Promise<CloseEvent>;
  private closeEvent: CloseEvent | null = null;

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.closeEvent = { code, reason: reason.toString() };
        RawClient.open.delete(this);
        this.wake();
        resolve(this.closeEvent);
      });
    });
    socket.on('message', (data, isBinary) => {
      this.received.push(isBinary ? data : JSON.parse(String(data)));
      this.wake();
    });
    // A refused or reset connection shows up as a close; the error itself is expected in tests.
    socket.on('error', () => undefined);
  }

  /** Connects to `url` and resolves once the socket is open. */
  static async connect(url: string, options?: ClientOptions): Promise<RawClient> {
    const client = new RawClient(new WebSocket(url, options));
    RawClient.open.add(client);
    await new Promise<void>((resolve, reject) => {
      client.socket.once('open', () => resolve());
      client.socket.once('error', reject);
    });
    return client;
  }

  /** Terminates every client still open; call it after each test. */
  static async closeAll(): Promise<void> {
    const clients = [...RawClient.open];
    for (const client of clients) client.socket.terminate();
    await Promise.all(clients.map((client) => client.closed));
  }

  /** Sends a value as a JSON text frame, or a string as it is. */
  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends bytes as a binary frame. */
  sendBinary(bytes: Uint8Array): void {
    this.socket.send(bytes, { binary: true });
  }

  /** The next received message; rejects if none arrives within `waitMs` or the socket closes. */
  async next(waitMs = DEFAULT_WAIT_MS): Promise<unknown> {
    await this.waitFor(() => this.received.length > 0 || this.closeEvent !== null, waitMs, 'a message');
    if (this.received.length === 0) throw new Error(`closed instead: ${JSON.stringify(this.closeEvent)}`);
    return this.received.shift();
  }

  /** The next `count` received messages, in order. */
  async nextMessages(count: number, waitMs = DEFAULT_WAIT_MS): Promise<unknown[]> {
    const messages: unknown[] = [];
    for (let i = 0; i < count; i++) messages.push(await this.next(waitMs));
    return messages;
  }

  /** Resolves with the close once the socket has closed; rejects after `waitMs`. */
  async closeEventWithin(waitMs = DEFAULT_WAIT_MS): Promise<CloseEvent> {
    await this.waitFor(() => this.closeEvent !== null, waitMs, 'the close');
    return this.closed;
  }

  /** Closes the socket from this side and waits for the close to complete. */
  async close(code?: number, reason?: string): Promise<CloseEvent> {
    this.socket.close(code, reason);
    return this.closeEventWithin();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private async waitFor(ready: () => boolean, waitMs: number, what: string): Promise<void> {
    if (ready()) return;
    let timer: NodeJS.Timeout | undefined;
    let waiting = true;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${waitMs} ms`)), waitMs);
        const check = (): void => {
          if (!waiting) return;
          if (ready()) resolve();
          else this.waiters.push(check);
        };
        this.waiters.push(check);
      });
    } finally {
      waiting = false;
      clearTimeout(timer);
    }
  }
}
