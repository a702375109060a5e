// What replication keeps per connected peer: its drops by reason, the entities its spawners have
// alive here, the fragments it is sending, and the id of this side's next fragmented packet.
import { Baselines } from './baselines.js';
import { MAX_ASSEMBLIES_PER_PEER, type FragmentPart } from './replication-packets.js';
import { StateStream } from './state-stream.js';

/** Why replication dropped a packet (or an entry of one) from a peer. */
export const REPLICATION_DROP_REASONS = [
  /** Bytes that do not hold the packet they claim: a bad varint, a length past the end, trailing bytes. */
  'malformed',
  /** A value that is not of its property's type (out of range, bad UTF-8, a bool other than 0 or 1, ...). */
  'badValue',
  /** A replication packet whose path names an RPC node here, not a spawner (an unknown path is the RPC layer's `unknownPath`). */
  'notSpawner',
  /** A spawn or despawn from anyone but the spawner's authority, or state from anyone but the entity's. */
  'notAuthority',
  /** State or a despawn for an entity that is gone here (unreliable state sent just before a despawn may arrive after it). */
  'unknownEntity',
  /** State for an entity whose spawn has not arrived yet (normal under loss: they travel on different channels). */
  'stateBeforeSpawn',
  /** A spawn for a network id already alive. */
  'duplicateSpawn',
  /** A spawn past the spawner's `spawnLimit` or the API's `maxEntitiesPerPeer`. */
  'spawnLimit',
  /** A spawn whose spawn function threw or returned no object (the `error` event says why). */
  'spawnFailed',
  /** A fragment that breaks the rules: a count or index out of range, or a fragment inside fragments. */
  'badFragment',
  /** A fragmented packet given up incomplete, to make room for newer ones. */
  'incompleteFragments',
  /** State relative to a snapshot this side no longer has (or never received whole): the sender soon sends it whole. */
  'missingBaseline',
] as const;

/** One of {@link REPLICATION_DROP_REASONS}. */
export type ReplicationDropReason = (typeof REPLICATION_DROP_REASONS)[number];

/** A fragmented packet being put back together. */
interface Assembly {
  readonly count: number;
  readonly parts: (Uint8Array | undefined)[];
  received: number;
}

/** Replication's state with one connected peer. */
export class PeerReplicationState {
  readonly dropped = Object.fromEntries(REPLICATION_DROP_REASONS.map((reason) => [reason, 0])) as Record<ReplicationDropReason, number>;
  /** Entities the peer's spawns made here, alive: bounded by the API's `maxEntitiesPerPeer`. */
  entities = 0;
  /** The id of this side's next fragmented packet to the peer. */
  nextMessageId = 0;
  /** Per spawner: the state this side sent the peer, and the state it receives from it. */
  private readonly sent = new Map<object, Baselines>();
  private readonly received = new Map<object, StateStream>();
  private readonly assemblies = new Map<number, Assembly>();

  /** The snapshots sent to the peer for `spawner`. */
  baselines(spawner: object): Baselines {
    let baselines = this.sent.get(spawner);
    if (!baselines) this.sent.set(spawner, (baselines = new Baselines()));
    return baselines;
  }

  /** The state of `spawner` received from the peer, under the peer's path id for it. */
  stream(spawner: object, remotePathId: number): StateStream {
    let stream = this.received.get(spawner);
    if (!stream || stream.remotePathId !== remotePathId) this.received.set(spawner, (stream = new StateStream(remotePathId)));
    return stream;
  }

  /** The state received from the peer, for each spawner. */
  streams(): IterableIterator<[object, StateStream]> {
    return this.received.entries();
  }

  /** Forgets what concerns a spawner removed here. */
  forget(spawner: object): void {
    this.sent.delete(spawner);
    this.received.delete(spawner);
  }

  /**
   * Adds a fragment; returns the whole packet once every part has arrived. Keeps at most
   * {@link MAX_ASSEMBLIES_PER_PEER} packets in assembly, dropping the oldest.
   */
  assemble(part: FragmentPart): Uint8Array | undefined {
    let assembly = this.assemblies.get(part.messageId);
    if (!assembly) {
      if (this.assemblies.size >= MAX_ASSEMBLIES_PER_PEER) {
        this.assemblies.delete(this.assemblies.keys().next().value!);
        this.dropped.incompleteFragments++;
      }
      assembly = { count: part.count, parts: new Array<Uint8Array | undefined>(part.count), received: 0 };
      this.assemblies.set(part.messageId, assembly);
    }
    if (assembly.count !== part.count) {
      this.dropped.badFragment++;
      return undefined;
    }
    if (assembly.parts[part.index]) return undefined;
    assembly.parts[part.index] = part.bytes.slice();
    if (++assembly.received < assembly.count) return undefined;
    this.assemblies.delete(part.messageId);
    const whole = new Uint8Array(assembly.parts.reduce((sum, bytes) => sum + bytes!.length, 0));
    let offset = 0;
    for (const bytes of assembly.parts) {
      whole.set(bytes!, offset);
      offset += bytes!.length;
    }
    return whole;
  }
}
