// One spawned entity of a spawner: the game's object, its synchronizer, and RPCs addressed by
// (spawner, network id) so that any number of entities share the spawner's one path id.
import type { RpcCodec } from '../rpc/codec.js';
import type { PathTarget } from '../rpc/path-cache.js';
import { type RpcMethods, type RpcSender, RpcTarget } from '../rpc/rpc-node.js';
import type { MultiplayerSynchronizer } from './multiplayer-synchronizer.js';

/** An entity of a {@link MultiplayerSpawner}, alive on every peer that sees it. */
export class Entity<T extends object, M extends string> extends RpcTarget<T, M> {
  /** @internal The peers this side (the spawner's authority) has sent the spawn to. */
  readonly spawnedAt = new Set<number>();
  /** @internal Set when the entity is despawned: what still holds it can tell. */
  alive = true;

  /** @internal Made by the spawner. */
  constructor(
    sender: RpcSender,
    methods: RpcMethods,
    /** The spawner that owns it: its path is the entity's address. */
    readonly spawner: PathTarget,
    /** The network id, unique within the spawner for the life of the session. */
    readonly netId: number,
    /** The data `spawn()` was given, which the spawn function made the object from. */
    readonly data: unknown,
    private readonly object: T,
    /** Godot's MultiplayerSynchronizer of the entity's replicated properties. */
    readonly synchronizer: MultiplayerSynchronizer,
    /** Whether this side is the spawner's authority, which knows who sees the entity. */
    private readonly spawnerIsLocal: () => boolean,
  ) {
    super(sender, methods);
  }

  /** The game's object, made by the spawner's `spawnFunction`. */
  get target(): T {
    return this.object;
  }

  /** @internal */
  get address(): PathTarget {
    return this.spawner;
  }

  /**
   * @internal A broadcast from the spawner's authority goes only to the peers that see the
   * entity (where its spawn is, or is about to go): elsewhere it would find nothing to call.
   */
  override reaches(peerId: number): boolean {
    return !this.spawnerIsLocal() || this.synchronizer.isVisibleTo(peerId);
  }

  /** @internal */
  encodeCall(codec: RpcCodec, methodId: number, args: readonly unknown[]): Uint8Array {
    return codec.encodeEntityCall(this.spawner.pathId, this.netId, methodId, args);
  }
}
