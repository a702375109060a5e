// The bytes of the replication packets (SPAWN, DESPAWN, SYNC, DELTA, FRAGMENT): how each is
// written, and how each is read back from hostile bytes into checked values or a drop reason.
import { RpcCommand } from '../rpc/codec.js';
import { readVarint, varintSize, writeVarint, type VarintCursor } from '../rpc/varint.js';
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

/** One entity's entry in a SYNC or DELTA: network id, (a DELTA's property mask,) byte length, values. */
export function encodeEntry(netId: number, mask: number | undefined, properties: readonly ResolvedProperty[], values: readonly unknown[]): Uint8Array {
  const length = valuesSize(properties, values);
  const entry = new Uint8Array(varintSize(netId) + (mask === undefined ? 0 : varintSize(mask)) + varintSize(length) + length);
  let offset = writeVarint(entry, 0, netId);
  if (mask !== undefined) offset = writeVarint(entry, offset, mask);
  offset = writeVarint(entry, offset, length);
  writeValues(entry, offset, properties, values);
  return entry;
}

/**
 * Packs entries into SYNC or DELTA packets of at most {@link MAX_REPLICATION_PACKET_BYTES}
 * (an entry larger than that alone gets a packet of its own, which travels as fragments).
 */
export function packEntries(command: RpcCommand.Sync | RpcCommand.Delta, pathId: number, entries: readonly Uint8Array[]): Uint8Array[] {
  const headerBytes = 1 + varintSize(pathId);
  const packets: Uint8Array[] = [];
  let first = 0;
  let bytes = headerBytes;
  const flush = (end: number): void => {
    if (end === first) return;
    const { packet, offset } = writeHeader(command, pathId, bytes - headerBytes);
    let at = offset;
    for (let index = first; index < end; index++) {
      packet.set(entries[index]!, at);
      at += entries[index]!.length;
    }
    packets.push(packet);
    first = end;
    bytes = headerBytes;
  };
  for (let index = 0; index < entries.length; index++) {
    if (bytes + entries[index]!.length > MAX_REPLICATION_PACKET_BYTES) flush(index);
    bytes += entries[index]!.length;
  }
  flush(entries.length);
  return packets;
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
