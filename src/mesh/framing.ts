import { TransferMode } from './multiplayer-constants.js';

/**
 * The framing of a message on a user channel (docs/wire-format.md):
 *   message := header record+
 *   header  := (nothing)                      on a Reliable channel
 *            | sentAt:u32be                   on an Unreliable channel
 *            | sentAt:u32be sequence:u32be    on an UnreliableOrdered channel
 *   record  := length:varint bytes[length]    one packet, 0 bytes or more
 * `sentAt` is the sender's clock in milliseconds, modulo 2^32; `sequence` counts messages.
 */

/** Payload of one unreliable message: what fits one datagram, so a loss costs only its own batch. */
export const SCTP_PAYLOAD_BUDGET = 1150;
/** Payload of one reliable batch: large enough to amortise a message, small enough not to stall a channel. */
export const RELIABLE_BATCH_BUDGET = 16384;
/** A record length is at most three varint bytes: 2^21 - 1 exceeds any message size. */
const MAX_VARINT_BYTES = 3;
/** The most framing a single packet costs: the largest header and length. */
export const MAX_FRAMING_BYTES = 8 + MAX_VARINT_BYTES;
const VARINT_MORE = 0x80;
const VARINT_BITS = 0x7f;

/** Header bytes of a message in this mode. */
export function headerSize(mode: TransferMode): number {
  return mode === TransferMode.Reliable ? 0 : mode === TransferMode.Unreliable ? 4 : 8;
}

/** Bytes of a record's length prefix. */
export function lengthPrefixSize(length: number): number {
  return length < 0x80 ? 1 : length < 0x4000 ? 2 : 3;
}

/** Bytes of a record holding `length` payload bytes. */
export function recordSize(length: number): number {
  return lengthPrefixSize(length) + length;
}

/** Node's V8 looks a typed array's `set` up through the generic property load at every call: once here instead. */
const copyBytes = Uint8Array.prototype.set;

/** Writes a record (length prefix and packet) at `offset`; returns the offset after it. */
export function writeRecord(target: Uint8Array, offset: number, packet: Uint8Array): number {
  // `length`, not byteLength: the same for a Uint8Array, and a field read in Node's V8 (see putPacket).
  const size = packet.length;
  let length = size;
  while (length >= VARINT_MORE) {
    target[offset++] = (length & VARINT_BITS) | VARINT_MORE;
    length >>>= 7;
  }
  target[offset++] = length;
  copyBytes.call(target, packet, offset);
  return offset + size;
}

/** The length the last `readPrefix` read: a second result, where an object per record would be an allocation. */
let prefixLength = 0;

/**
 * Reads the length prefix of the record at `offset` into `prefixLength`; returns where the
 * record's bytes start, or -1 when the prefix runs past `end` or past its longest form.
 */
function readPrefix(records: Uint8Array, offset: number, end: number): number {
  let length = 0;
  let shift = 0;
  let byte: number;
  do {
    if (offset >= end || shift >= 7 * MAX_VARINT_BYTES) return -1;
    byte = records[offset++]!;
    length |= (byte & VARINT_BITS) << shift;
    shift += 7;
  } while (byte & VARINT_MORE);
  prefixLength = length;
  return offset;
}

/** Where a record this side wrote at `offset` ends. */
export function recordEnd(records: Uint8Array, offset: number): number {
  const start = readPrefix(records, offset, records.length);
  return start + prefixLength;
}

/** Writes a message's header for `mode` at the start of `message` (nothing on a Reliable channel). */
export function writeHeader(message: Uint8Array, mode: TransferMode, sentAt: number, sequence: number): void {
  if (mode === TransferMode.Reliable) return;
  // Byte by byte: a DataView per message would be the flush's one allocation.
  writeUint32(message, 0, sentAt);
  if (mode === TransferMode.UnreliableOrdered) writeUint32(message, 4, sequence);
}

function writeUint32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value >>> 24;
  target[offset + 1] = value >>> 16;
  target[offset + 2] = value >>> 8;
  target[offset + 3] = value;
}

/** The header of a received message. */
export interface MessageHeader {
  sentAt: number;
  sequence: number;
}

/** Reads a message's header; false when the message is too short for it. */
export function readHeader(mode: TransferMode, message: Uint8Array, into: MessageHeader): boolean {
  const size = headerSize(mode);
  if (message.length < size) return false;
  if (size === 0) return true;
  // Byte by byte: a DataView per message was the read's one allocation beside its records.
  into.sentAt = readUint32(message, 0);
  into.sequence = size === 8 ? readUint32(message, 4) : 0;
  return true;
}

function readUint32(source: Uint8Array, offset: number): number {
  return ((source[offset]! << 24) | (source[offset + 1]! << 16) | (source[offset + 2]! << 8) | source[offset + 3]!) >>> 0;
}

const NO_BYTES = new Uint8Array(0);

/**
 * Reads a received message's records as views on its bytes (no copies), one at a time, once
 * `start` has checked that they tile it. One reader serves message after message, so reading a
 * message allocates nothing but the views: no array of them, grown as it fills, per message.
 */
export class RecordReader {
  private bytes: Uint8Array = NO_BYTES;
  private buffer: ArrayBufferLike = NO_BYTES.buffer;
  private base = 0;
  private at = 0;
  private left = 0;

  /** Records not read yet. */
  get remaining(): number {
    return this.left;
  }

  /** Where the next record starts, counted from the start of the message. */
  get position(): number {
    return this.at;
  }

  /**
   * Starts on `message`'s records from `offset`: returns how many there are, or 0 (and none to
   * read) when they do not tile the message exactly or there are none.
   */
  start(message: Uint8Array, offset: number): number {
    const end = message.length;
    let at = offset;
    let count = 0;
    while (at < end) {
      const begin = readPrefix(message, at, end);
      if (begin < 0 || prefixLength > end - begin) return this.stop();
      at = begin + prefixLength;
      count++;
    }
    if (count === 0) return this.stop();
    this.bytes = message;
    this.buffer = message.buffer;
    this.base = message.byteOffset;
    this.at = offset;
    this.left = count;
    return count;
  }

  /** The next record, while `remaining` is above 0; after the last, the reader lets go of the message. */
  next(): Uint8Array {
    const at = readPrefix(this.bytes, this.at, this.bytes.length);
    const length = prefixLength;
    // The constructor, not subarray(): the same view, without subarray's lookup of a species constructor.
    const record = new Uint8Array(this.buffer, this.base + at, length);
    this.at = at + length;
    if (--this.left === 0) this.stop();
    return record;
  }

  /** Lets go of the message, whatever is left unread; returns 0, the records left. */
  stop(): 0 {
    this.bytes = NO_BYTES;
    this.buffer = NO_BYTES.buffer;
    this.left = 0;
    return 0;
  }
}

/** Whether sequence `a` comes after `b`, in serial-number arithmetic (RFC 1982) on 32 bits. */
export function sequenceAfter(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}
