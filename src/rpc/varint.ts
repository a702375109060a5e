// LEB128 unsigned varints of at most 32 bits, and the zigzag mapping that carries a signed peer
// id in one. Pure byte arithmetic shared by the RPC codec; nothing here allocates.

/** The most bytes a varint takes: 32 bits at 7 bits a byte. */
export const MAX_VARINT_BYTES = 5;

/** The largest value a varint carries (2^32 − 1). */
export const MAX_VARINT_VALUE = 0xffff_ffff;

/** {@link readVarint} result: the bytes end inside the varint. */
export const VARINT_TRUNCATED = -1;

/** {@link readVarint} result: more than 32 bits, or an overlong (non-minimal) encoding. */
export const VARINT_MALFORMED = -2;

const CONTINUATION_BIT = 0x80;
const PAYLOAD_MASK = 0x7f;
const PAYLOAD_BITS = 7;
const PAYLOAD_RADIX = 2 ** PAYLOAD_BITS;
// The fifth byte holds the last 32 − 4·7 = 4 bits, so anything above 0x0f overflows 32 bits.
const LAST_BYTE_MAX = 0x0f;
const LAST_BYTE_INDEX = MAX_VARINT_BYTES - 1;

/** The read position of {@link readVarint}, advanced past each varint it reads. */
export interface VarintCursor {
  offset: number;
}

/** How many bytes {@link writeVarint} takes for `value` (an integer in 0 … 2^32 − 1). */
export function varintSize(value: number): number {
  if (value < 2 ** 7) return 1;
  if (value < 2 ** 14) return 2;
  if (value < 2 ** 21) return 3;
  if (value < 2 ** 28) return 4;
  return MAX_VARINT_BYTES;
}

/**
 * Writes `value` (an integer in 0 … 2^32 − 1, checked by the caller) at `offset` and returns the
 * offset after it. `target` must have {@link varintSize} bytes free there.
 */
export function writeVarint(target: Uint8Array, offset: number, value: number): number {
  // `>>>` works on the unsigned 32-bit value, so the top bit needs no special case.
  let rest = value >>> 0;
  while (rest >= CONTINUATION_BIT) {
    target[offset++] = (rest & PAYLOAD_MASK) | CONTINUATION_BIT;
    rest >>>= PAYLOAD_BITS;
  }
  target[offset++] = rest;
  return offset;
}

/**
 * Reads a varint at `cursor.offset`, stopping at `end`, and moves the cursor past it. Returns the
 * value, or {@link VARINT_TRUNCATED} / {@link VARINT_MALFORMED} (the cursor is then left as it
 * was). Only the minimal encoding is accepted, so each value has exactly one form on the wire.
 */
export function readVarint(bytes: Uint8Array, end: number, cursor: VarintCursor): number {
  let offset = cursor.offset;
  let value = 0;
  let weight = 1;
  for (let index = 0; ; index++) {
    if (offset >= end) return VARINT_TRUNCATED;
    const byte = bytes[offset++]!;
    if (index === LAST_BYTE_INDEX && byte > LAST_BYTE_MAX) return VARINT_MALFORMED;
    if (byte < CONTINUATION_BIT) {
      if (byte === 0 && index > 0) return VARINT_MALFORMED;
      cursor.offset = offset;
      return value + byte * weight;
    }
    value += (byte & PAYLOAD_MASK) * weight;
    weight *= PAYLOAD_RADIX;
  }
}

/** Maps a signed integer in −(2^31 − 1) … 2^31 − 1 to the unsigned varint value that carries it. */
export function zigzagEncode(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

/** Inverse of {@link zigzagEncode}, for any value a varint carries. */
export function zigzagDecode(value: number): number {
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}
