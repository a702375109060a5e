/**
 * signaling-cluster: what a second signaling node adds to a relayed message. A guest sends a
 * CANDIDATE to its host, who answers with one; half the round trip is one relayed message. The
 * baseline (the "raw" column) has both on one node; the measured side has the host on one node and
 * the guest on another, sharing the lobby through a redis-server on 127.0.0.1.
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { SignalingServer } from '../../src/index.js';
import { percentile } from '../../src/cli/statistics.js';
import { RedisServer } from '../redis-server.js';
import { type Scenario, alternate, pick } from '../harness.js';
import { loopUntil, now } from '../loop.js';
import { atMost } from '../results.js';

const CANDIDATE = 6;
const CANDIDATE_DATA = '\n0\n0\ncandidate:1 1 UDP 2122317823 127.0.0.1 50000 typ host';
const SETUP_TIMEOUT_MS = 10_000;

interface Latency {
  p50Us: number;
  p99Us: number;
}

async function open(url: string): Promise<{ socket: WebSocket; frames: Array<{ type: number; id: number; data: string }> }> {
  const socket = new WebSocket(url);
  const frames: Array<{ type: number; id: number; data: string }> = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data))));
  await once(socket, 'open');
  return { socket, frames };
}

/** One-way latency of a relayed message, from `echoes` round trips between a host on `hostUrl` and a guest on `guestUrl`. */
async function measure(hostUrl: string, guestUrl: string, echoes: number): Promise<Latency> {
  const host = await open(hostUrl);
  host.socket.send(JSON.stringify({ type: 0, id: 0, data: '' }));
  await loopUntil(() => host.frames.some((f) => f.type === 0), 'the lobby', SETUP_TIMEOUT_MS);
  const lobby = host.frames.find((f) => f.type === 0)!.data;
  const guest = await open(guestUrl);
  guest.socket.send(JSON.stringify({ type: 0, id: 0, data: lobby }));
  await loopUntil(() => guest.frames.some((f) => f.type === 0), 'the join', SETUP_TIMEOUT_MS);
  const guestId = guest.frames.find((f) => f.type === 1)!.id;
  host.socket.on('message', (data) => {
    if ((JSON.parse(String(data)) as { type: number }).type === CANDIDATE) {
      host.socket.send(JSON.stringify({ type: CANDIDATE, id: guestId, data: CANDIDATE_DATA }));
    }
  });
  const samples: number[] = [];
  for (let i = 0; i < echoes; i++) {
    const sentAt = now();
    const answered = new Promise<void>((resolve) => guest.socket.once('message', () => resolve()));
    guest.socket.send(JSON.stringify({ type: CANDIDATE, id: 1, data: CANDIDATE_DATA }));
    await answered;
    samples.push((now() - sentAt) / 2);
  }
  host.socket.terminate();
  guest.socket.terminate();
  return { p50Us: 1000 * percentile(samples, 50), p99Us: 1000 * percentile(samples, 99) };
}

async function listening(options: ConstructorParameters<typeof SignalingServer>[0]): Promise<{ server: SignalingServer; url: string }> {
  const server = new SignalingServer({ host: '127.0.0.1', port: 0, messagesPerSecond: 1e6, messageBurst: 1e6, ...options });
  const { url } = await server.listen();
  await loopUntil(() => options?.redis == null || server.clusterAvailable, 'Redis', SETUP_TIMEOUT_MS);
  return { server, url };
}

export const signalingCluster: Scenario = {
  name: 'signaling-cluster',
  async run(context) {
    const echoes = context.quick ? 200 : 5000;
    const redis = await RedisServer.start();
    try {
      const results = await alternate(
        context,
        'relayed message',
        async () => {
          const one = await listening({});
          try {
            return await measure(one.url, one.url, echoes);
          } finally {
            await one.server.close();
          }
        },
        async () => {
          const a = await listening({ redis: redis.url });
          const b = await listening({ redis: redis.url });
          try {
            return await measure(a.url, b.url, echoes);
          } finally {
            await Promise.all([a.server.close(), b.server.close()]);
          }
        },
      );
      return [
        { scenario: this.name, metric: 'relayed message p50, µs', raw: pick(results.raw, 'p50Us'), rtcmesh: pick(results.rtcmesh, 'p50Us') },
        { scenario: this.name, metric: 'relayed message p99, µs', raw: pick(results.raw, 'p99Us'), rtcmesh: pick(results.rtcmesh, 'p99Us'), target: atMost(5000, 'µs') },
      ];
    } finally {
      await redis.close();
    }
  },
};
