/**
 * Scenario: replication. Wire bytes of a spawner's state per entity per tick (whole, moving,
 * idle) beside the same state as one RPC per entity and as JSON; the bandwidth of 200 moving
 * entities to 8 clients; the server's CPU to replicate 1,000 entities to 8 clients; a late
 * joiner's time to receive 1,000 entities; and interpolation through a poor link.
 */
import {
  MultiplayerAPI,
  NetworkConditioner,
  PeerConnection,
  TransferMode,
  WebRTCMultiplayerPeer,
  nodeDataChannelBackend,
} from '../../src/index.js';
import { link, makeGroup } from '../broker.js';
import { CountingBackend } from '../counting-backend.js';
import type { BenchContext, Scenario } from '../harness.js';
import { loopUntil, nextTurn, now, turnFor } from '../loop.js';
import { Path, SPEED, type ShipSpawner, addShips } from '../replication-world.js';
import { type Row, atMost } from '../results.js';
import { percentile } from '../../src/cli/statistics.js';

/** The lanes a server sends a client on, by label (bench/counting-backend.ts). */
const STATE_LANE = 'ordered';
const LANES = ['reliable', 'ordered', 'unreliable'];
const MAX_REPS = 3;

interface Match {
  server: MultiplayerAPI;
  clients: MultiplayerAPI[];
  ships: ShipSpawner;
  /** Every spawner, the server's first. */
  spawners: ShipSpawner[];
  counting: CountingBackend;
  /** The index of the server's connection to client `n` (0-based) in the counting backend. */
  serverConnection(n: number): number;
  poll(): void;
  close(): void;
}

/** A server and `clients` clients on real connections, each with the ship spawner, every connection counted. */
async function match(clients: number, intervalMs: number): Promise<Match> {
  const previous = PeerConnection.getDefaultBackend();
  const counting = new CountingBackend(nodeDataChannelBackend);
  PeerConnection.setDefaultBackend(counting);
  try {
    const group = makeGroup(clients + 1, { topology: 'server' });
    const apis = group.members.map((member) => {
      const api = new MultiplayerAPI();
      api.multiplayerPeer = member.peer;
      return api;
    });
    const spawners = apis.map((api) => addShips(api, intervalMs));
    const poll = (): void => {
      for (const api of apis) api.poll();
    };
    await loopUntil(() => (poll(), apis[0]!.getPeers().length === clients && apis.slice(1).every((api) => api.getPeers().includes(1))), 'the match to form', 30_000);
    return {
      server: apis[0]!,
      clients: apis.slice(1),
      ships: spawners[0]!,
      spawners,
      counting,
      // The broker links the server with each client in turn, the server's connection made first.
      serverConnection: (n) => 2 * n,
      poll,
      close: () => group.close(),
    };
  } finally {
    if (previous) PeerConnection.setDefaultBackend(previous);
  }
}

function laneBytes(m: Match, client: number, lanes: readonly string[]): number {
  return lanes.reduce((sum, lane) => sum + m.counting.sent(m.serverConnection(client), lane).bytes, 0);
}

/** Polls until every client sees `count` ships. */
function allSpawned(m: Match, count: number): Promise<void> {
  return loopUntil(() => (m.poll(), m.spawners.slice(1).every((spawner) => spawner.getEntities().length === count)), `${count} spawns`, 30_000);
}

/** Bytes per entity per tick of one tick of whole state, of moving and of idle entities, and as RPCs and JSON. */
async function bytesPerEntity(): Promise<Record<'full' | 'moving' | 'idle' | 'rpc' | 'json', number>> {
  const entities = 200;
  const ticks = 120;
  const m = await match(1, 0);
  try {
    // One spawn first, so the spawner's path is confirmed and no announcement rides in the figures.
    m.ships.despawn(m.ships.spawn(0));
    await allSpawned(m, 0);
    const ships = Array.from({ length: entities }, (_, n) => {
      const ship = m.ships.spawn(n);
      ship.target.x = 100 + n * 2;
      ship.target.y = 900 - n * 2;
      ship.target.angle = n / 40;
      return ship;
    });
    const state = (): number => laneBytes(m, 0, [STATE_LANE]);
    let before = state();
    m.server.poll();
    (m.server.multiplayerPeer as WebRTCMultiplayerPeer).flush();
    const full = (state() - before) / entities;
    await allSpawned(m, entities);
    await turnFor(200, m.poll);

    const tick = async (change: (step: number) => void, steps: number): Promise<number> => {
      const start = state();
      for (let step = 0; step < steps; step++) {
        change(step);
        m.server.poll();
        m.server.multiplayerPeer!.poll();
        for (let turn = 0; turn < 3; turn++) {
          for (const client of m.clients) client.poll();
          await nextTurn();
        }
      }
      return (state() - start) / (entities * steps);
    };
    const moving = await tick(() => {
      for (const ship of ships) {
        ship.target.x += 1.6;
        ship.target.y -= 0.8;
        ship.target.angle = (ship.target.angle + 0.05) % (2 * Math.PI);
      }
    }, ticks);
    await turnFor(200, m.poll);
    const idle = await tick(() => undefined, ticks);

    before = state();
    for (let step = 0; step < 10; step++) {
      for (const ship of ships) ship.rpc('state', ship.target.x, ship.target.y, ship.target.angle, ship.target.hp);
      m.server.multiplayerPeer!.poll();
      await nextTurn();
    }
    const rpc = (state() - before) / (entities * 10);

    before = state();
    const encoder = new TextEncoder();
    for (let step = 0; step < 10; step++) {
      for (const ship of ships) {
        const { x, y, angle, hp } = ship.target;
        const json = JSON.stringify({ id: ship.netId, x: Math.round(x * 100) / 100, y: Math.round(y * 100) / 100, a: Math.round(angle * 100) / 100, hp });
        m.server.sendBytes(encoder.encode(json), 2, TransferMode.UnreliableOrdered);
      }
      m.server.multiplayerPeer!.poll();
      await nextTurn();
    }
    const json = (state() - before) / (entities * 10);
    return { full, moving, idle, rpc, json };
  } finally {
    m.close();
  }
}

/** Bytes a second to each of 8 clients of 200 entities following paths, state at 60 Hz. */
async function bandwidth(context: BenchContext): Promise<number> {
  const m = await match(8, 1000 / 60);
  try {
    const paths = Array.from({ length: 200 }, (_, n) => new Path(1000 + n));
    const ships = paths.map((_, n) => m.ships.spawn(n));
    const start = m.server.getNetworkTime();
    const place = (): void => {
      const elapsed = m.server.getNetworkTime() - start;
      ships.forEach((ship, n) => Object.assign(ship.target, paths[n]!.at(elapsed)));
    };
    await loopUntil(() => (place(), m.poll(), m.spawners.slice(1).every((spawner) => spawner.getEntities().length === 200)), 'the spawns', 30_000);
    await turnFor(context.ms(500, 200), () => (place(), m.poll()));
    const before = m.clients.map((_, n) => laneBytes(m, n, LANES));
    const began = now();
    await turnFor(context.ms(3000, 500), () => (place(), m.poll()));
    const seconds = (now() - began) / 1000;
    return Math.max(...m.clients.map((_, n) => (laneBytes(m, n, LANES) - before[n]!) / seconds / 1000));
  } finally {
    m.close();
  }
}

/** The server's poll() time over wall time, replicating 1,000 entities to 8 clients at 60 Hz, `share` of them moving. */
async function serverCpu(context: BenchContext, share: number): Promise<number> {
  const m = await match(8, 0);
  try {
    const paths = Array.from({ length: 1000 }, (_, n) => new Path(5000 + n));
    const ships = paths.map((_, n) => m.ships.spawn(n));
    await allSpawned(m, 1000);
    let busy = 0;
    let frames = 0;
    const start = now();
    const frame = 1000 / 60;
    let next = start;
    const run = async (ms: number, measure: boolean): Promise<void> => {
      const end = now() + ms;
      while (now() < end) {
        if (now() >= next) {
          next += frame;
          frames++;
          const elapsed = now() - start;
          for (let n = 0; n < ships.length; n++) if (n < ships.length * share) Object.assign(ships[n]!.target, paths[n]!.at(elapsed));
          const began = now();
          m.server.poll();
          if (measure) busy += now() - began;
        }
        for (const client of m.clients) client.poll();
        await nextTurn();
      }
    };
    await run(context.ms(500, 200), false);
    const began = now();
    await run(context.ms(3000, 500), true);
    return (busy / (now() - began)) * 100 + frames * 0;
  } finally {
    m.close();
  }
}

/** Milliseconds from a late client's connection to its having every one of 1,000 live entities. */
async function lateJoin(): Promise<number> {
  const m = await match(1, 0);
  const late = new WebRTCMultiplayerPeer();
  late.createClient(3);
  const api = new MultiplayerAPI();
  api.multiplayerPeer = late;
  const spawner = addShips(api);
  try {
    for (let n = 0; n < 1000; n++) m.ships.spawn(n);
    await allSpawned(m, 1000);
    let connectedAt = 0;
    api.on('peerConnected', () => (connectedAt = now()));
    link({ id: 1, peer: m.server.multiplayerPeer as WebRTCMultiplayerPeer }, { id: 3, peer: late }, (why) => {
      throw new Error(why);
    });
    await loopUntil(() => (m.poll(), api.poll(), spawner.getEntities().length === 1000), 'the late joiner\'s 1,000 entities', 30_000);
    return now() - connectedAt;
  } finally {
    late.close();
    m.close();
  }
}

/**
 * The network time's error against the reference (the server's) on loopback: ms from connecting
 * until it is within 1 ms, then the p99 of the error over a few seconds.
 */
async function networkTime(context: BenchContext): Promise<{ convergedMs: number; p99: number }> {
  const connectedAt = now();
  const m = await match(1, 0);
  try {
    const error = (): number => Math.abs(m.clients[0]!.getNetworkTime() - m.server.getNetworkTime());
    await loopUntil(() => (m.poll(), error() < 1), 'the network time to converge', 10_000);
    const convergedMs = now() - connectedAt;
    const errors: number[] = [];
    await turnFor(context.ms(3000, 500), () => {
      m.poll();
      errors.push(error());
    });
    return { convergedMs, p99: percentile(errors, 99) };
  } finally {
    m.close();
  }
}

/**
 * Through a conditioned link (10 % loss, 20 ms + 0–60 ms, reordering, duplication), state at
 * 20 Hz, drawn at 60 Hz: the p99 distance between the client's interpolated position at its
 * render time and where the entity truly was then, in units; and whether every despawn arrived.
 */
async function interpolationError(context: BenchContext): Promise<{ p99: number; despawnsMissed: number; clockP99: number }> {
  const conditioner = new NetworkConditioner({ seed: 11 });
  const server = new WebRTCMultiplayerPeer();
  const client = new WebRTCMultiplayerPeer();
  server.createServer();
  client.createClient(2);
  const apis = [new MultiplayerAPI(), new MultiplayerAPI()] as const;
  apis[0].multiplayerPeer = server;
  apis[1].multiplayerPeer = client;
  const [authority, viewer] = [addShips(apis[0], 50), addShips(apis[1], 50)];
  const poll = (): void => {
    for (const api of apis) api.poll();
  };
  try {
    link({ id: 1, peer: server }, { id: 2, peer: client }, (why) => {
      throw new Error(why);
    }, { offererBackend: conditioner.backend });
    await loopUntil(() => (poll(), apis[1].getPeers().length === 1), 'the conditioned link', 20_000);
    conditioner.setConditions('both', { loss: 0.1, delayMs: 20, jitterMs: 60, reorder: 0.05, duplicate: 0.02 });
    const paths = Array.from({ length: 50 }, (_, n) => new Path(9000 + n));
    const ships = paths.map((_, n) => authority.spawn(n));
    const start = apis[0].getNetworkTime();
    const place = (): void => {
      const elapsed = apis[0].getNetworkTime() - start;
      ships.forEach((ship, n) => Object.assign(ship.target, paths[n]!.at(elapsed)));
    };
    // Two seconds for the clock estimate and the interpolation delay to settle.
    await turnFor(context.ms(2000, 500), () => (place(), poll()));
    const errors: number[] = [];
    const clockErrors: number[] = [];
    let nextFrame = now();
    await turnFor(context.ms(6000, 2000), () => {
      place();
      poll();
      clockErrors.push(Math.abs(apis[1].getNetworkTime() - apis[0].getNetworkTime()));
      if (now() < nextFrame) return;
      nextFrame += 1000 / 60;
      const renderTime = viewer.getRenderTime();
      for (const ship of ships) {
        const seen = viewer.getEntity(ship.netId);
        if (!seen) continue;
        const truth = paths[ship.netId - 1]!.at(renderTime - start);
        const x = seen.synchronizer.interpolate('x', renderTime) as number;
        const y = seen.synchronizer.interpolate('y', renderTime) as number;
        errors.push(Math.hypot(x - truth.x, y - truth.y));
      }
    });
    for (const ship of ships) authority.despawn(ship);
    await loopUntil(() => (poll(), viewer.getEntities().length === 0), 'every despawn', 10_000).catch(() => undefined);
    return { p99: percentile(errors, 99), despawnsMissed: viewer.getEntities().length, clockP99: percentile(clockErrors, 99) };
  } finally {
    server.close();
    client.close();
    await conditioner.close();
  }
}

export const replication: Scenario = {
  name: 'replication',
  async run(context: BenchContext): Promise<Row[]> {
    const reps = Math.min(context.reps, MAX_REPS);
    const results = { full: [] as number[], moving: [] as number[], idle: [] as number[], rpc: [] as number[], json: [] as number[] };
    const bandwidths: number[] = [];
    const cpuAll: number[] = [];
    const cpuQuarter: number[] = [];
    const joins: number[] = [];
    const p99s: number[] = [];
    const missed: number[] = [];
    const converged: number[] = [];
    const clockLoopback: number[] = [];
    const clockConditioned: number[] = [];
    for (let rep = 1; rep <= reps; rep++) {
      const bytes = await bytesPerEntity();
      for (const key of Object.keys(results) as (keyof typeof results)[]) results[key].push(bytes[key]);
      context.log(`  bytes per entity per tick ${rep}/${reps}: ${Object.entries(bytes).map(([key, value]) => `${key} ${value.toFixed(2)}`).join(', ')}`);
      bandwidths.push(await bandwidth(context));
      context.log(`  200 entities to 8 clients ${rep}/${reps}: ${bandwidths.at(-1)!.toFixed(1)} KB/s per client`);
      cpuAll.push(await serverCpu(context, 1));
      cpuQuarter.push(await serverCpu(context, 0.25));
      context.log(`  server CPU ${rep}/${reps}: ${cpuAll.at(-1)!.toFixed(1)} % (all moving), ${cpuQuarter.at(-1)!.toFixed(1)} % (25 %)`);
      joins.push(await lateJoin());
      context.log(`  late join ${rep}/${reps}: ${joins.at(-1)!.toFixed(0)} ms`);
      const clock = await networkTime(context);
      converged.push(clock.convergedMs);
      clockLoopback.push(clock.p99);
      const interpolation = await interpolationError(context);
      p99s.push(interpolation.p99);
      missed.push(interpolation.despawnsMissed);
      clockConditioned.push(interpolation.clockP99);
      context.log(`  network time ${rep}/${reps}: within 1 ms after ${clock.convergedMs.toFixed(0)} ms, p99 ${clock.p99.toFixed(3)} ms on loopback, ${interpolation.clockP99.toFixed(2)} ms conditioned`);
      context.log(`  interpolation ${rep}/${reps}: p99 ${interpolation.p99.toFixed(2)} units, despawns missed ${interpolation.despawnsMissed}`);
    }
    const tickOfMotion = (SPEED * 50) / 1000;
    return [
      { scenario: 'replication', metric: 'whole state, B per entity per tick', raw: [], rtcmesh: results.full, target: atMost(10, 'B') },
      { scenario: 'replication', metric: 'moving (delta), B per entity per tick', raw: [], rtcmesh: results.moving, target: atMost(7, 'B') },
      { scenario: 'replication', metric: 'idle, B per entity per tick', raw: [], rtcmesh: results.idle, target: atMost(0, 'B') },
      { scenario: 'replication', metric: 'the same state as one RPC per entity, B per entity per tick', raw: [], rtcmesh: results.rpc },
      { scenario: 'replication', metric: 'the same state as JSON (sendBytes), B per entity per tick', raw: [], rtcmesh: results.json },
      { scenario: 'replication', metric: '200 entities on paths at 60 Hz, 8 clients: KB/s per client', raw: [], rtcmesh: bandwidths, target: atMost(100, 'KB/s') },
      { scenario: 'replication', metric: 'server CPU, 1,000 entities to 8 clients at 60 Hz, all moving: % of a core', raw: [], rtcmesh: cpuAll, target: atMost(25, '%') },
      { scenario: 'replication', metric: 'server CPU, 1,000 entities to 8 clients at 60 Hz, 25 % moving: % of a core', raw: [], rtcmesh: cpuQuarter },
      { scenario: 'replication', metric: 'late joiner receives 1,000 entities, ms', raw: [], rtcmesh: joins, target: atMost(500, 'ms') },
      { scenario: 'replication', metric: 'network time: from connecting to within 1 ms of the reference, ms', raw: [], rtcmesh: converged, target: atMost(2000, 'ms') },
      { scenario: 'replication', metric: 'network time error p99 on loopback, ms', raw: [], rtcmesh: clockLoopback, target: atMost(1, 'ms') },
      { scenario: 'replication', metric: 'network time error p99 through a poor link, ms', raw: [], rtcmesh: clockConditioned, target: atMost(10, 'ms') },
      { scenario: 'replication', metric: `interpolation error p99 through a poor link, units (one tick of motion: ${tickOfMotion})`, raw: [], rtcmesh: p99s, target: atMost(tickOfMotion, 'units') },
      { scenario: 'replication', metric: 'despawns that did not arrive through the poor link', raw: [], rtcmesh: missed, target: atMost(0, '') },
    ];
  },
};
