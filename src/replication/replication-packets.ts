// The bytes of the replication packets (SPAWN, DESPAWN, SYNC, DELTA, FRAGMENT, ACK): how each is
// written, and how each is read back from hostile bytes into checked values or a drop reason.
import { RpcCommand } from '../rpc/codec.js';
import { MAX_VARINT_BYTES, MAX_VARINT_VALUE, readVarint, varintSize, writeVarint, type VarintCursor } from '../rpc/varint.js';
import { INVALID } from './property-codec.js';
import type { ResolvedProperty } from './replication-config.js';

/** The largest replication packet: Godot's WebRTC packet size, under one datagram; larger ones travel as fragments. */
export const MAX_REPLICATION_PACKET_BYTES = 1200;
/** The most fragments one replication packet may take (about 70 KiB), and the most parts a receiver assembles at once per peer. */
export const MAX_FRAGMENTS = 64;
export const MAX_ASSEMBLIES_PER_PEER = 4;

/** The header of every packet addressed to a spawner: command, spawner path id. */
export function writeHeader(command: RpcCommand, pathId: number, extra: number): { packet: Uint8Array; offset: number } {
  const packet = new Uint8Array(1 + varintSize(pathId) + extra);
  packet[0] = command;
  return { packet, offset: writeVarint(packet, 1, pathId) };
}

/** Writes the values of `properties` at `offset`; returns the offset after them. */
export function writeValues(target: Uint8Array, offset: number, properties: readonly ResolvedProperty[], values: readonly unknown[]): number {
  for (let index = 0; index < properties.length; index++) offset = properties[index]!.codec.write(values[index], target, offset);
  return offset;
}

/** The bytes the values of `properties` take. */
export function valuesSize(properties: readonly ResolvedProperty[], values: readonly unknown[]): number {
  let size = 0;
  for (let index = 0; index < properties.length; index++) size += properties[index]!.codec.size(values[index]);
  return size;
}

/**
 * Reads the values of `properties` from `start` to exactly `end` into `into`; false when the
 * bytes end early, hold a value that is not of its type, or run past `end`.
 */
export function readValues(source: Uint8Array, start: number, end: number, properties: readonly ResolvedProperty[], into: unknown[]): boolean {
  const cursor: VarintCursor = { offset: start };
  for (let index = 0; index < properties.length; index++) {
    const value = properties[index]!.codec.read(source, end, cursor);
    if (value === INVALID) return false;
    into[index] = value;
  }
  return cursor.offset === end;
}

/**
 * SPAWN: command, spawner path id, network id, the entity's authority, the byte length of the
 * spawn data, the spawn data (a one-element msgpack array), then the spawn properties' values.
 */
export function encodeSpawn(pathId: number, netId: number, authority: number, data: Uint8Array, properties: readonly ResolvedProperty[], values: readonly unknown[]): Uint8Array {
  const size = varintSize(netId) + varintSize(authority) + varintSize(data.length) + data.length + valuesSize(properties, values);
  const { packet, offset: start } = writeHeader(RpcCommand.Spawn, pathId, size);
  let offset = writeVarint(packet, start, netId);
  offset = writeVarint(packet, offset, authority);
  offset = writeVarint(packet, offset, data.length);
  packet.set(data, offset);
  writeValues(packet, offset + data.length, properties, values);
  return packet;
}

/** DESPAWN: command, spawner path id, network id. */
export function encodeDespawn(pathId: number, netId: number): Uint8Array {
  const { packet, offset } = writeHeader(RpcCommand.Despawn, pathId, varintSize(netId));
  writeVarint(packet, offset, netId);
  return packet;
}

/** One entity's entry in a DELTA: network id, property mask, byte length, values. */
export function encodeDeltaEntry(netId: number, mask: number, properties: readonly ResolvedProperty[], values: readonly unknown[]): Uint8Array {
  const length = valuesSize(properties, values);
  const entry = new Uint8Array(varintSize(netId) + varintSize(mask) + varintSize(length) + length);
  let offset = writeVarint(entry, 0, netId);
  offset = writeVarint(entry, offset, mask);
  offset = writeVarint(entry, offset, length);
  writeValues(entry, offset, properties, values);
  return entry;
}

/** Packs DELTA entries into packets of at most {@link MAX_REPLICATION_PACKET_BYTES} (a larger entry gets one of its own). */
export function packDeltas(pathId: number, entries: readonly Uint8Array[]): Uint8Array[] {
  const headerBytes = 1 + varintSize(pathId);
  return split(entries.map((entry) => entry.length), headerBytes).map(([first, end]) => {
    let size = 0;
    for (let index = first; index < end; index++) size += entries[index]!.length;
    const { packet, offset } = writeHeader(RpcCommand.Delta, pathId, size);
    let at = offset;
    for (let index = first; index < end; index++) {
      packet.set(entries[index]!, at);
      at += entries[index]!.length;
    }
    return packet;
  });
}

/** The most `Always` properties a spawner's entities may have: a SYNC entry names the changed ones by a bit each, beside the id gap. */
export const MAX_ALWAYS_PROPERTIES = 16;

/** What a SYNC says of itself: whose tick, against which baseline, sampled when, and which part of the tick's state. */
export interface SyncHeader {
  /** The sender's tick; every part of one tick's state carries it. */
  tick: number;
  /** The tick of the baseline the entries are relative to, or 0 for none (every entry whole). */
  baseline: number;
  /** The sender's network time when it read the state, in quarter milliseconds, modulo 2^32. */
  time: number;
  part: number;
  parts: number;
}

/** One entity's entry of a SYNC, before packing: its values relative to the baseline. */
export interface SyncEntry {
  readonly netId: number;
  /** Bit i: the i-th `Always` property follows (changed since the baseline). */
  readonly mask: number;
  /** The changed values, written. */
  readonly body: Uint8Array;
}

/** The most parts one tick's state for one peer may take. */
export const MAX_SYNC_PARTS = 255;

/**
 * SYNC: command, spawner path id, tick, tick − baseline (0: none), time, part, parts, then
 * entries in ascending network id, each `(gap × 2^n + mask)` as one varint (gap: the id less the
 * previous entry's, the first's from 0; n: the spawner's `Always` property count) and the masked
 * values. An entry with mask 0 only moves the id on (a gap too large for one entry).
 */
export function packSync(pathId: number, header: Omit<SyncHeader, 'part' | 'parts'>, entries: readonly SyncEntry[], bits: number): Uint8Array[] {
  const scale = 2 ** bits;
  const maxGap = Math.floor(MAX_VARINT_VALUE / scale);
  // An entry's size with its gap from the previous entry; a part's first entry is re-based on 0 when written.
  const sizes = new Array<number>(entries.length);
  let previous = 0;
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    sizes[index] = headSize(entry.netId - previous, entry.mask, scale, maxGap) + entry.body.length;
    previous = entry.netId;
  }
  // Room for the largest part numbers and a re-based first entry.
  const back = header.baseline === 0 ? 0 : header.tick - header.baseline;
  const fixed = varintSize(header.tick) + varintSize(back) + varintSize(header.time);
  const headerBytes = 1 + varintSize(pathId) + fixed + 2 + 2 * MAX_VARINT_BYTES;
  const ranges = split(sizes, headerBytes);
  return ranges.map(([first, end], part) => {
    let size = fixed + varintSize(part) + varintSize(ranges.length);
    for (let index = first; index < end; index++) {
      const entry = entries[index]!;
      size += index === first ? headSize(entry.netId, entry.mask, scale, maxGap) + entry.body.length : sizes[index]!;
    }
    const { packet, offset: start } = writeHeader(RpcCommand.Sync, pathId, size);
    let offset = writeVarint(packet, start, header.tick);
    offset = writeVarint(packet, offset, back);
    offset = writeVarint(packet, offset, header.time);
    offset = writeVarint(packet, offset, part);
    offset = writeVarint(packet, offset, ranges.length);
    let last = 0;
    for (let index = first; index < end; index++) {
      const entry = entries[index]!;
      offset = writeHead(packet, offset, entry.netId - last, entry.mask, scale, maxGap);
      packet.set(entry.body, offset);
      offset += entry.body.length;
      last = entry.netId;
    }
    return packet;
  });
}

// The bytes of an entry's head: skips for a gap too large for one varint, then gap and mask.
function headSize(gap: number, mask: number, scale: number, maxGap: number): number {
  let size = 0;
  for (; gap > maxGap; gap -= maxGap) size += varintSize(maxGap * scale);
  return size + varintSize(gap * scale + mask);
}

function writeHead(target: Uint8Array, offset: number, gap: number, mask: number, scale: number, maxGap: number): number {
  for (; gap > maxGap; gap -= maxGap) offset = writeVarint(target, offset, maxGap * scale);
  return writeVarint(target, offset, gap * scale + mask);
}

/** Reads a SYNC's header after the path id; undefined for bytes that do not hold one. */
export function readSyncHeader(source: Uint8Array, cursor: VarintCursor): SyncHeader | undefined {
  const tick = readId(source, cursor);
  const back = readId(source, cursor);
  const time = readId(source, cursor);
  const part = readId(source, cursor);
  const parts = readId(source, cursor);
  if (tick < 1 || back < 0 || back > tick - 1 || time < 0 || part < 0 || parts < 1 || parts > MAX_SYNC_PARTS || part >= parts) return undefined;
  return { tick, baseline: back === 0 ? 0 : tick - back, time, part, parts };
}

/** ACK: command, then (spawner path id, tick) pairs: the latest tick of each spawner's state received whole. */
export function encodeAck(acks: readonly (readonly [number, number])[]): Uint8Array {
  let size = 1;
  for (const [pathId, tick] of acks) size += varintSize(pathId) + varintSize(tick);
  const packet = new Uint8Array(size);
  packet[0] = RpcCommand.Ack;
  let offset = 1;
  for (const [pathId, tick] of acks) offset = writeVarint(packet, writeVarint(packet, offset, pathId), tick);
  return packet;
}

/** Reads an ACK's pairs; undefined for bytes that do not hold them. */
export function readAck(source: Uint8Array): Array<[number, number]> | undefined {
  const cursor: VarintCursor = { offset: 1 };
  const acks: Array<[number, number]> = [];
  while (cursor.offset < source.length) {
    const pathId = readId(source, cursor);
    const tick = readId(source, cursor);
    if (pathId < 0 || tick < 1) return undefined;
    acks.push([pathId, tick]);
  }
  return acks.length > 0 ? acks : undefined;
}

// Splits items of these sizes into runs that each fit a packet with `headerBytes` in front.
function split(sizes: readonly number[], headerBytes: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let first = 0;
  let bytes = headerBytes;
  for (let index = 0; index < sizes.length; index++) {
    if (index > first && bytes + sizes[index]! > MAX_REPLICATION_PACKET_BYTES) {
      ranges.push([first, index]);
      first = index;
      bytes = headerBytes;
    }
    bytes += sizes[index]!;
  }
  if (first < sizes.length) ranges.push([first, sizes.length]);
  return ranges;
}

/** FRAGMENT: command, message id, part index, part count, then the part's bytes. */
export function fragment(messageId: number, packet: Uint8Array): Uint8Array[] {
  const headerBytes = 1 + varintSize(messageId) + 2 * varintSize(MAX_FRAGMENTS);
  const room = MAX_REPLICATION_PACKET_BYTES - headerBytes;
  const count = Math.ceil(packet.length / room);
  const parts: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const piece = packet.subarray(index * room, (index + 1) * room);
    const part = new Uint8Array(1 + varintSize(messageId) + varintSize(index) + varintSize(count) + piece.length);
    part[0] = RpcCommand.Fragment;
    let offset = writeVarint(part, 1, messageId);
    offset = writeVarint(part, offset, index);
    offset = writeVarint(part, offset, count);
    part.set(piece, offset);
    parts.push(part);
  }
  return parts;
}

/** A decoded SPAWN, its spawn data and values still as byte ranges. */
export interface SpawnHeader {
  netId: number;
  authority: number;
  dataStart: number;
  dataEnd: number;
}

/** Reads a varint at the cursor; -1 for bytes that end early or break the varint rules. */
export function readId(source: Uint8Array, cursor: VarintCursor): number {
  const value = readVarint(source, source.length, cursor);
  return value < 0 ? -1 : value;
}

/** Reads a SPAWN's header after the path id; undefined for bytes that do not hold one. */
export function readSpawnHeader(source: Uint8Array, cursor: VarintCursor): SpawnHeader | undefined {
  const netId = readId(source, cursor);
  const authority = readId(source, cursor);
  const dataLength = readId(source, cursor);
  if (netId < 1 || authority < 1 || dataLength < 0) return undefined;
  const dataStart = cursor.offset;
  const dataEnd = dataStart + dataLength;
  if (dataEnd > source.length) return undefined;
  cursor.offset = dataEnd;
  return { netId, authority, dataStart, dataEnd };
}

/** A decoded FRAGMENT. */
export interface FragmentPart {
  messageId: number;
  index: number;
  count: number;
  bytes: Uint8Array;
}

/** Reads a FRAGMENT; undefined for bytes that do not hold one within {@link MAX_FRAGMENTS}. */
export function readFragment(source: Uint8Array): FragmentPart | undefined {
  const cursor: VarintCursor = { offset: 1 };
  const messageId = readId(source, cursor);
  const index = readId(source, cursor);
  const count = readId(source, cursor);
  if (messageId < 0 || index < 0 || count < 2 || count > MAX_FRAGMENTS || index >= count) return undefined;
  const bytes = source.subarray(cursor.offset);
  if (bytes.length === 0) return undefined;
  return { messageId, index, count, bytes };
}
