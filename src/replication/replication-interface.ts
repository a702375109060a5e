// The replication interface (Godot's SceneReplicationInterface): sends each spawner's spawns and
// despawns to the peers that see its entities, their state from each entity's authority, and
// applies what peers send after checking every byte and who sent it.
import { TARGET_PEER_SERVER, TransferMode } from '../mesh/transfer.js';
import { RpcCommand, type RpcCodec } from '../rpc/codec.js';
import { checkArguments } from '../rpc/msgpack-check.js';
import { unpackr } from '../rpc/msgpack.js';
import type { PathCache } from '../rpc/path-cache.js';
import type { PeerRpcState } from '../rpc/peer-rpc-state.js';
import type { RelayHost } from '../rpc/relay.js';
import type { RpcInterface } from '../rpc/rpc-interface.js';
import type { VarintCursor } from '../rpc/varint.js';
import { RtcError } from '../transport/errors.js';
import type { Entity } from './entity.js';
import { snapshot } from './multiplayer-synchronizer.js';
import { MultiplayerSpawner, type SpawnerHost } from './multiplayer-spawner.js';
import { PeerReplicationState, type ReplicationDropReason } from './peer-replication-state.js';
import type { ResolvedProperty } from './replication-config.js';
import {
  MAX_FRAGMENTS,
  MAX_REPLICATION_PACKET_BYTES,
  encodeDespawn,
  encodeEntry,
  encodeSpawn,
  fragment,
  packEntries,
  readFragment,
  readId,
  readSpawnHeader,
  readValues,
} from './replication-packets.js';

type AnySpawner = MultiplayerSpawner<object, unknown, string>;
type AnyEntity = Entity<object, string>;

/** What replication needs of the multiplayer API around it. */
export interface ReplicationHost extends RelayHost {
  /** Runs a packet put back together from fragments as if it had arrived whole. */
  receivePacket(from: number, packet: Uint8Array, mode: TransferMode, channel: number): void;
}

// Spawns, despawns and watched changes share the reliable channel, so each arrives in order
// after the spawn; always-mode state takes the unreliable-ordered one, where the latest wins.
const EVENT_MODE = TransferMode.Reliable;
const STATE_MODE = TransferMode.UnreliableOrdered;
const CHANNEL = 0;

/** Runs every spawner of one multiplayer API. */
export class ReplicationInterface implements SpawnerHost {
  private readonly spawners = new Set<AnySpawner>();
  private readonly peers = new Map<number, PeerReplicationState>();
  /** The peer each remote entity came from, whose departure takes it away. */
  private readonly origins = new Map<AnyEntity, number>();
  private peersChanged = false;
  private readonly cursor: VarintCursor = { offset: 0 };

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
    for (const spawner of this.spawners) {
      if (spawner.isMultiplayerAuthority()) {
        for (const entity of spawner.live.values()) {
          const synchronizer = entity.synchronizer;
          if (this.peersChanged || synchronizer.visibilityDirty || synchronizer.hasFilters) this.updateVisibility(spawner, entity);
        }
      }
      this.sendState(spawner, now);
    }
    this.peersChanged = false;
  }

  /**
   * A replication packet from `sender`, which arrived from `from` (the sender, or the server
   * relaying it); `via` is the RPC layer's state of `from`, whose path ids the packet uses.
   */
  receive(from: number, sender: number, packet: Uint8Array, via: PeerRpcState, mode: TransferMode, channel: number): void {
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
      case RpcCommand.Sync:
      case RpcCommand.Delta:
        this.receiveState(from, sender, state, packet, via);
        return;
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
    const watched = spawner.layout.watchedProperties;
    let mask = 0;
    const unspawned: ResolvedProperty[] = [];
    for (let index = 0; index < watched.length; index++) {
      if (watched[index]!.spawn) continue;
      mask |= 1 << index;
      unspawned.push(watched[index]!);
    }
    const current = unspawned.length > 0 ? this.readAll(entity, unspawned) : undefined;
    if (current) {
      for (const delta of packEntries(RpcCommand.Delta, spawner.pathId, [encodeEntry(entity.netId, mask >>> 0, unspawned, current)])) this.send(peerId, spawner, delta, EVENT_MODE);
    }
  }

  // Always-mode state and watched changes of the entities this side is the authority of.
  private sendState(spawner: AnySpawner, now: number): void {
    const { alwaysProperties, watchedProperties } = spawner.layout;
    if (alwaysProperties.length === 0 && watchedProperties.length === 0) return;
    const self = this.host.selfId();
    const syncs = new Map<number, Uint8Array[]>();
    const deltas = new Map<number, Uint8Array[]>();
    for (const entity of spawner.live.values()) {
      if (entity.getMultiplayerAuthority() !== self) continue;
      const synchronizer = entity.synchronizer;
      let recipients: number[] | undefined;
      if (alwaysProperties.length > 0 && now >= synchronizer.nextSyncAt) {
        synchronizer.nextSyncAt = now + synchronizer.replicationIntervalMs;
        const values = this.readAll(entity, alwaysProperties);
        recipients = this.recipients(spawner, entity);
        if (values && recipients.length > 0) add(syncs, recipients, encodeEntry(entity.netId, undefined, alwaysProperties, values));
      }
      if (watchedProperties.length > 0 && now >= synchronizer.nextDeltaAt) {
        synchronizer.nextDeltaAt = now + synchronizer.deltaIntervalMs;
        const entry = this.watchedChanges(entity, watchedProperties);
        recipients ??= this.recipients(spawner, entity);
        if (entry && recipients.length > 0) add(deltas, recipients, entry);
      }
    }
    for (const [peerId, entries] of syncs) for (const packet of packEntries(RpcCommand.Sync, spawner.pathId, entries)) this.send(peerId, spawner, packet, STATE_MODE);
    for (const [peerId, entries] of deltas) for (const packet of packEntries(RpcCommand.Delta, spawner.pathId, entries)) this.send(peerId, spawner, packet, EVENT_MODE);
  }

  // The DELTA entry of the watched properties that changed since last sent, if any did.
  private watchedChanges(entity: AnyEntity, watched: readonly ResolvedProperty[]): Uint8Array | undefined {
    const synchronizer = entity.synchronizer;
    let mask = 0;
    const changed: ResolvedProperty[] = [];
    const values: unknown[] = [];
    for (let index = 0; index < watched.length; index++) {
      const property = watched[index]!;
      let value: unknown;
      try {
        value = synchronizer.read(property);
      } catch (error) {
        this.host.reportError(error as Error, { peerId: this.host.selfId(), path: entity.spawner.path });
        continue;
      }
      if (property.codec.equal(value, synchronizer.lastWatched[index])) continue;
      synchronizer.lastWatched[index] = snapshot(value);
      mask |= 1 << index;
      changed.push(property);
      values.push(value);
    }
    return mask === 0 ? undefined : encodeEntry(entity.netId, mask >>> 0, changed, values);
  }

  /**
   * Who gets an entity's state from this side: the peers it was spawned at (the spawner's
   * authority); the server, which forwards it (a client of the server topology); every peer that
   * sees it (a mesh peer that owns an entity of another's spawner).
   */
  private recipients(spawner: AnySpawner, entity: AnyEntity): number[] {
    if (spawner.isMultiplayerAuthority()) return [...entity.spawnedAt];
    if (this.isClientOfServer()) return this.peers.has(TARGET_PEER_SERVER) ? [TARGET_PEER_SERVER] : [];
    return [...this.peers.keys()].filter((peerId) => entity.synchronizer.isVisibleTo(peerId));
  }

  // The values of `properties`, checked; undefined (reported) where the object's own getter gives a bad one.
  private readAll(entity: AnyEntity, properties: readonly ResolvedProperty[]): unknown[] | undefined {
    try {
      return properties.map((property) => entity.synchronizer.read(property));
    } catch (error) {
      this.host.reportError(error as Error, { peerId: this.host.selfId(), path: entity.spawner.path });
      return undefined;
    }
  }

  // Sends a replication packet, in fragments where it is over one packet's size; one too large
  // for every fragment a receiver assembles is not sent, and the game hears why.
  private send(peerId: number, spawner: AnySpawner, packet: Uint8Array, mode: TransferMode): boolean {
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

  // A SYNC or DELTA: each entry is checked whole before any of its values is applied.
  private receiveState(from: number, sender: number, state: PeerReplicationState, packet: Uint8Array, via: PeerRpcState): void {
    const spawner = this.spawnerOf(packet, state, via);
    if (!spawner) return;
    const delta = packet[0] === RpcCommand.Delta;
    const { alwaysProperties, watchedProperties } = spawner.layout;
    const cursor = this.cursor;
    const forwards = new Map<number, Uint8Array[]>();
    while (cursor.offset < packet.length) {
      const entryStart = cursor.offset;
      const netId = readId(packet, cursor);
      const mask = delta ? readId(packet, cursor) : 0;
      const length = readId(packet, cursor);
      const start = cursor.offset;
      const end = start + length;
      if (netId < 1 || mask < 0 || length < 0 || end > packet.length || (delta && (mask === 0 || mask >= 2 ** watchedProperties.length))) {
        state.dropped.malformed++;
        return;
      }
      cursor.offset = end;
      const entity = spawner.live.get(netId);
      if (!entity) {
        if (netId > spawner.highestNetId) state.dropped.stateBeforeSpawn++;
        else state.dropped.unknownEntity++;
        continue;
      }
      if (sender !== entity.getMultiplayerAuthority()) {
        state.dropped.notAuthority++;
        continue;
      }
      const properties = delta ? watchedProperties.filter((_, index) => (mask & (1 << index)) !== 0) : alwaysProperties;
      const values = new Array<unknown>(properties.length);
      if (!readValues(packet, start, end, properties, values)) {
        state.dropped.badValue++;
        continue;
      }
      const synchronizer = entity.synchronizer;
      for (let index = 0; index < properties.length; index++) synchronizer.apply(properties[index]!.index, values[index]);
      synchronizer.emit(delta ? 'deltaSynchronized' : 'synchronized');
      // The server passes a client's state on to the others that see the entity, stamped with the client's id.
      if (from === sender && this.host.isServer() && this.host.isRelayTopology() && spawner.isMultiplayerAuthority()) {
        const recipients = [...entity.spawnedAt].filter((peerId) => peerId !== sender);
        if (recipients.length > 0) add(forwards, recipients, packet.slice(entryStart, end));
      }
    }
    const command = delta ? RpcCommand.Delta : RpcCommand.Sync;
    for (const [peerId, entries] of forwards) {
      for (const packed of packEntries(command, spawner.pathId, entries)) {
        this.send(peerId, spawner, this.codec.encodeRelay(sender, packed), delta ? EVENT_MODE : STATE_MODE);
      }
    }
  }

  private forgetRemote(entity: AnyEntity): void {
    const origin = this.origins.get(entity);
    if (origin === undefined) return;
    this.origins.delete(entity);
    const state = this.peers.get(origin);
    if (state) state.entities--;
  }
}

function add(lists: Map<number, Uint8Array[]>, recipients: readonly number[], entry: Uint8Array): void {
  for (const peerId of recipients) {
    const list = lists.get(peerId);
    if (list) list.push(entry);
    else lists.set(peerId, [entry]);
  }
}
