// What the parts of replication share: who speaks for an entity's state and to whom, whose
// state is accepted, and the way out to a peer.
import type { TransferMode } from '../mesh/multiplayer-constants.js';
import type { Entity } from './entity.js';
import type { MultiplayerSpawner } from './multiplayer-spawner.js';
import type { PeerReplicationState } from './peer-replication-state.js';
import type { ResolvedProperty } from './replication-config.js';

export type AnySpawner = MultiplayerSpawner<object, unknown, string>;
export type AnyEntity = Entity<object, string>;

/** The rules and the way out that the senders and receivers of state share. */
export interface ReplicationContext {
  /** This side's peer id. */
  selfId(): number;
  /** The network time, in ms. */
  networkTime(): number;
  /** Replication's state of each connected peer. */
  readonly peers: ReadonlyMap<number, PeerReplicationState>;
  /**
   * Whether this side sends the entity's state: it is the entity's authority, or the server of
   * the server topology passing on a client's entity in its own snapshots.
   */
  speaksFor(spawner: AnySpawner, entity: AnyEntity): boolean;
  /** The peers this side sends the entity's state to, written over `into` (reused: this runs per entity and poll). */
  recipients(spawner: AnySpawner, entity: AnyEntity, into: number[]): number[];
  /** Whether state for the entity from `from` is accepted: its authority's, or the server's on a client. */
  acceptsState(from: number, spawner: AnySpawner, entity: AnyEntity): boolean;
  /** The values of `properties`, checked; undefined (reported to the game) where one does not fit. */
  readAll(entity: AnyEntity, properties: readonly ResolvedProperty[]): unknown[] | undefined;
  /** Sends a replication packet, in fragments where it is larger than one; false when it could not be. */
  send(peerId: number, spawner: AnySpawner, packet: Uint8Array, mode: TransferMode): boolean;
  /** Reports a failure of the game's own making that must not throw out of `poll()`. */
  reportError(error: Error, peerId: number, spawner: AnySpawner): void;
}
