/**
 * rtcmesh's system channel (negotiated id 0): keepalive pings and their answers, from which
 * each side learns the round-trip time, the remote's clock offset, and how much of the reliable
 * data it sent has arrived (docs/wire-format.md).
 *   ping := 1:u8 stamp:f64be received:f64be (count:u32be)*   stamp: the pinger's clock, milliseconds
 *   pong := 2:u8 stamp:f64be remoteTime:f64be received:f64be  the ping's stamp echoed, the ponger's clock
 *   bye  := 4:u8                                             the sender closes the connection on purpose
 * received: bytes of reliable messages the sender of this message has received from the other side.
 * count: the acknowledgement, one per reliable channel in layout order: messages received on that
 * channel over the whole session, modulo 2^32. (Type 3 was an acknowledgement of its own: riding
 * on the ping, it costs no message of its own.)
 */

const PING = 1;
const PONG = 2;
const BYE = 4;
/** The goodbye: the sender is closing the connection on purpose, and will not resume it. */
export const BYE_MESSAGE = Uint8Array.of(BYE);

/** Whether a system message is the goodbye. */
export function isBye(message: Uint8Array): boolean {
  return message.byteLength === 1 && message[0] === BYE;
}
/** Exact sizes (a ping's before its counts, 4 bytes each): anything else on the system channel is malformed. */
export const PING_BYTES = 17;
export const PONG_BYTES = 25;

/**
 * A ping carrying `stamp`, the reliable bytes this side has `received`, and the counts of
 * messages received on each reliable channel, in layout order (the acknowledgement).
 */
export function encodePing(stamp: number, received: number, counts: readonly number[]): Uint8Array {
  const message = new Uint8Array(PING_BYTES + 4 * counts.length);
  const view = new DataView(message.buffer);
  view.setUint8(0, PING);
  view.setFloat64(1, stamp);
  view.setFloat64(9, received);
  counts.forEach((count, n) => view.setUint32(PING_BYTES + 4 * n, count >>> 0));
  return message;
}

/** The answer to a ping stamped `stamp`, carrying this side's clock and the reliable bytes it has `received`. */
export function encodePong(stamp: number, localTime: number, received: number): Uint8Array {
  const message = new Uint8Array(PONG_BYTES);
  const view = new DataView(message.buffer);
  view.setUint8(0, PONG);
  view.setFloat64(1, stamp);
  view.setFloat64(9, localTime);
  view.setFloat64(17, received);
  return message;
}

/** A decoded system message, or null when malformed. */
export type SystemMessage =
  | { kind: 'ping'; stamp: number; received: number; counts: number[] }
  | { kind: 'pong'; stamp: number; remoteTime: number; received: number }
  | null;

/** A byte count as the wire may carry it: a whole number that a float64 holds exactly. */
function isByteCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Decodes a system message from a side with `reliableChannels` reliable channels; null for anything malformed. */
export function decodeSystemMessage(message: Uint8Array, reliableChannels: number): SystemMessage {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  if (message.byteLength === PING_BYTES + 4 * reliableChannels && view.getUint8(0) === PING) {
    const stamp = view.getFloat64(1);
    const received = view.getFloat64(9);
    if (!Number.isFinite(stamp) || !isByteCount(received)) return null;
    const counts = Array.from({ length: reliableChannels }, (_, n) => view.getUint32(PING_BYTES + 4 * n));
    return { kind: 'ping', stamp, received, counts };
  }
  if (message.byteLength === PONG_BYTES && view.getUint8(0) === PONG) {
    const stamp = view.getFloat64(1);
    const remoteTime = view.getFloat64(9);
    const received = view.getFloat64(17);
    return Number.isFinite(stamp) && Number.isFinite(remoteTime) && isByteCount(received)
      ? { kind: 'pong', stamp, remoteTime, received }
      : null;
  }
  return null;
}
