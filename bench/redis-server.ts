// A real redis-server for a test or a benchmark: loopback only, a port of its own, nothing written to disk.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon, freePort } from './daemon.js';

/** A redis-server that can be stopped and started again on the same port. */
export class RedisServer {
  private daemon: Daemon | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'rtcmesh-redis-'));

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.restart();
    return server;
  }

  /** Starts it (again, empty: there is no persistence). */
  async restart(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--protected-mode', 'yes'];
    this.daemon = await Daemon.start('redis-server', args, /Ready to accept connections/);
  }

  /** Stops it, as a crash would. */
  async stop(): Promise<void> {
    await this.daemon?.kill();
    this.daemon = null;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
