// The replication interface (Godot's SceneReplicationInterface): sends each spawner's spawns and
// despawns to the peers that see its entities, and routes state both ways through its `Always`
// and watched parts, after checking every byte and who sent it.
import { TARGET_PEER_SERVER, type TransferMode } from '../mesh/multiplayer-constants.js';
import { RpcCommand, type RpcCodec } from '../rpc/codec.js';
import { checkArguments } from '../rpc/msgpack-check.js';
import { unpackr } from '../rpc/msgpack.js';
import type { PathCache } from '../rpc/path-cache.js';
import type { PeerRpcState } from '../rpc/peer-rpc-state.js';
import type { RelayHost } from '../rpc/relay.js';
import type { RpcInterface } from '../rpc/rpc-interface.js';
import type { VarintCursor } from '../rpc/varint.js';
import { RtcError } from '../transport/errors.js';
import { AlwaysState } from './always-state.js';
import { MultiplayerSpawner, type SpawnerHost } from './multiplayer-spawner.js';
import { PeerReplicationState, type ReplicationDropReason } from './peer-replication-state.js';
import type { ResolvedProperty } from './replication-config.js';
import type { AnyEntity, AnySpawner, ReplicationContext } from './replication-context.js';
import { MAX_FRAGMENTS, MAX_REPLICATION_PACKET_BYTES, encodeDespawn, encodeSpawn, fragment, readFragment, readId, readSpawnHeader, readValues } from './replication-packets.js';
import { EVENT_MODE, WatchedState } from './watched-state.js';

/** What replication needs of the multiplayer API around it. */
export interface ReplicationHost extends RelayHost {
  /** Runs a packet put back together from fragments as if it had arrived whole. */
  receivePacket(from: number, packet: Uint8Array, mode: TransferMode, channel: number): void;
  /** The network time, in ms. */
  networkTime(): number;
}

const CHANNEL = 0;

/** Runs every spawner of one multiplayer API. */
export class ReplicationInterface implements SpawnerHost, ReplicationContext {
  private readonly spawners = new Set<AnySpawner>();
  readonly peers = new Map<number, PeerReplicationState>();
  private readonly always = new AlwaysState(this);
  private readonly watched = new WatchedState(this);
  /** The peer each remote entity came from, whose departure takes it away. */
  private readonly origins = new Map<AnyEntity, number>();
  private peersChanged = false;
  private readonly cursor: VarintCursor = { offset: 0 };
  // The path id the packet being read names, as `spawnerOf` read it.
  private lastPathId = 0;

  constructor(
    private readonly host: ReplicationHost,
    private readonly codec: RpcCodec,
    private readonly paths: PathCache,
    private readonly rpcs: RpcInterface,
    private readonly now: () => number,
    private readonly maxEntitiesPerPeer: number,
  ) {}

  addSpawner(spawner: AnySpawner): void {
    this.spawners.add(spawner);
  }

  /** A spawner unregistered here: its authority despawns its entities everywhere; they go here too. */
  removeSpawner(spawner: AnySpawner): void {
    this.spawners.delete(spawner);
    for (const state of this.peers.values()) state.forget(spawner);
    for (const entity of [...spawner.live.values()]) {
      if (spawner.isMultiplayerAuthority()) this.localDespawned(entity);
      this.forgetRemote(entity);
      spawner.remove(entity);
    }
  }

  onPeerConnected(id: number): void {
    this.peers.set(id, new PeerReplicationState());
    this.peersChanged = true;
  }

  /** A peer left: entities it spawned here go with it, as in Godot. */
  onPeerDisconnected(id: number): void {
    this.peers.delete(id);
    for (const spawner of this.spawners) {
      for (const entity of [...spawner.live.values()]) {
        entity.spawnedAt.delete(id);
        if (this.origins.get(entity) === id) {
          this.origins.delete(entity);
          spawner.remove(entity);
        }
      }
    }
  }

  /** What replication dropped from a peer, by reason. */
  droppedFrom(peerId: number): Record<ReplicationDropReason, number> {
    return { ...this.peers.get(peerId)!.dropped };
  }

  localSpawned(entity: AnyEntity): void {
    entity.synchronizer.visibilityDirty = true;
  }

  localDespawned(entity: AnyEntity): void {
    const packet = encodeDespawn(entity.spawner.pathId, entity.netId);
    for (const peerId of entity.spawnedAt) this.paths.deliver(peerId, entity.spawner, packet, EVENT_MODE, CHANNEL);
    entity.spawnedAt.clear();
  }

  isClientOfServer(): boolean {
    return this.host.isRelayTopology() && !this.host.isServer();
  }

  /** Once per `poll()`: spawns and despawns where visibility changed, then the state that is due. */
  process(): void {
    const now = this.now();
    this.always.beginTick();
    for (const spawner of this.spawners) {
      if (spawner.isMultiplayerAuthority()) {
        for (const entity of spawner.live.values()) {
          const synchronizer = entity.synchronizer;
          if (this.peersChanged || synchronizer.visibilityDirty || synchronizer.hasFilters) this.updateVisibility(spawner, entity);
        }
      }
      if (spawner.layout.alwaysProperties.length > 0) this.always.send(spawner, now);
      this.watched.send(spawner, now);
    }
    this.always.acknowledge((peerId, packet, mode, channel) => this.host.put(peerId, packet, mode, channel));
    this.peersChanged = false;
  }

  networkTime(): number {
    return this.host.networkTime();
  }

  selfId(): number {
    return this.host.selfId();
  }

  stateTiming(spawner: AnySpawner): { intervalMs: number; jitterMs: number } | undefined {
    let freshest: { intervalMs: number; jitterMs: number } | undefined;
    for (const state of this.peers.values()) {
      for (const [owner, stream] of state.streams()) {
        if (owner === spawner && !Number.isNaN(stream.intervalMs) && (!freshest || stream.intervalMs < freshest.intervalMs)) freshest = stream;
      }
    }
    return freshest && { intervalMs: freshest.intervalMs, jitterMs: freshest.jitterMs };
  }

  speaksFor(spawner: AnySpawner, entity: AnyEntity): boolean {
    const self = this.host.selfId();
    const authority = entity.getMultiplayerAuthority();
    if (authority === self) return true;
    return this.host.isServer() && this.host.isRelayTopology() && spawner.isMultiplayerAuthority();
  }

  /**
   * Who gets an entity's state from this side: the peers it was spawned at but its owner (the
   * spawner's authority); the server, which passes it on (a client of the server topology);
   * every peer that sees it (a mesh peer that owns an entity of another's spawner).
   */
  recipients(spawner: AnySpawner, entity: AnyEntity, into: number[]): number[] {
    into.length = 0;
    if (spawner.isMultiplayerAuthority()) {
      const owner = entity.getMultiplayerAuthority();
      for (const peerId of entity.spawnedAt) if (peerId !== owner) into.push(peerId);
    } else if (this.isClientOfServer()) {
      if (this.peers.has(TARGET_PEER_SERVER)) into.push(TARGET_PEER_SERVER);
    } else {
      for (const peerId of this.peers.keys()) if (entity.synchronizer.isVisibleTo(peerId)) into.push(peerId);
    }
    return into;
  }


  acceptsState(from: number, spawner: AnySpawner, entity: AnyEntity): boolean {
    const authority = entity.getMultiplayerAuthority();
    if (authority === this.host.selfId()) return false;
    if (from === authority) return true;
    return this.isClientOfServer() && from === TARGET_PEER_SERVER && spawner.getMultiplayerAuthority() === TARGET_PEER_SERVER;
  }

  reportError(error: Error, peerId: number, spawner: AnySpawner): void {
    this.host.reportError(error, { peerId, path: spawner.path });
  }

  /** A replication packet from `from`; `via` is the RPC layer's state of `from`, whose path ids the packet uses. */
  receive(from: number, packet: Uint8Array, via: PeerRpcState, mode: TransferMode, channel: number): void {
    const state = this.peers.get(from);
    if (!state) return;
    switch (packet[0]) {
      case RpcCommand.Fragment:
        this.receiveFragment(from, state, packet, mode, channel);
        return;
      case RpcCommand.Spawn:
        this.receiveSpawn(from, state, packet, via);
        return;
      case RpcCommand.Despawn:
        this.receiveDespawn(from, state, packet, via);
        return;
      case RpcCommand.Ack:
        this.always.receiveAck(state, packet, (pathId) => this.localSpawner(pathId));
        return;
      case RpcCommand.Sync: {
        const spawner = this.spawnerOf(packet, state, via);
        if (spawner) this.always.receive(from, state, spawner, this.lastPathId, packet, this.cursor);
        return;
      }
      case RpcCommand.Delta: {
        const spawner = this.spawnerOf(packet, state, via);
        if (spawner) this.watched.receive(from, state, spawner, packet, this.cursor);
        return;
      }
    }
  }

  private updateVisibility(spawner: AnySpawner, entity: AnyEntity): void {
    entity.synchronizer.visibilityDirty = false;
    const self = this.host.selfId();
    for (const peerId of this.peers.keys()) {
      if (peerId === self) continue;
      const visible = entity.synchronizer.isVisibleTo(peerId);
      if (visible && !entity.spawnedAt.has(peerId)) this.sendSpawn(peerId, spawner, entity);
      else if (!visible && entity.spawnedAt.has(peerId)) {
        entity.spawnedAt.delete(peerId);
        this.paths.deliver(peerId, spawner, encodeDespawn(spawner.pathId, entity.netId), EVENT_MODE, CHANNEL);
      }
    }
  }

  private sendSpawn(peerId: number, spawner: AnySpawner, entity: AnyEntity): void {
    const properties = spawner.layout.spawnProperties;
    const values = this.readAll(entity, properties);
    if (!values) return;
    const packet = encodeSpawn(spawner.pathId, entity.netId, entity.getMultiplayerAuthority(), spawner.encodeData(entity.data), properties, values);
    if (!this.send(peerId, spawner, packet, EVENT_MODE)) return;
    entity.spawnedAt.add(peerId);
    // Watched properties not sent with the spawn follow it, so a late joiner has them before their next change.
    this.watched.sendUnspawned(peerId, spawner, entity);
  }

  readAll(entity: AnyEntity, properties: readonly ResolvedProperty[]): unknown[] | undefined {
    try {
      return properties.map((property) => entity.synchronizer.read(property));
    } catch (error) {
      this.host.reportError(error as Error, { peerId: this.host.selfId(), path: entity.spawner.path });
      return undefined;
    }
  }

  // One too large for every fragment a receiver assembles is not sent, and the game hears why.
  send(peerId: number, spawner: AnySpawner, packet: Uint8Array, mode: TransferMode): boolean {
    if (packet.length <= MAX_REPLICATION_PACKET_BYTES) return this.paths.deliver(peerId, spawner, packet, mode, CHANNEL);
    const state = this.peers.get(peerId);
    if (!state) return false;
    const parts = fragment(state.nextMessageId, packet);
    if (parts.length > MAX_FRAGMENTS) {
      const error = new RtcError(
        'ERR_INVALID_PARAMETER',
        `a replication packet of ${spawner.path} takes ${packet.length} bytes, over the ${MAX_FRAGMENTS} fragments a peer assembles: send less state per entity (or that data by RPC, in parts).`,
      );
      this.host.reportError(error, { peerId, path: spawner.path });
      return false;
    }
    state.nextMessageId++;
    let sent = true;
    for (const part of parts) sent = this.paths.deliver(peerId, spawner, part, mode, CHANNEL) && sent;
    return sent;
  }

  private receiveFragment(from: number, state: PeerReplicationState, packet: Uint8Array, mode: TransferMode, channel: number): void {
    const part = readFragment(packet);
    if (!part) {
      state.dropped.badFragment++;
      return;
    }
    const whole = state.assemble(part);
    if (!whole) return;
    if (whole[0] === RpcCommand.Fragment) {
      state.dropped.badFragment++;
      return;
    }
    this.host.receivePacket(from, whole, mode, channel);
  }

  // The spawner a packet names after its command byte; the cursor is left after the path id.
  private spawnerOf(packet: Uint8Array, state: PeerReplicationState, via: PeerRpcState): AnySpawner | undefined {
    this.cursor.offset = 1;
    const pathId = readId(packet, this.cursor);
    if (pathId < 0) {
      state.dropped.malformed++;
      return undefined;
    }
    this.lastPathId = pathId;
    // An unknown path id is counted by the path cache, among the RPC layer's drops.
    const target = this.paths.resolve(via, pathId);
    if (!target) return undefined;
    if (target instanceof MultiplayerSpawner && this.spawners.has(target as AnySpawner)) return target as AnySpawner;
    state.dropped.notSpawner++;
    return undefined;
  }

  private receiveSpawn(from: number, state: PeerReplicationState, packet: Uint8Array, via: PeerRpcState): void {
    const spawner = this.spawnerOf(packet, state, via);
    if (!spawner) return;
    const header = readSpawnHeader(packet, this.cursor);
    if (!header) {
      state.dropped.malformed++;
      return;
    }
    if (from !== spawner.getMultiplayerAuthority()) {
      state.dropped.notAuthority++;
      return;
    }
    if (spawner.live.has(header.netId)) {
      state.dropped.duplicateSpawn++;
      return;
    }
    if ((spawner.spawnLimit > 0 && spawner.live.size >= spawner.spawnLimit) || state.entities >= this.maxEntitiesPerPeer) {
      state.dropped.spawnLimit++;
      return;
    }
    if (checkArguments(packet, header.dataStart, header.dataEnd, this.codec.limits) !== undefined) {
      state.dropped.malformed++;
      return;
    }
    const properties = spawner.layout.spawnProperties;
    const values = new Array<unknown>(properties.length);
    if (!readValues(packet, this.cursor.offset, packet.length, properties, values)) {
      state.dropped.badValue++;
      return;
    }
    let entity: AnyEntity;
    try {
      const [data] = unpackr.unpack(packet.subarray(header.dataStart, header.dataEnd)) as [unknown];
      entity = spawner.create(header.netId, data, header.authority, false);
    } catch (error) {
      state.dropped.spawnFailed++;
      this.host.reportError(error instanceof Error ? error : new Error(String(error)), { peerId: from, path: spawner.path });
      return;
    }
    for (let index = 0; index < properties.length; index++) entity.synchronizer.apply(properties[index]!.index, values[index]);
    this.origins.set(entity, from);
    state.entities++;
    spawner.highestNetId = Math.max(spawner.highestNetId, header.netId);
    spawner.emit('spawned', entity);
    this.rpcs.onSpawned(spawner, header.netId);
  }

  private receiveDespawn(from: number, state: PeerReplicationState, packet: Uint8Array, via: PeerRpcState): void {
    const spawner = this.spawnerOf(packet, state, via);
    if (!spawner) return;
    const netId = readId(packet, this.cursor);
    if (netId < 1 || this.cursor.offset !== packet.length) {
      state.dropped.malformed++;
      return;
    }
    if (from !== spawner.getMultiplayerAuthority()) {
      state.dropped.notAuthority++;
      return;
    }
    const entity = spawner.live.get(netId);
    if (!entity) {
      state.dropped.unknownEntity++;
      return;
    }
    this.forgetRemote(entity);
    spawner.remove(entity);
  }

  // This side's own spawner under one of its path ids, as an ACK names it.
  private localSpawner(pathId: number): AnySpawner | undefined {
    const target = this.paths.local(pathId);
    return target instanceof MultiplayerSpawner && this.spawners.has(target as AnySpawner) ? (target as AnySpawner) : undefined;
  }

  private forgetRemote(entity: AnyEntity): void {
    const origin = this.origins.get(entity);
    if (origin === undefined) return;
    this.origins.delete(entity);
    const state = this.peers.get(origin);
    if (state) state.entities--;
  }
}
