import { type Server, type Socket, createServer, connect } from 'node:net';
import { LOOPBACK_HOST } from '../../src/cli/loopback.js';

/**
 * A TCP relay on loopback to one target port, whose connections a test can cut and restore, and
 * whose new connections it can send elsewhere (a load balancer taking a dead node out).
 */
export interface TcpProxy {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Resets every relayed connection and refuses new ones until {@link restore}: a lost network, as a client sees it. */
  cut(): void;
  restore(): void;
  /** Sends new connections to 127.0.0.1:`port` from now on; those open stay where they are. */
  retarget(port: number): void;
  close(): Promise<void>;
}

/** Starts a proxy to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let cut = false;
  let target = targetPort;
  const server: Server = createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target, LOOPBACK_HOST);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(from);
      from.on('data', (chunk) => to.write(chunk));
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => {
        open.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK_HOST, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    cut() {
      cut = true;
      for (const socket of open) socket.resetAndDestroy();
    },
    restore() {
      cut = false;
    },
    retarget(port) {
      target = port;
    },
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
