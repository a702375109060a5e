// Godot's MultiplayerSpawner: a collection of entities under one path that its authority spawns
// and despawns on every peer that sees them. Registered in the path cache like an RPC node, so
// its entities are addressed on the wire by (spawner path id, network id).
import { EventEmitter } from 'eventemitter3';
import { TARGET_PEER_SERVER } from '../mesh/multiplayer-constants.js';
import { argumentsFailure, encodingFailure } from '../rpc/errors.js';
import { hashText } from '../rpc/method-table.js';
import { checkArguments } from '../rpc/msgpack-check.js';
import { packr } from '../rpc/msgpack.js';
import type { PathTarget } from '../rpc/path-cache.js';
import type { EntityContainer } from '../rpc/rpc-interface.js';
import type { RpcLimits } from '../rpc/rpc-limits.js';
import { type RpcConfig, type RpcConfigMap, RpcMethods, type RpcSender, methodOf } from '../rpc/rpc-node.js';
import { MAX_VARINT_VALUE } from '../rpc/varint.js';
import { RtcError } from '../transport/errors.js';
import { checkOption, integerRule } from '../transport/option-resolver.js';
import { Entity } from './entity.js';
import { MultiplayerSynchronizer, type SynchronizerOptions, checkMilliseconds, resolveSynchronizerOptions, SYNCHRONIZER_OPTION_DEFAULTS } from './multiplayer-synchronizer.js';
import { type PropertyMap, type ReplicationLayout, resolveLayout } from './replication-config.js';

/** The options of a spawner: Godot's MultiplayerSpawner properties and its entities' SceneReplicationConfig. */
export interface SpawnerOptions<T extends object, D, P extends PropertyMap, C extends RpcConfigMap<T>> extends SynchronizerOptions {
  /** Godot `spawn_function`: makes an entity's object from the data given to `spawn()`, on every peer that sees it. */
  spawnFunction: (data: D) => T;
  /** Godot `spawn_limit`: the most entities alive at once, held on every receiver too; 0 for no limit. Default 0. */
  spawnLimit?: number;
  /** The replicated properties of every entity: Godot's SceneReplicationConfig. Default none. */
  properties?: P;
  /** The RPC methods of every entity, as `register()` takes them. `maxArguments` defaults to `RpcLimits.maxArguments`. */
  rpc?: C;
  /**
   * How far behind the network time receivers draw (`getRenderTime()`), in ms. Default: measured,
   * two intervals between the authority's snapshots plus their arrival jitter.
   */
  interpolationDelayMs?: number;
  /** How far past its newest snapshot `interpolate()` extrapolates before it holds, in ms. Default {@link DEFAULT_MAX_EXTRAPOLATION_MS}. */
  maxExtrapolationMs?: number;
}

/** The default bound on extrapolation past the newest snapshot. */
export const DEFAULT_MAX_EXTRAPOLATION_MS = 100;

const SPAWN_LIMIT = { rule: integerRule(0), advice: '0 for no limit' };

/** The defaults of the {@link SpawnerOptions} that have a fixed one, as docs/replication.md lists them. */
export const SPAWNER_OPTION_DEFAULTS = Object.freeze({
  spawnLimit: 0,
  maxExtrapolationMs: DEFAULT_MAX_EXTRAPOLATION_MS,
  ...SYNCHRONIZER_OPTION_DEFAULTS,
});
/** The interpolation delay before any state has arrived to measure. */
export const UNMEASURED_INTERPOLATION_DELAY_MS = 100;

/** The events of a {@link MultiplayerSpawner}, Godot's signals; inside `poll()` (and `spawn`/`despawn` on the authority). */
export interface MultiplayerSpawnerEvents<T extends object, M extends string> {
  /** Godot `spawned`: an entity was made here, its spawn properties already applied. */
  spawned: (entity: Entity<T, M>) => void;
  /** Godot `despawned`: an entity is gone here. */
  despawned: (entity: Entity<T, M>) => void;
}

/** What a spawner asks of the replication interface. */
export interface SpawnerHost {
  /** A spawn on this side, the authority: sent at the next `poll()` to the peers that see it. */
  localSpawned(entity: Entity<object, string>): void;
  /** A despawn on this side, the authority: sent at once to every peer that had the spawn. */
  localDespawned(entity: Entity<object, string>): void;
  /** Whether this side runs the server topology as a client (which cannot spawn for the others). */
  isClientOfServer(): boolean;
  /** The network time, in ms. */
  networkTime(): number;
  /** How regularly the spawner's state arrives here: the freshest sender's interval and jitter, if measured. */
  stateTiming(spawner: MultiplayerSpawner<object, unknown, string>): { intervalMs: number; jitterMs: number } | undefined;
}

/**
 * A spawner (Godot `MultiplayerSpawner`). Its authority (default peer 1) calls `spawn(data)`;
 * every peer that sees the entity runs `spawnFunction(data)` and emits `spawned`; `despawn()`
 * removes it everywhere. Each entity carries a {@link MultiplayerSynchronizer} of the declared
 * properties and answers the declared RPC methods.
 */
export class MultiplayerSpawner<T extends object, D, M extends string>
  extends EventEmitter<MultiplayerSpawnerEvents<T, M>>
  implements PathTarget, EntityContainer
{
  /** @internal The layout of the entities' replicated properties. */
  readonly layout: ReplicationLayout;
  /** @internal The entities' RPC methods. */
  readonly methods: RpcMethods;
  /** @internal */
  readonly hash: number;
  /** @internal The highest network id spawned here: a higher one is still on its way. */
  highestNetId = 0;
  private readonly entities = new Map<number, Entity<T, M>>();
  private authority = TARGET_PEER_SERVER;
  private limit: number;
  private readonly spawnFunction: (data: D) => T;
  private readonly synchronizerOptions: SynchronizerOptions;
  private delayMs: number | undefined;
  /** The bound on extrapolation past the newest snapshot, in ms. */
  readonly maxExtrapolationMs: number;

  /** @internal Made by `MultiplayerAPI.addSpawner`. */
  constructor(
    private readonly sender: RpcSender,
    private readonly host: SpawnerHost,
    readonly path: string,
    /** @internal */
    readonly pathId: number,
    options: SpawnerOptions<T, D, PropertyMap, RpcConfigMap<T>>,
    private readonly limits: Readonly<RpcLimits>,
  ) {
    super();
    if (typeof options?.spawnFunction !== 'function') {
      throw new RtcError('ERR_INVALID_PARAMETER', `${path}: spawnFunction is a function that makes an entity's object from its spawn data.`);
    }
    this.spawnFunction = options.spawnFunction;
    this.limit = checkLimit(options.spawnLimit ?? SPAWNER_OPTION_DEFAULTS.spawnLimit);
    this.layout = resolveLayout(path, options.properties ?? {}, limits);
    this.methods = new RpcMethods(path, (options.rpc ?? {}) as Readonly<Record<string, RpcConfig | undefined>>, () => limits.maxArguments);
    this.hash = hashText(`spawner\n${this.methods.table.names.join('\n')}\n\n${this.layout.signature}`);
    this.synchronizerOptions = resolveSynchronizerOptions(options);
    if (options.interpolationDelayMs !== undefined) this.interpolationDelayMs = options.interpolationDelayMs;
    this.maxExtrapolationMs = checkMilliseconds('SpawnerOptions', 'maxExtrapolationMs', options.maxExtrapolationMs ?? DEFAULT_MAX_EXTRAPOLATION_MS);
  }

  /** Godot `spawn_limit`; 0 for none. */
  get spawnLimit(): number {
    return this.limit;
  }

  set spawnLimit(limit: number) {
    this.limit = checkLimit(limit);
  }

  /** The interpolation delay in ms: as set, or measured (see {@link SpawnerOptions.interpolationDelayMs}). */
  get interpolationDelayMs(): number {
    if (this.delayMs !== undefined) return this.delayMs;
    const timing = this.host.stateTiming(this as unknown as MultiplayerSpawner<object, unknown, string>);
    if (!timing || Number.isNaN(timing.intervalMs)) return UNMEASURED_INTERPOLATION_DELAY_MS;
    return 2 * timing.intervalMs + timing.jitterMs;
  }

  /** Sets a fixed interpolation delay; undefined goes back to the measured one. */
  set interpolationDelayMs(ms: number | undefined) {
    this.delayMs = ms === undefined ? undefined : checkMilliseconds('MultiplayerSpawner', 'interpolationDelayMs', ms);
  }

  /** The network time receivers draw this spawner's entities at: now less the interpolation delay. */
  getRenderTime(): number {
    return this.host.networkTime() - this.interpolationDelayMs;
  }

  /** @internal */
  renderTime(): number {
    return this.getRenderTime();
  }

  /**
   * Godot `spawn`: makes an entity from `data` here and on every peer that sees it. `data`
   * travels as RPC arguments do (msgpack, within the RPC limits). `authority` is the peer whose
   * state and `authority` RPCs the entity accepts (default: this spawner's authority).
   * @throws RtcError ERR_UNAUTHORIZED where this side is not the spawner's authority;
   * ERR_UNAVAILABLE at the spawn limit or on a client of the server topology; ERR_INVALID_PARAMETER
   * for data that cannot be sent, or an object whose replicated properties do not fit their types.
   */
  spawn(data: D, authority = this.authority): Entity<T, M> {
    if (!this.isMultiplayerAuthority()) {
      throw new RtcError('ERR_UNAUTHORIZED', `only the authority of ${this.path} (peer ${this.authority}) spawns its entities.`);
    }
    if (this.host.isClientOfServer()) {
      throw new RtcError('ERR_UNAVAILABLE', `in the server topology the server spawns; give ${this.path} authority 1 and the entity's authority to the client.`);
    }
    if (this.limit > 0 && this.entities.size >= this.limit) {
      throw new RtcError('ERR_UNAVAILABLE', `${this.path} has ${this.entities.size} entities, its spawnLimit: despawn one first.`);
    }
    this.encodeData(data);
    if (this.highestNetId >= MAX_VARINT_VALUE) throw new RtcError('ERR_UNAVAILABLE', `${this.path} has spawned its last network id.`);
    const entity = this.create(this.highestNetId + 1, data, authority, true);
    this.highestNetId = entity.netId;
    this.host.localSpawned(entity as unknown as Entity<object, string>);
    this.emit('spawned', entity);
    return entity;
  }

  /**
   * Godot's despawn (freeing a spawned node): removes the entity here and on every peer.
   * @throws RtcError ERR_UNAUTHORIZED where this side is not the authority; ERR_DOES_NOT_EXIST for an entity not alive.
   */
  despawn(entity: Entity<T, M> | number): void {
    if (!this.isMultiplayerAuthority()) {
      throw new RtcError('ERR_UNAUTHORIZED', `only the authority of ${this.path} (peer ${this.authority}) despawns its entities.`);
    }
    const netId = typeof entity === 'number' ? entity : entity.netId;
    const found = this.entities.get(netId);
    if (!found) throw new RtcError('ERR_DOES_NOT_EXIST', `${this.path} has no entity ${netId} alive.`);
    this.host.localDespawned(found as unknown as Entity<object, string>);
    this.remove(found);
  }

  /** The entity with that network id, if alive here. */
  getEntity(netId: number): Entity<T, M> | undefined {
    return this.entities.get(netId);
  }

  /** Every entity alive here. */
  getEntities(): Entity<T, M>[] {
    return [...this.entities.values()];
  }

  /** Godot `Node.set_multiplayer_authority` on the spawner: the peer that spawns and despawns. */
  setMultiplayerAuthority(peerId: number): void {
    if (!Number.isInteger(peerId) || peerId < 1) throw new RtcError('ERR_INVALID_PARAMETER', 'the multiplayer authority is a peer id from 1 up.');
    this.authority = peerId;
  }

  /** Godot `Node.get_multiplayer_authority`. Default 1, the server. */
  getMultiplayerAuthority(): number {
    return this.authority;
  }

  /** Godot `Node.is_multiplayer_authority`. */
  isMultiplayerAuthority(): boolean {
    return this.sender.getUniqueId() === this.authority;
  }

  /** @internal */
  entityFor(netId: number): Entity<T, M> | 'pending' | undefined {
    return this.entities.get(netId) ?? (netId > this.highestNetId ? 'pending' : undefined);
  }

  /** @internal Live entities, without a copy. */
  get live(): ReadonlyMap<number, Entity<T, M>> {
    return this.entities;
  }

  /**
   * @internal Makes an entity: the spawn function's object, its synchronizer and RPC handle.
   * `checkInitial` (on the authority) refuses initial values that do not fit their types.
   */
  create(netId: number, data: D, authority: number, checkInitial: boolean): Entity<T, M> {
    const object = this.spawnFunction(data);
    if (typeof object !== 'object' || object === null) {
      throw new RtcError('ERR_INVALID_PARAMETER', `${this.path}: spawnFunction must return an object.`);
    }
    for (const method of this.methods.table.names) methodOf(this.path, object, method);
    const synchronizer = new MultiplayerSynchronizer(object, this.layout, `${this.path}#${netId}`, this.synchronizerOptions, checkInitial, this);
    const entity = new Entity<T, M>(this.sender, this.methods, this, netId, data, object, synchronizer, () => this.isMultiplayerAuthority());
    entity.setMultiplayerAuthority(authority);
    this.entities.set(netId, entity);
    return entity;
  }

  /** @internal Forgets an entity and emits `despawned`. */
  remove(entity: Entity<T, M>): void {
    if (!this.entities.delete(entity.netId)) return;
    entity.alive = false;
    this.emit('despawned', entity);
  }

  /** @internal Spawn data as it travels: a one-element msgpack array, checked as RPC arguments are. */
  encodeData(data: D): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = packr.pack([data]);
    } catch (error) {
      throw encodingFailure(error);
    }
    const reason = checkArguments(bytes, 0, bytes.length, this.limits);
    if (reason !== undefined) throw argumentsFailure(reason, this.limits);
    return bytes;
  }
}

function checkLimit(limit: number): number {
  return checkOption('MultiplayerSpawner', 'spawnLimit', SPAWN_LIMIT, limit) as number;
}
