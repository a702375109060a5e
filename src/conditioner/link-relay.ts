import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { type OptionSpecs, integerRule, resolveOptions } from '../transport/option-resolver.js';
import type { Endpoint } from './candidates.js';
import { type Direction, LinkState } from './link-state.js';
import { seededRandom } from './seeded-random.js';

/** Cap on datagrams waiting in one direction's delay queue; the excess is dropped and counted. */
export const DEFAULT_MAX_QUEUED = 10_000;

/** Mixed into the seed of B→A so that the two directions draw independent sequences. */
const SECOND_DIRECTION_SEED_SALT = 0x9e3779b9;

const BITS_PER_BYTE = 8;
const MS_PER_SECOND = 1000;

/** One of the two peers a relay stands between. */
export type Side = 'a' | 'b';

/** Options of {@link LinkRelay.create}. */
export interface LinkRelayOptions {
  /** The address both stand-in sockets bind to, and the only one they are reachable at. Default 127.0.0.1. */
  address?: string;
  /** Seed of the random draws, so that a run's decisions can be reproduced. Default 1. */
  seed?: number;
  /** What the link does and what it did; default: a perfect link of the relay's own. */
  state?: LinkState;
  /** Cap on each direction's delay queue (datagrams). Default {@link DEFAULT_MAX_QUEUED}. */
  maxQueued?: number;
}

/** The per-relay part of one direction: the random sequence and the bandwidth cap's clock. */
interface Link {
  direction: Direction;
  random: () => number;
  /** When the datagrams already accepted under the bandwidth cap have all left (performance.now() time). */
  busyUntil: number;
  /** Receives what the sending peer sends: the socket standing in for the receiving peer. */
  ingress: dgram.Socket;
  /** Sends to the receiving peer from where it believes the sending peer is. */
  egress: dgram.Socket;
  sender: Side;
  receiver: Side;
}

/** The addresses a peer may send from, and the one its datagrams go to: the last it sent from. */
interface Peer {
  allowed: Set<string>;
  current?: Endpoint;
}

function endpointKey(endpoint: Endpoint): string {
  return `${endpoint.address}|${endpoint.port}`;
}

function bind(address: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

const RELAY_SPECS: OptionSpecs<{ address: string; maxQueued: number }> = {
  address: { default: '127.0.0.1', rule: { expected: 'an IP address such as "127.0.0.1"', accepts: (value) => typeof value === 'string' && isIP(value) !== 0 } },
  maxQueued: { default: DEFAULT_MAX_QUEUED, rule: integerRule(1) },
};

/**
 * A UDP relay between two peers A and B that loses, delays, reorders, duplicates, rate-limits
 * and cuts datagrams, per direction, from a seed: netem without root, under the WebRTC engine.
 *
 * It holds one socket standing in for each peer, both on one address. A's candidate is rewritten
 * to `endpointFor('a')`, so B sends there, and the relay forwards to A from `endpointFor('b')`, the
 * address A was told B is at; ICE's binding requests and responses thus come back from the
 * address each side expects. A peer's datagrams are accepted only from the addresses registered
 * for it, and go to the one it last sent from.
 */
export class LinkRelay {
  readonly state: LinkState;
  private readonly sockets: Record<Side, dgram.Socket>;
  private readonly links: Record<Direction, Link>;
  private readonly peers: Record<Side, Peer> = { a: { allowed: new Set() }, b: { allowed: new Set() } };
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Datagrams of this relay waiting in each direction's delay queue: a shared state's counters hold every relay's. */
  private readonly queued: Record<Direction, number> = { aToB: 0, bToA: 0 };
  private readonly maxQueued: number;
  private closed = false;

  private constructor(sockets: Record<Side, dgram.Socket>, options: LinkRelayOptions) {
    this.sockets = sockets;
    this.state = options.state ?? new LinkState();
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    const seed = options.seed ?? 1;
    const link = (direction: Direction, sender: Side, receiver: Side, linkSeed: number): Link => ({
      direction,
      random: seededRandom(linkSeed),
      busyUntil: 0,
      ingress: sockets[receiver],
      egress: sockets[sender],
      sender,
      receiver,
    });
    this.links = {
      aToB: link('aToB', 'a', 'b', seed),
      bToA: link('bToA', 'b', 'a', seed ^ SECOND_DIRECTION_SEED_SALT),
    };
    for (const each of Object.values(this.links)) {
      each.ingress.on('message', (datagram, from) => this.receive(each, datagram, from));
      // A send error (the peer's port already gone) must not take the process down.
      each.ingress.on('error', () => undefined);
    }
  }

  /**
   * Binds the relay's two sockets on `address` (ephemeral ports).
   * @throws RtcError ERR_INVALID_PARAMETER for an address that is not an IP address, or a maxQueued that is not a positive integer.
   */
  static async create(options: LinkRelayOptions = {}): Promise<LinkRelay> {
    const { address } = resolveOptions('LinkRelayOptions', RELAY_SPECS, options);
    const a = await bind(address);
    try {
      return new LinkRelay({ a, b: await bind(address) }, options);
    } catch (error) {
      a.close();
      throw error;
    }
  }

  /**
   * Where the socket standing in for `side` listens: rewrite that side's candidate to it; the
   * other peer's datagrams for `side` arrive there.
   */
  endpointFor(side: Side): Endpoint {
    const { address, port } = this.sockets[side].address();
    return { address, port };
  }

  /**
   * Adds an address `side` may send from; the first one registered is where its datagrams go
   * until it sends from one. Datagrams for a side with none are dropped as unroutable.
   */
  registerPeer(side: Side, endpoint: Endpoint): void {
    const peer = this.peers[side];
    peer.allowed.add(endpointKey(endpoint));
    peer.current ??= { address: endpoint.address, port: endpoint.port };
  }

  /** Closes both sockets and drops every queued datagram, so that nothing keeps the process alive. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const direction of ['aToB', 'bToA'] as const) {
      this.state.directions[direction].counters.queued -= this.queued[direction];
      this.queued[direction] = 0;
    }
    await Promise.all(Object.values(this.sockets).map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  }

  private receive(link: Link, datagram: Buffer, from: dgram.RemoteInfo): void {
    // close() is asynchronous: a datagram may still arrive, and must not start a timer.
    if (this.closed) return;
    const { counters, conditions } = this.state.directions[link.direction];
    counters.received++;
    counters.receivedBytes += datagram.length;
    const sender = this.peers[link.sender];
    const source = { address: from.address, port: from.port };
    if (!sender.allowed.has(endpointKey(source))) {
      counters.droppedUnknownSource++;
      return;
    }
    sender.current = source;
    if (this.state.isCut) {
      counters.droppedByCut++;
      return;
    }
    if (link.random() < conditions.loss) {
      counters.dropped++;
      return;
    }
    const waitMs = this.bandwidthWait(link, datagram.length);
    if (waitMs === undefined) {
      counters.droppedByBandwidth++;
      return;
    }
    this.schedule(link, datagram, waitMs);
    if (link.random() < conditions.duplicate) {
      counters.duplicated++;
      this.schedule(link, datagram, waitMs);
    }
  }

  /**
   * How long a datagram waits for the link under the bandwidth cap, its own transmission
   * included; undefined when the backlog before it is longer than the queue allows.
   */
  private bandwidthWait(link: Link, bytes: number): number | undefined {
    const { bandwidthBitsPerSecond, bandwidthQueueMs } = this.state.directions[link.direction].conditions;
    if (bandwidthBitsPerSecond === 0) return 0;
    const now = performance.now();
    const start = Math.max(now, link.busyUntil);
    if (start - now > bandwidthQueueMs) return undefined;
    link.busyUntil = start + (bytes * BITS_PER_BYTE * MS_PER_SECOND) / bandwidthBitsPerSecond;
    return link.busyUntil - now;
  }

  private schedule(link: Link, datagram: Buffer, waitMs: number): void {
    const { counters, conditions } = this.state.directions[link.direction];
    let delayMs = waitMs + conditions.delayMs + link.random() * conditions.jitterMs;
    if (link.random() < conditions.reorder) {
      counters.reordered++;
      delayMs += conditions.reorderDelayMs;
    }
    if (delayMs <= 0) {
      this.send(link, datagram);
      return;
    }
    if (this.queued[link.direction] >= this.maxQueued) {
      counters.droppedByOverflow++;
      return;
    }
    counters.queued++;
    this.queued[link.direction]++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      counters.queued--;
      this.queued[link.direction]--;
      this.send(link, datagram);
    }, delayMs);
    this.timers.add(timer);
  }

  private send(link: Link, datagram: Buffer): void {
    const { counters } = this.state.directions[link.direction];
    if (this.state.isCut) {
      counters.droppedByCut++;
      return;
    }
    const destination = this.peers[link.receiver].current;
    if (!destination) {
      counters.droppedUnroutable++;
      return;
    }
    counters.forwarded++;
    counters.forwardedBytes += datagram.length;
    link.egress.send(datagram, destination.port, destination.address);
  }
}
