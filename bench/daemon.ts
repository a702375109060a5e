// A real server program for a test or a benchmark (redis-server, turnserver, a signaling node from the built
// CLI): started on loopback, ready once it prints a given line, stopped or killed by the test.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** A running program and what it printed. */
export class Daemon {
  readonly lines: string[] = [];
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  private constructor(command: string, args: readonly string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.lines.push(line));
    }
    this.exited = once(this.child, 'exit').then(() => undefined);
  }

  /** Starts `command` (with `env` added to this process's environment) and resolves once a line it prints matches `ready`. */
  static async start(command: string, args: readonly string[], ready: RegExp, env: NodeJS.ProcessEnv = {}, timeoutMs = 10_000): Promise<Daemon> {
    const daemon = new Daemon(command, args, env);
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void daemon.exited.then(() => (exited = true));
    while (!daemon.lines.some((line) => ready.test(line))) {
      if (exited || Date.now() > deadline) {
        daemon.kill();
        throw new Error(`${command} did not start: ${daemon.lines.slice(-5).join(' | ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return daemon;
  }

  /** The first match of `pattern` in what it printed. */
  find(pattern: RegExp): RegExpExecArray | null {
    for (const line of this.lines) {
      const match = pattern.exec(line);
      if (match !== null) return match;
    }
    return null;
  }

  /** Ends it at once, as a crash would (SIGKILL), and waits for it to be gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Asks it to stop (SIGTERM) and waits for it to be gone. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** A TCP port free on 127.0.0.1 at the time of the call. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}
