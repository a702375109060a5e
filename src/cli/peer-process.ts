// One demo peer as a child process, seen from the demo command: its messages as promises, its
// failure as a one-line reason, and a kill that always works.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type PeerReport, parsePeerMessage } from './demo-report.js';

/** The hidden command that runs one demo peer (see demo-peer.ts). */
export const DEMO_PEER_COMMAND = 'demo-peer';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/**
 * A demo peer running as a child process of this one: the same CLI (`process.execPath` and this
 * bundle) with the {@link DEMO_PEER_COMMAND} command. Its promises resolve as its lines arrive
 * and never reject: a child that fails, exits before reporting, or exits non-zero calls
 * `onFailure` with a one-line reason instead, so that the caller waits on one failure for all.
 * Its stderr is the parent's, so that whatever it prints there reaches the user as it happens.
 */
export class PeerProcess {
  private readonly child: ChildProcess;
  private readonly lobbyName = deferred<string>();
  private readonly meshFormed = deferred<void>();
  private readonly finishedReport = deferred<PeerReport>();
  private peerId: number | null = null;
  private report: PeerReport | null = null;
  private failure: string | null = null;
  private meshReported = false;
  private running = true;
  /** Resolves once the process has exited, however it ended. */
  readonly exited: Promise<void>;

  /**
   * Starts the child.
   * @param number its place in the start order, from 1: how failure reasons name it.
   * @param args the demo-peer options.
   */
  constructor(
    private readonly number: number,
    args: string[],
    onFailure: (reason: string) => void,
  ) {
    const script = fileURLToPath(import.meta.url);
    // The child exits when its stdin ends, so that none outlives a parent killed before it
    // could kill its children; nothing is ever written to it.
    this.child = spawn(process.execPath, [script, DEMO_PEER_COMMAND, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.receive(line));
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.running = false;
        onFailure(`${this.label} could not start: ${error.message}`);
        resolve();
      });
      this.child.once('close', (code, signal) => {
        this.running = false;
        const fault = this.exitFault(code, signal);
        if (fault === null) this.finishedReport.resolve(this.report!);
        else onFailure(`${this.label} ${fault}`);
        resolve();
      });
    });
  }

  /** How reasons name the peer: its start number, and its lobby id once it has joined. */
  get label(): string {
    return this.peerId === null ? `peer #${this.number}` : `peer #${this.number} (id ${this.peerId})`;
  }

  /** The name of the lobby, once the peer has joined it. */
  get joined(): Promise<string> {
    return this.lobbyName.promise;
  }

  /** Resolves once the peer has connected to every peer its topology gives it. */
  get meshed(): Promise<void> {
    return this.meshFormed.promise;
  }

  /** Whether the peer has said its mesh formed. */
  get hasMeshed(): boolean {
    return this.meshReported;
  }

  /** The peer's results, once it has reported them and exited with 0. */
  get finished(): Promise<PeerReport> {
    return this.finishedReport.promise;
  }

  /** Kills the child if it still runs (SIGKILL: nothing it does can keep it alive). */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  private receive(line: string): void {
    const message = parsePeerMessage(line);
    // Anything else on stdout (a library's log line) is not for us.
    if (message === null) return;
    switch (message.event) {
      case 'joined':
        this.peerId = message.id;
        this.lobbyName.resolve(message.lobby);
        break;
      case 'meshed':
        this.meshReported = true;
        this.meshFormed.resolve();
        break;
      case 'result':
        this.report = message.report;
        break;
      case 'failed':
        this.failure = message.reason;
        break;
    }
  }

  /** Why the exit is a failure, or null when the peer reported and exited with 0. */
  private exitFault(code: number | null, signal: NodeJS.Signals | null): string | null {
    if (this.failure !== null) return `failed: ${this.failure}`;
    if (signal !== null) return `was killed by ${signal}`;
    if (code !== 0) return `exited with code ${code}`;
    if (this.report === null) return 'exited without reporting its results';
    return null;
  }
}
