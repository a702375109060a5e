// Big-endian unsigned integers of the wire: msgpack lengths and the method-table hash.

/** Reads the unsigned big-endian integer of `size` bytes (at most 6) at `offset`, unchecked. */
export function readBigEndian(bytes: Uint8Array, offset: number, size: number): number {
  let value = 0;
  for (let index = 0; index < size; index++) value = value * 256 + bytes[offset + index]!;
  return value;
}
