// `Always` state: each tick, a snapshot per peer and spawner, sent as the changes against the
// newest snapshot the peer acknowledged (whole where it has none), over the unreliable-ordered
// lane; receivers rebuild the snapshot, apply it, keep it as a baseline, and acknowledge it.
import { TransferMode } from '../mesh/multiplayer-constants.js';
import type { VarintCursor } from '../rpc/varint.js';
import { RtcError } from '../transport/errors.js';
import type { Snapshot } from './baselines.js';
import type { PeerReplicationState } from './peer-replication-state.js';
import type { AnyEntity, AnySpawner, ReplicationContext } from './replication-context.js';
import { INVALID } from './property-codec.js';
import { MAX_SYNC_PARTS, type SyncEntry, encodeAck, packSync, readAck, readId, readSyncHeader, valuesSize, writeValues } from './replication-packets.js';

/** The lane of `Always` state: unreliable, and an older packet than one delivered is dropped. */
export const STATE_MODE = TransferMode.UnreliableOrdered;
const ACK_MODE = TransferMode.Unreliable;
const CHANNEL = 0;
// Network time on the wire: quarter milliseconds, modulo 2^32 (a wrap every 12 days).
const TIME_UNITS_PER_MS = 4;
const TIME_RANGE = 2 ** 32;

/** Sends and receives the `Always` state of every spawner. */
export class AlwaysState {
  private tick = 0;

  constructor(private readonly context: ReplicationContext) {}

  /** Starts a new tick: every snapshot sent in this `poll()` carries it. */
  beginTick(): void {
    this.tick++;
  }

  /**
   * Sends the spawner's state that is due: per recipient, the entities this side speaks for
   * that changed against the peer's baseline, and keeps the snapshot as a future baseline.
   */
  send(spawner: AnySpawner, now: number): void {
    const always = spawner.layout.alwaysProperties;
    const due = new Map<AnyEntity, readonly unknown[]>();
    for (const entity of spawner.live.values()) {
      const synchronizer = entity.synchronizer;
      if (now < synchronizer.nextSyncAt || !this.context.speaksFor(spawner, entity)) continue;
      synchronizer.nextSyncAt = now + synchronizer.replicationIntervalMs;
      const values = this.current(entity, always);
      if (values) due.set(entity, values);
    }
    // Most polls of a spawner with an interval have nothing due: its recipients are listed only when something is.
    if (due.size === 0) return;
    const byPeer = new Map<number, AnyEntity[]>();
    const recipients: number[] = [];
    for (const entity of spawner.live.values()) {
      if (!this.context.speaksFor(spawner, entity)) continue;
      for (const peerId of this.context.recipients(spawner, entity, recipients)) {
        const list = byPeer.get(peerId);
        if (list) list.push(entity);
        else byPeer.set(peerId, [entity]);
      }
    }
    const time = ((Math.round(this.context.networkTime() * TIME_UNITS_PER_MS) % TIME_RANGE) + TIME_RANGE) % TIME_RANGE;
    // Peers whose baselines agree get the same entry: encode it once.
    const encoded = new Map<AnyEntity, { previous: readonly unknown[] | undefined; entry: SyncEntry | undefined }>();
    for (const [peerId, entities] of byPeer) {
      const state = this.context.peers.get(peerId);
      if (state) this.sendTo(peerId, state, spawner, entities, due, time, encoded);
    }
  }

  /**
   * The entity's `Always` values, checked: the array read last time when none changed since (so
   * an idle entity allocates nothing, and peers' baselines share it), else a new one.
   */
  private current(entity: AnyEntity, always: AnySpawner['layout']['alwaysProperties']): readonly unknown[] | undefined {
    const synchronizer = entity.synchronizer;
    const last = synchronizer.lastAlways;
    if (last) {
      let same = true;
      for (let index = 0; index < always.length && same; index++) {
        const property = always[index]!;
        same = synchronizer.held[property.index] === true && typeof last[index] !== 'object' && property.codec.equal(synchronizer.values[property.index], last[index]);
      }
      if (same) return last;
    }
    const values = this.context.readAll(entity, always);
    if (values) synchronizer.lastAlways = values;
    return values;
  }

  /** A SYNC from `from`: each entry rebuilt against its baseline, checked, and applied. */
  receive(from: number, state: PeerReplicationState, spawner: AnySpawner, remotePathId: number, packet: Uint8Array, cursor: VarintCursor): void {
    const header = readSyncHeader(packet, cursor);
    if (!header) {
      state.dropped.malformed++;
      return;
    }
    const stream = state.stream(spawner, remotePathId);
    const now = this.context.networkTime();
    const time = unwrapTime(header.time, now);
    const reception = stream.reception(header.tick, header.parts);
    if (!reception) return;
    const base = stream.baseline(header.baseline);
    if (!base) {
      state.dropped.missingBaseline++;
      reception.whole = false;
      stream.finishPart(header.tick, header.part, header.baseline, reception, () => false);
      return;
    }
    const always = spawner.layout.alwaysProperties;
    const scale = 2 ** always.length;
    const full = scale - 1;
    let netId = 0;
    let applied = false;
    while (cursor.offset < packet.length) {
      const head = readId(packet, cursor);
      const gap = Math.floor(head / scale);
      const mask = head % scale;
      if (head < 0 || gap === 0) {
        state.dropped.malformed++;
        reception.whole = false;
        return;
      }
      netId += gap;
      if (mask === 0) continue;
      const baseValues = base.get(netId);
      const values = baseValues ? [...baseValues] : new Array<unknown>(always.length);
      for (let index = 0; index < always.length; index++) {
        if ((mask & (1 << index)) === 0) continue;
        const value = always[index]!.codec.read(packet, packet.length, cursor);
        if (value === INVALID) {
          state.dropped.badValue++;
          reception.whole = false;
          return;
        }
        values[index] = value;
      }
      if (mask !== full && !baseValues) {
        state.dropped.missingBaseline++;
        reception.whole = false;
        continue;
      }
      reception.entries.set(netId, values);
      const entity = spawner.live.get(netId);
      if (!entity) {
        if (netId > spawner.highestNetId) state.dropped.stateBeforeSpawn++;
        else state.dropped.unknownEntity++;
        reception.whole = false;
        continue;
      }
      if (!this.context.acceptsState(from, spawner, entity)) {
        state.dropped.notAuthority++;
        reception.whole = false;
        continue;
      }
      if (entity.synchronizer.receiveState(from, header.tick, time, values)) {
        applied = true;
        entity.synchronizer.emit('synchronized');
      }
    }
    // Only state this side accepted times the interpolation delay: a peer without authority cannot skew it.
    if (applied) stream.time(header.tick, time, now);
    stream.finishPart(header.tick, header.part, header.baseline, reception, (id) => spawner.live.has(id));
  }

  /** Sends each peer one ACK naming, per spawner, the newest tick it received whole since the last. */
  acknowledge(send: (peerId: number, packet: Uint8Array, mode: TransferMode, channel: number) => void): void {
    for (const [peerId, state] of this.context.peers) {
      let acks: Array<[number, number]> | undefined;
      for (const [, stream] of state.streams()) {
        const tick = stream.takeAcknowledgement();
        if (tick > 0) (acks ??= []).push([stream.remotePathId, tick]);
      }
      if (acks) send(peerId, encodeAck(acks), ACK_MODE, CHANNEL);
    }
  }

  /** An ACK from `from`: its baselines move on. `spawnerOf` finds this side's spawner by its own path id. */
  receiveAck(state: PeerReplicationState, packet: Uint8Array, spawnerOf: (pathId: number) => AnySpawner | undefined): void {
    const acks = readAck(packet);
    if (!acks) {
      state.dropped.malformed++;
      return;
    }
    for (const [pathId, tick] of acks) {
      const spawner = spawnerOf(pathId);
      if (spawner) state.baselines(spawner).acknowledge(tick);
    }
  }

  // One peer's snapshot of one spawner: the changes against its baseline, sent, and kept.
  private sendTo(
    peerId: number,
    state: PeerReplicationState,
    spawner: AnySpawner,
    entities: AnyEntity[],
    due: Map<AnyEntity, readonly unknown[]>,
    time: number,
    encoded: Map<AnyEntity, { previous: readonly unknown[] | undefined; entry: SyncEntry | undefined }>,
  ): void {
    const always = spawner.layout.alwaysProperties;
    const baselines = state.baselines(spawner);
    const base = baselines.baseline();
    if (!isAscending(entities)) entities.sort((a, b) => a.netId - b.netId);
    const entries: SyncEntry[] = [];
    const netIds: number[] = [];
    const values: (readonly unknown[])[] = [];
    let cursor = 0;
    for (const entity of entities) {
      while (base && cursor < base.netIds.length && base.netIds[cursor]! < entity.netId) cursor++;
      const previous = base && base.netIds[cursor] === entity.netId ? base.values[cursor] : undefined;
      const current = due.get(entity);
      if (!current) {
        if (previous) {
          netIds.push(entity.netId);
          values.push(previous);
        }
        continue;
      }
      netIds.push(entity.netId);
      values.push(current);
      // The very values of the baseline (an idle entity reuses its array): nothing changed.
      if (current === previous) continue;
      let cached = encoded.get(entity);
      if (!cached || cached.previous !== previous) {
        cached = { previous, entry: encodeChanges(entity.netId, always, current, previous) };
        encoded.set(entity, cached);
      }
      if (cached.entry) entries.push(cached.entry);
    }
    if (entries.length === 0) return;
    const snapshot: Snapshot = { tick: this.tick, netIds, values };
    const packets = packSync(spawner.pathId, { tick: this.tick, baseline: base?.tick ?? 0, time }, entries, always.length);
    if (packets.length > MAX_SYNC_PARTS) {
      const error = new RtcError('ERR_INVALID_PARAMETER', `the state of ${spawner.path} for peer ${peerId} takes ${packets.length} packets, over ${MAX_SYNC_PARTS}: replicate fewer entities or smaller state.`);
      this.context.reportError(error, peerId, spawner);
      return;
    }
    for (const packet of packets) this.context.send(peerId, spawner, packet, STATE_MODE);
    baselines.add(snapshot);
  }
}

// The entry of the properties that differ from `previous` (all of them without one); undefined when none does.
function encodeChanges(netId: number, always: AnySpawner['layout']['alwaysProperties'], current: readonly unknown[], previous: readonly unknown[] | undefined): SyncEntry | undefined {
  let mask = 0;
  const changed = [];
  const changedValues = [];
  for (let index = 0; index < always.length; index++) {
    if (previous && always[index]!.codec.equal(current[index], previous[index])) continue;
    mask |= 1 << index;
    changed.push(always[index]!);
    changedValues.push(current[index]);
  }
  if (mask === 0) return undefined;
  const body = new Uint8Array(valuesSize(changed, changedValues));
  writeValues(body, 0, changed, changedValues);
  return { netId, mask: mask >>> 0, body };
}

function isAscending(entities: readonly AnyEntity[]): boolean {
  for (let index = 1; index < entities.length; index++) if (entities[index]!.netId < entities[index - 1]!.netId) return false;
  return true;
}

// The network time a wire time stands for: the one of its 2^32 aliases nearest `now`.
function unwrapTime(units: number, now: number): number {
  const nowUnits = now * TIME_UNITS_PER_MS;
  const offset = ((((units - nowUnits) % TIME_RANGE) + TIME_RANGE * 1.5) % TIME_RANGE) - TIME_RANGE / 2;
  return (nowUnits + offset) / TIME_UNITS_PER_MS;
}
