// A real coturn (turnserver) for a test: loopback only, a port of its own, the TURN REST API's
// shared secret, a temporary configuration. Loopback peers are allowed for the test alone (with
// the CLI off, as coturn requires): a production coturn must never allow them (docs/deploy.md).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon, freePort } from '../../bench/daemon.js';

export class TurnServer {
  private constructor(
    private readonly daemon: Daemon,
    private readonly dir: string,
    readonly port: number,
  ) {}

  /** The URL clients reach it by, over UDP (libdatachannel's TURN). */
  get url(): string {
    return `turn:127.0.0.1:${this.port}?transport=udp`;
  }

  static async start(secret: string): Promise<TurnServer> {
    const dir = mkdtempSync(join(tmpdir(), 'rtcmesh-turn-'));
    const port = await freePort();
    const config = [
      `listening-port=${port}`,
      'listening-ip=127.0.0.1',
      'relay-ip=127.0.0.1',
      'use-auth-secret',
      `static-auth-secret=${secret}`,
      'realm=rtcmesh.test',
      'allow-loopback-peers',
      'no-cli',
      'no-tls',
      'no-dtls',
      'no-tcp-relay',
      'fingerprint',
      'log-file=stdout',
      'simple-log',
      'verbose',
      `pidfile=${join(dir, 'turnserver.pid')}`,
      `userdb=${join(dir, 'turndb')}`,
    ];
    writeFileSync(join(dir, 'turnserver.conf'), `${config.join('\n')}\n`);
    const daemon = await Daemon.start('turnserver', ['-c', join(dir, 'turnserver.conf')], /IO method \(auth thread\)/);
    return new TurnServer(daemon, dir, port);
  }

  /** What it logged, one line each. */
  get log(): readonly string[] {
    return this.daemon.lines;
  }

  async close(): Promise<void> {
    await this.daemon.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
