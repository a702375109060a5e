// Watched (`OnChange`) state: checked every `deltaIntervalMs`, sent reliably once per change as a
// DELTA of the properties that changed, and applied in order after the spawn.
import { TransferMode } from '../mesh/multiplayer-constants.js';
import type { VarintCursor } from '../rpc/varint.js';
import { snapshot } from './multiplayer-synchronizer.js';
import type { PeerReplicationState } from './peer-replication-state.js';
import type { ResolvedProperty } from './replication-config.js';
import type { AnyEntity, AnySpawner, ReplicationContext } from './replication-context.js';
import { encodeDeltaEntry, packDeltas, readId, readValues } from './replication-packets.js';

/** The lane of spawns, despawns and watched changes: reliable and ordered, so a change follows its spawn. */
export const EVENT_MODE = TransferMode.Reliable;

/** Sends and receives the watched properties of every spawner. */
export class WatchedState {
  constructor(private readonly context: ReplicationContext) {}

  /** Sends the changes of the spawner's entities whose check is due, to each of their recipients. */
  send(spawner: AnySpawner, now: number): void {
    const watched = spawner.layout.watchedProperties;
    if (watched.length === 0) return;
    const byPeer = new Map<number, Uint8Array[]>();
    const recipients: number[] = [];
    for (const entity of spawner.live.values()) {
      const synchronizer = entity.synchronizer;
      if (now < synchronizer.nextDeltaAt || !this.context.speaksFor(spawner, entity)) continue;
      synchronizer.nextDeltaAt = now + synchronizer.deltaIntervalMs;
      const entry = this.changes(spawner, entity, watched);
      if (!entry) continue;
      for (const peerId of this.context.recipients(spawner, entity, recipients)) {
        const list = byPeer.get(peerId);
        if (list) list.push(entry);
        else byPeer.set(peerId, [entry]);
      }
    }
    for (const [peerId, entries] of byPeer) for (const packet of packDeltas(spawner.pathId, entries)) this.context.send(peerId, spawner, packet, EVENT_MODE);
  }

  /** Sends one peer the current values of the watched properties not sent with the spawn, right after it. */
  sendUnspawned(peerId: number, spawner: AnySpawner, entity: AnyEntity): void {
    const watched = spawner.layout.watchedProperties;
    let mask = 0;
    const unspawned: ResolvedProperty[] = [];
    for (let index = 0; index < watched.length; index++) {
      if (watched[index]!.spawn) continue;
      mask |= 1 << index;
      unspawned.push(watched[index]!);
    }
    const current = unspawned.length > 0 ? this.context.readAll(entity, unspawned) : undefined;
    if (!current) return;
    for (const packet of packDeltas(spawner.pathId, [encodeDeltaEntry(entity.netId, mask >>> 0, unspawned, current)])) {
      this.context.send(peerId, spawner, packet, EVENT_MODE);
    }
  }

  /** A DELTA from `from`: each entry checked whole before any of its values is applied. */
  receive(from: number, state: PeerReplicationState, spawner: AnySpawner, packet: Uint8Array, cursor: VarintCursor): void {
    const watched = spawner.layout.watchedProperties;
    while (cursor.offset < packet.length) {
      const netId = readId(packet, cursor);
      const mask = readId(packet, cursor);
      const length = readId(packet, cursor);
      const start = cursor.offset;
      const end = start + length;
      if (netId < 1 || mask < 1 || length < 0 || end > packet.length || mask >= 2 ** watched.length) {
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
      if (!this.context.acceptsState(from, spawner, entity)) {
        state.dropped.notAuthority++;
        continue;
      }
      const properties = watched.filter((_, index) => (mask & (1 << index)) !== 0);
      const values = new Array<unknown>(properties.length);
      if (!readValues(packet, start, end, properties, values)) {
        state.dropped.badValue++;
        continue;
      }
      const synchronizer = entity.synchronizer;
      for (let index = 0; index < properties.length; index++) synchronizer.apply(properties[index]!.index, values[index]);
      synchronizer.emit('deltaSynchronized');
    }
  }

  // The DELTA entry of the watched properties that changed since last sent, if any did.
  private changes(spawner: AnySpawner, entity: AnyEntity, watched: readonly ResolvedProperty[]): Uint8Array | undefined {
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
        this.context.reportError(error as Error, this.context.selfId(), spawner);
        continue;
      }
      if (property.codec.equal(value, synchronizer.lastWatched[index])) continue;
      synchronizer.lastWatched[index] = snapshot(value);
      mask |= 1 << index;
      changed.push(property);
      values.push(value);
    }
    return mask === 0 ? undefined : encodeDeltaEntry(entity.netId, mask >>> 0, changed, values);
  }
}
