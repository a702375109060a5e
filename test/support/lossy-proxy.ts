import dgram from 'node:dgram';
import { seededRandom } from './seeded-random.js';

/** The only address the proxy binds to and forwards to: no test datagram may leave the host. */
export const LOOPBACK = '127.0.0.1';

/** Cap on datagrams waiting in one direction's delay queue; the excess is dropped and counted. */
export const DEFAULT_MAX_QUEUED = 10_000;

/** Extra hold of a packet picked for reordering, long enough that a steady stream overtakes it. */
const DEFAULT_REORDER_DELAY_MS = 20;

/** Mixed into the seed of B→A so that the two directions draw independent sequences. */
const SECOND_DIRECTION_SEED_SALT = 0x9e3779b9;

/** Fields of an ICE candidate line after `candidate:` (RFC 8839 §5.1). */
const CANDIDATE_TRANSPORT_FIELD = 2;
const CANDIDATE_ADDRESS_FIELD = 4;
const CANDIDATE_PORT_FIELD = 5;
const CANDIDATE_TYPE_FIELD = 7;
const CANDIDATE_MIN_FIELDS = 8;

/** One of the two peers the proxy stands between. */
export type Side = 'a' | 'b';

/** One direction of the link; each has its own conditions, counters and random sequence. */
export type Direction = 'aToB' | 'bToA';

/** What the link does to the datagrams of one direction, as netem would. */
export interface LinkConditions {
  /** Probability (0..1) that a datagram is dropped. Default 0. */
  loss: number;
  /** Fixed delay added to every datagram. Default 0. */
  delayMs: number;
  /** Uniform extra delay in [0, jitterMs]; like netem, jitter alone can reorder. Default 0. */
  jitterMs: number;
  /** Probability (0..1) that a datagram is held back by `reorderDelayMs` so later ones overtake it. Default 0. */
  reorder: number;
  /** How long a datagram picked by `reorder` is held back. Default 20 ms. */
  reorderDelayMs: number;
  /** Probability (0..1) that a datagram is sent twice, each copy with its own delay. Default 0. */
  duplicate: number;
}

/** What happened to the datagrams of one direction. */
export interface LinkCounters {
  /** Datagrams that reached the proxy. */
  received: number;
  receivedBytes: number;
  /** Datagrams sent on to the receiving peer, duplicates included. */
  forwarded: number;
  forwardedBytes: number;
  /** Dropped by `loss`. */
  dropped: number;
  /** Dropped because the link was cut, on arrival or while waiting in the delay queue. */
  droppedByCut: number;
  /** Dropped because the delay queue held `maxQueued` datagrams already. */
  droppedByOverflow: number;
  /** Dropped because the receiving peer's address was not registered yet. */
  droppedUnroutable: number;
  /** Extra copies made by `duplicate`. */
  duplicated: number;
  /** Datagrams held back by `reorder`. */
  reordered: number;
  /** Datagrams waiting in the delay queue now. */
  queued: number;
}

/** Options of {@link LossyProxy.create}. */
export interface LossyProxyOptions {
  /** Seed of the random draws, so that a run's drop/delay decisions can be reproduced. Default 1. */
  seed?: number;
  /** Conditions of both directions at start; defaults give a perfect link. */
  conditions?: Partial<LinkConditions>;
  /** Cap on each direction's delay queue (datagrams). Default {@link DEFAULT_MAX_QUEUED}. */
  maxQueued?: number;
}

/** A UDP endpoint on loopback. */
export interface Endpoint {
  address: string;
  port: number;
}

/** The parts of an ICE candidate line the proxy needs. */
export interface ParsedCandidate extends Endpoint {
  /** Lower-case transport, `udp` or `tcp`. */
  transport: string;
  /** Candidate type: `host`, `srflx`, `prflx` or `relay`. */
  type: string;
}

const PERFECT_LINK: LinkConditions = {
  loss: 0,
  delayMs: 0,
  jitterMs: 0,
  reorder: 0,
  reorderDelayMs: DEFAULT_REORDER_DELAY_MS,
  duplicate: 0,
};


function splitCandidate(candidate: string): { prefix: string; fields: string[] } | undefined {
  const match = /^(a=)?candidate:(.*)$/.exec(candidate.trim());
  if (!match) return undefined;
  const fields = (match[2] ?? '').split(' ');
  return fields.length < CANDIDATE_MIN_FIELDS ? undefined : { prefix: match[1] ?? '', fields };
}

/**
 * Reads transport, address, port and type from a `candidate:` or `a=candidate:` line; undefined
 * when the line is not a candidate.
 */
export function parseCandidate(candidate: string): ParsedCandidate | undefined {
  const parts = splitCandidate(candidate);
  if (!parts) return undefined;
  const port = Number(parts.fields[CANDIDATE_PORT_FIELD]);
  if (!Number.isInteger(port) || port <= 0 || port > 0xffff) return undefined;
  return {
    transport: (parts.fields[CANDIDATE_TRANSPORT_FIELD] ?? '').toLowerCase(),
    address: parts.fields[CANDIDATE_ADDRESS_FIELD] ?? '',
    port,
    type: parts.fields[CANDIDATE_TYPE_FIELD] ?? '',
  };
}

/**
 * Points a candidate line at the proxy: its address becomes 127.0.0.1 and its port `port`,
 * everything else (foundation, priority, type, extensions) is kept. Throws on a non-candidate.
 */
export function rewriteCandidate(candidate: string, port: number): string {
  const parts = splitCandidate(candidate);
  if (!parts) throw new Error(`not an ICE candidate line: ${candidate}`);
  const fields = [...parts.fields];
  fields[CANDIDATE_ADDRESS_FIELD] = LOOPBACK;
  fields[CANDIDATE_PORT_FIELD] = String(port);
  return `${parts.prefix}candidate:${fields.join(' ')}`;
}

const PROBABILITIES = ['loss', 'reorder', 'duplicate'] as const;
const DURATIONS = ['delayMs', 'jitterMs', 'reorderDelayMs'] as const;

function validateConditions(conditions: Partial<LinkConditions>): void {
  for (const key of PROBABILITIES) {
    const value = conditions[key];
    if (value !== undefined && !(value >= 0 && value <= 1)) throw new RangeError(`${key} must be in 0..1, not ${value}`);
  }
  for (const key of DURATIONS) {
    const value = conditions[key];
    if (value !== undefined && !(value >= 0 && Number.isFinite(value))) {
      throw new RangeError(`${key} must be a finite duration >= 0, not ${value}`);
    }
  }
}

function emptyCounters(): LinkCounters {
  return {
    received: 0,
    receivedBytes: 0,
    forwarded: 0,
    forwardedBytes: 0,
    dropped: 0,
    droppedByCut: 0,
    droppedByOverflow: 0,
    droppedUnroutable: 0,
    duplicated: 0,
    reordered: 0,
    queued: 0,
  };
}

interface Link {
  conditions: LinkConditions;
  counters: LinkCounters;
  random: () => number;
  /** Receives what the sending peer sends: the socket standing in for the receiving peer. */
  ingress: dgram.Socket;
  /** Sends to the receiving peer from where it believes the sending peer is. */
  egress: dgram.Socket;
  receiver: Side;
}

function bindLoopback(): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, LOOPBACK, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/**
 * A UDP relay on 127.0.0.1 between two peers A and B that loses, delays, reorders, duplicates
 * and cuts datagrams, per direction, from a seed: netem for tests, without root.
 *
 * It holds one socket standing in for each peer. A's candidates are rewritten to
 * `portFor('a')`, so B sends there, and the proxy forwards to A's real address from
 * `portFor('b')`, the address A was told B is at; ICE's binding requests and responses thus come
 * back from the address each side expects.
 */
export class LossyProxy {
  private readonly sockets: Record<Side, dgram.Socket>;
  private readonly links: Record<Direction, Link>;
  private readonly peers: Partial<Record<Side, Endpoint>> = {};
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly maxQueued: number;
  private linkCut = false;
  private closed = false;

  private constructor(sockets: Record<Side, dgram.Socket>, options: LossyProxyOptions) {
    this.sockets = sockets;
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    const seed = options.seed ?? 1;
    const link = (ingress: Side, receiver: Side, linkSeed: number): Link => ({
      conditions: { ...PERFECT_LINK, ...options.conditions },
      counters: emptyCounters(),
      random: seededRandom(linkSeed),
      ingress: sockets[ingress],
      egress: sockets[ingress === 'a' ? 'b' : 'a'],
      receiver,
    });
    // B talks to A's stand-in, so the B→A link's ingress is socket 'a'.
    this.links = {
      aToB: link('b', 'b', seed),
      bToA: link('a', 'a', seed ^ SECOND_DIRECTION_SEED_SALT),
    };
    for (const direction of ['aToB', 'bToA'] as const) {
      const { ingress } = this.links[direction];
      ingress.on('message', (datagram) => this.receive(direction, datagram));
      // A send error (the peer's port already gone) must not crash the test process.
      ingress.on('error', () => undefined);
    }
  }

  /** Binds the proxy's two sockets on 127.0.0.1 (ephemeral ports). Throws a RangeError on bad conditions. */
  static async create(options: LossyProxyOptions = {}): Promise<LossyProxy> {
    validateConditions(options.conditions ?? {});
    const [a, b] = await Promise.all([bindLoopback(), bindLoopback()]);
    return new LossyProxy({ a, b }, options);
  }

  /**
   * The proxy port standing in for `side`: rewrite that side's candidates to it; the other
   * peer's datagrams for `side` arrive there.
   */
  portFor(side: Side): number {
    return this.sockets[side].address().port;
  }

  /** Sets where `side` really listens; datagrams for it are dropped until this is known. */
  registerPeer(side: Side, endpoint: Endpoint): void {
    if (endpoint.address !== LOOPBACK) {
      throw new Error(`the lossy proxy forwards to ${LOOPBACK} only, not ${endpoint.address}`);
    }
    this.peers[side] = { ...endpoint };
  }

  /**
   * Changes the conditions of one direction or both, effective for the next datagram; unnamed
   * fields keep their value. Throws a RangeError on a probability outside 0..1 or a negative delay.
   */
  setConditions(direction: Direction | 'both', conditions: Partial<LinkConditions>): void {
    validateConditions(conditions);
    const directions: Direction[] = direction === 'both' ? ['aToB', 'bToA'] : [direction];
    for (const each of directions) Object.assign(this.links[each].conditions, conditions);
  }

  /** The current conditions of one direction (a copy). */
  getConditions(direction: Direction): LinkConditions {
    return { ...this.links[direction].conditions };
  }

  /** A snapshot of one direction's counters. */
  getCounters(direction: Direction): LinkCounters {
    return { ...this.links[direction].counters };
  }

  /** Drops every datagram both ways, including those already in the delay queues, until {@link restore}. */
  cut(): void {
    this.linkCut = true;
  }

  /** Ends a {@link cut}: datagrams flow again under the current conditions. */
  restore(): void {
    this.linkCut = false;
  }

  /** Whether the link is cut. */
  get isCut(): boolean {
    return this.linkCut;
  }

  /** Closes both sockets and drops every queued datagram, so that nothing keeps the process alive. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const link of Object.values(this.links)) link.counters.queued = 0;
    await Promise.all(
      Object.values(this.sockets).map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
    );
  }

  private receive(direction: Direction, datagram: Buffer): void {
    // close() is asynchronous: a datagram may still arrive, and must not start a timer.
    if (this.closed) return;
    const { counters, conditions, random } = this.links[direction];
    counters.received++;
    counters.receivedBytes += datagram.length;
    if (this.linkCut) {
      counters.droppedByCut++;
      return;
    }
    if (random() < conditions.loss) {
      counters.dropped++;
      return;
    }
    this.schedule(direction, datagram);
    if (random() < conditions.duplicate) {
      counters.duplicated++;
      this.schedule(direction, datagram);
    }
  }

  private schedule(direction: Direction, datagram: Buffer): void {
    const { counters, conditions, random } = this.links[direction];
    let delayMs = conditions.delayMs + random() * conditions.jitterMs;
    if (random() < conditions.reorder) {
      counters.reordered++;
      delayMs += conditions.reorderDelayMs;
    }
    if (delayMs <= 0) {
      this.send(direction, datagram);
      return;
    }
    if (counters.queued >= this.maxQueued) {
      counters.droppedByOverflow++;
      return;
    }
    counters.queued++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      counters.queued--;
      this.send(direction, datagram);
    }, delayMs);
    this.timers.add(timer);
  }

  private send(direction: Direction, datagram: Buffer): void {
    const { counters, egress, receiver } = this.links[direction];
    if (this.linkCut) {
      counters.droppedByCut++;
      return;
    }
    const destination = this.peers[receiver];
    if (!destination) {
      counters.droppedUnroutable++;
      return;
    }
    counters.forwarded++;
    counters.forwardedBytes += datagram.length;
    egress.send(datagram, destination.port, destination.address);
  }
}
