import { nodeDataChannelBackend } from '../transport/backends/node-datachannel.js';
import type { Backend } from '../transport/backend.js';
import { RtcError } from '../transport/errors.js';
import { type OptionSpecs, integerRule, resolveOptions } from '../transport/option-resolver.js';
import { ConditionedConnection } from './conditioned-connection.js';
import { checkConditions, type LinkConditions, type LinkCounters } from './link-conditions.js';
import { LinkRelay } from './link-relay.js';
import { type Direction, LinkState } from './link-state.js';

/** A direction as seen from the conditioned side: what it sends, and what reaches it. */
export type ConditionerDirection = 'outgoing' | 'incoming';

/** Options of {@link NetworkConditioner}. */
export interface NetworkConditionerOptions {
  /** Conditions of both directions at start. Default: a perfect link. */
  conditions?: Partial<LinkConditions>;
  /** Conditions of what this side sends, over `conditions`. */
  outgoing?: Partial<LinkConditions>;
  /** Conditions of what reaches this side, over `conditions`. */
  incoming?: Partial<LinkConditions>;
  /** Seed of every random draw; each connection draws from its own sequence, derived from it. Default 1. */
  seed?: number;
  /** Datagrams each connection may hold in each direction's delay queue; the excess is dropped. Default 10000. */
  maxQueued?: number;
  /** The engine underneath. Default: node-datachannel. */
  backend?: Backend;
}

const DIRECTIONS: Record<ConditionerDirection, Direction> = { outgoing: 'aToB', incoming: 'bToA' };
/** Spreads the seeds of successive connections apart (the golden ratio's 32-bit fraction). */
const CONNECTION_SEED_STEP = 0x9e3779b9;

const CONDITIONER_SPECS: OptionSpecs<{ seed: number; maxQueued: number | undefined }> = {
  seed: { default: 1, rule: integerRule(Number.MIN_SAFE_INTEGER) },
  // Left out, each connection's relay applies its own default.
  maxQueued: { default: undefined, rule: integerRule(1) },
};

function checkDirection(direction: unknown, both: boolean): void {
  if (direction === 'outgoing' || direction === 'incoming' || (both && direction === 'both')) return;
  throw new RtcError('ERR_INVALID_PARAMETER', `a direction is "outgoing", "incoming"${both ? ' or "both"' : ''}, not ${String(direction)}.`);
}

/**
 * A bad network for testing a game, under the WebRTC engine: every connection created on
 * {@link backend} reaches its remote only through a UDP relay of its own, on the address the
 * connection itself uses, which loses, delays, jitters, reorders, duplicates, rate-limits and
 * cuts datagrams as told, per direction, from a seed. SCTP underneath sees a real bad link and
 * does what it does on one: retransmits, stalls, blocks behind a loss.
 *
 * Node.js only. It relays UDP host candidates, so it conditions direct connections, not those
 * through a TURN relay (it withholds relay candidates, and such a connection does not connect).
 */
export class NetworkConditioner {
  /** The backend to create conditioned connections on: `new PeerConnection(conditioner.backend)`. */
  readonly backend: Backend;
  private readonly state: LinkState;
  private readonly relays = new Set<LinkRelay>();
  private readonly seed: number;
  private readonly maxQueued: number | undefined;
  private connections = 0;
  private closed = false;

  /** @throws RtcError ERR_INVALID_PARAMETER for conditions, a seed or a maxQueued that cannot work. */
  constructor(options: NetworkConditionerOptions = {}) {
    const { seed, maxQueued } = resolveOptions('NetworkConditionerOptions', CONDITIONER_SPECS, options);
    const { conditions = {}, outgoing = {}, incoming = {} } = options;
    for (const each of [conditions, outgoing, incoming]) checkConditions(each);
    this.state = new LinkState({ aToB: { ...conditions, ...outgoing }, bToA: { ...conditions, ...incoming } });
    this.seed = seed;
    this.maxQueued = maxQueued;
    const inner = options.backend ?? nodeDataChannelBackend;
    this.backend = {
      name: `${inner.name} (conditioned)`,
      ...(inner.reliableQueueBytes === undefined ? {} : { reliableQueueBytes: inner.reliableQueueBytes }),
      createConnection: (config, handlers) => {
        if (this.closed) throw new RtcError('ERR_UNCONFIGURED', 'this NetworkConditioner is closed: create a new one.');
        const seedOfConnection = (this.seed + this.connections++ * CONNECTION_SEED_STEP) >>> 0;
        return new ConditionedConnection((wrapped) => inner.createConnection(config, wrapped), handlers, {
          openRelay: (address) => this.openRelay(address, seedOfConnection),
          closeRelay: (relay) => void this.closeRelay(relay),
          counters: (direction) => this.state.directions[DIRECTIONS[direction]].counters,
        });
      },
    };
    if (inner.cleanup) this.backend.cleanup = () => inner.cleanup?.();
  }

  /**
   * Changes the conditions of one direction or both, for every connection, effective for the
   * next datagram; fields not named keep their value.
   * @throws RtcError ERR_INVALID_PARAMETER for an unknown direction or field, a probability outside 0..1, or a negative amount.
   */
  setConditions(direction: ConditionerDirection | 'both', conditions: Partial<LinkConditions>): void {
    checkDirection(direction, true);
    this.state.setConditions(direction === 'both' ? 'both' : DIRECTIONS[direction], conditions);
  }

  /** The current conditions of one direction (a copy). */
  getConditions(direction: ConditionerDirection): LinkConditions {
    checkDirection(direction, false);
    return this.state.getConditions(DIRECTIONS[direction]);
  }

  /** What the conditioner did to one direction, summed over every connection it relayed. */
  getCounters(direction: ConditionerDirection): LinkCounters {
    checkDirection(direction, false);
    return this.state.getCounters(DIRECTIONS[direction]);
  }

  /** Connections made on {@link backend} so far. */
  getConnectionCount(): number {
    return this.connections;
  }

  /** Cuts every connection both ways, datagrams already delayed included, until {@link restore}. */
  cut(): void {
    this.state.cut();
  }

  /** Ends a {@link cut}. */
  restore(): void {
    this.state.restore();
  }

  /** Whether the link is cut. */
  get isCut(): boolean {
    return this.state.isCut;
  }

  /**
   * Closes every relay (connections still open lose their path) and refuses new connections.
   * Closing a connection closes its relay already: call this at shutdown.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.relays].map((relay) => this.closeRelay(relay)));
  }

  private async openRelay(address: string, seed: number): Promise<LinkRelay> {
    if (this.closed) throw new RtcError('ERR_UNCONFIGURED', 'this NetworkConditioner is closed.');
    const options = { address, seed, state: this.state, ...(this.maxQueued === undefined ? {} : { maxQueued: this.maxQueued }) };
    const relay = await LinkRelay.create(options);
    if (this.closed) {
      await relay.close();
      throw new RtcError('ERR_UNCONFIGURED', 'this NetworkConditioner is closed.');
    }
    this.relays.add(relay);
    return relay;
  }

  private async closeRelay(relay: LinkRelay): Promise<void> {
    this.relays.delete(relay);
    await relay.close();
  }
}
