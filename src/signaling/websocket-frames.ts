// The server's reader of RFC 6455 frames from a client: it takes the TCP stream's chunks as they
// come and hands each message over as a range of bytes, without copying it or allocating per
// message (masks are removed in place). Every input is hostile: a frame is bounded before a byte
// of it is buffered, and any breach of the protocol ends reading with the close code RFC 6455
// gives it. Node only.
import { isUtf8 } from 'node:buffer';

/** What a {@link FrameReader} found; called synchronously from {@link FrameReader.read}. */
export interface FrameEvents {
  /** A whole message: `data[start, end)`, valid UTF-8 unless `binary`. The bytes stay valid. */
  message(data: Buffer, start: number, end: number, binary: boolean): void;
  /** A ping, with its payload (at most 125 bytes). */
  ping(payload: Buffer): void;
  pong(): void;
  /** The client's close frame: its code (1005 when it gave none) and reason. Reading has ended. */
  close(code: number, reason: string): void;
  /** A breach of the protocol: the code to close with, and why. Reading has ended. */
  fault(code: number, reason: string): void;
}

/** Close codes of RFC 6455 section 7.4.1. */
export const CLOSE_PROTOCOL_ERROR_1002 = 1002;
export const CLOSE_NO_STATUS = 1005;
export const CLOSE_INVALID_PAYLOAD = 1007;
export const CLOSE_TOO_BIG = 1009;

const OPCODE_CONTINUATION = 0x0;
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;
const FIRST_CONTROL_OPCODE = 0x8;
const FIN = 0x80;
const RESERVED_BITS = 0x70;
const OPCODE_BITS = 0x0f;
const MASK_BIT = 0x80;
const LENGTH_BITS = 0x7f;
const LENGTH_16 = 126;
const LENGTH_64 = 127;
const MASK_BYTES = 4;
/** 2 bytes of flags and length, 8 of extended length, 4 of mask. */
export const MAX_HEADER_BYTES = 14;
const MAX_CONTROL_PAYLOAD = 125;
const HIGH_BIT = 0x80;
/**
 * Fragments one message may come in. Empty continuation frames cost no memory but are not
 * counted by the server's rate limit, which counts messages: this bounds the work one message buys.
 */
export const MAX_FRAGMENTS = 1024;

/** Reads the frames of one client connection; see the file comment. */
export class FrameReader {
  private ended = false;
  // A frame cut by the end of a chunk: its bytes so far, header included, in a buffer of its size.
  private partial: Buffer | null = null;
  private partialFilled = 0;
  // A header cut by the end of a chunk: its bytes so far.
  private readonly headerBytes = Buffer.allocUnsafe(MAX_HEADER_BYTES);
  private headerFilled = 0;
  // The fragmented message being put together, if any (opcode 0: none).
  private fragmentOpcode = 0;
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  // Set by readHeader: the header's length and the frame's payload length.
  private headerLength = 0;
  private payloadLength = 0;

  /** @param maxMessageBytes the largest message, fragments together; a larger one is refused with 1009. */
  constructor(
    private readonly maxMessageBytes: number,
    private readonly events: FrameEvents,
  ) {}

  /** True once a close frame or a fault has ended reading: later chunks are ignored. */
  get done(): boolean {
    return this.ended;
  }

  /** Reads one chunk of the stream. The reader may change its bytes (it unmasks in place). */
  read(chunk: Buffer): void {
    const end = chunk.length;
    let at = 0;
    while (at < end && !this.ended) {
      if (this.partial !== null) {
        at = this.fillPartial(chunk, at);
      } else if (this.headerFilled > 0) {
        at = this.completeHeader(chunk, at);
      } else {
        const length = this.readHeader(chunk, at, end - at);
        if (length < 0) return;
        if (length === 0) {
          chunk.copy(this.headerBytes, 0, at, end);
          this.headerFilled = end - at;
          return;
        }
        const frameLength = length + this.payloadLength;
        if (end - at >= frameLength) {
          this.frame(chunk, at);
          at += frameLength;
        } else {
          this.partial = Buffer.allocUnsafe(frameLength);
          this.partialFilled = chunk.copy(this.partial, 0, at, end);
          at = end;
        }
      }
    }
  }

  private fillPartial(chunk: Buffer, at: number): number {
    const partial = this.partial!;
    const copied = chunk.copy(partial, this.partialFilled, at, Math.min(chunk.length, at + partial.length - this.partialFilled));
    this.partialFilled += copied;
    if (this.partialFilled === partial.length) {
      this.partial = null;
      // The header was read when the frame began; its lengths are read again from its bytes.
      if (this.readHeader(partial, 0, partial.length) > 0) this.frame(partial, 0);
    }
    return at + copied;
  }

  /** Adds bytes of `chunk` to a header begun in an earlier chunk; returns where reading goes on. */
  private completeHeader(chunk: Buffer, at: number): number {
    const before = this.headerFilled;
    const copied = chunk.copy(this.headerBytes, before, at, Math.min(chunk.length, at + MAX_HEADER_BYTES - before));
    const length = this.readHeader(this.headerBytes, 0, before + copied);
    if (length < 0) return chunk.length;
    if (length === 0) {
      this.headerFilled = before + copied;
      return chunk.length;
    }
    this.headerFilled = 0;
    this.partial = Buffer.allocUnsafe(length + this.payloadLength);
    this.partialFilled = this.headerBytes.copy(this.partial, 0, 0, length);
    // Only the header's bytes were taken from this chunk; fillPartial takes the payload's.
    return this.fillPartial(chunk, at + length - before);
  }

  /**
   * Reads the header at `at` with `available` bytes after it: its length (the lengths go in
   * headerLength and payloadLength), 0 when it is not all there yet, -1 after a fault.
   */
  private readHeader(bytes: Buffer, at: number, available: number): number {
    if (available < 2) return 0;
    const first = bytes[at]!;
    const second = bytes[at + 1]!;
    const opcode = first & OPCODE_BITS;
    if ((first & RESERVED_BITS) !== 0) return this.fail(CLOSE_PROTOCOL_ERROR_1002, 'reserved bits set; no extension was agreed');
    if (!isKnownOpcode(opcode)) return this.fail(CLOSE_PROTOCOL_ERROR_1002, `unknown opcode ${opcode}`);
    if ((second & MASK_BIT) === 0) return this.fail(CLOSE_PROTOCOL_ERROR_1002, 'unmasked frame; a client must mask every frame');
    let payloadLength = second & LENGTH_BITS;
    let length = 2 + MASK_BYTES;
    if (opcode >= FIRST_CONTROL_OPCODE) {
      if ((first & FIN) === 0) return this.fail(CLOSE_PROTOCOL_ERROR_1002, 'fragmented control frame');
      if (payloadLength > MAX_CONTROL_PAYLOAD) return this.fail(CLOSE_PROTOCOL_ERROR_1002, 'control frame over 125 bytes');
    }
    if (payloadLength === LENGTH_16) {
      length += 2;
      if (available < length) return 0;
      payloadLength = bytes.readUInt16BE(at + 2);
    } else if (payloadLength === LENGTH_64) {
      length += 8;
      if (available < length) return 0;
      const high = bytes.readUInt32BE(at + 2);
      // Any length of 2^32 or more is past every limit this reader can be given.
      if (high !== 0) return this.fail(CLOSE_TOO_BIG, 'frame length of 2^32 bytes or more');
      payloadLength = bytes.readUInt32BE(at + 6);
    }
    if (available < length) return 0;
    if (payloadLength > this.maxMessageBytes) {
      return this.fail(CLOSE_TOO_BIG, `frame of ${payloadLength} bytes; the limit is ${this.maxMessageBytes}`);
    }
    this.headerLength = length;
    this.payloadLength = payloadLength;
    return length;
  }

  /** Acts on the whole frame at `at`, whose header readHeader has just read. */
  private frame(bytes: Buffer, at: number): void {
    const start = at + this.headerLength;
    const end = start + this.payloadLength;
    const ascii = unmask(bytes, start - MASK_BYTES, start, end);
    const first = bytes[at]!;
    const opcode = first & OPCODE_BITS;
    const fin = (first & FIN) !== 0;
    switch (opcode) {
      case OPCODE_TEXT:
      case OPCODE_BINARY:
        if (this.fragmentOpcode !== 0) {
          this.fail(CLOSE_PROTOCOL_ERROR_1002, 'a new message began before the fragmented one ended');
        } else if (fin) {
          this.deliver(bytes, start, end, opcode === OPCODE_BINARY, ascii);
        } else {
          this.fragmentOpcode = opcode;
          this.fragments.push(copyOf(bytes, start, end));
          this.fragmentBytes = end - start;
        }
        return;
      case OPCODE_CONTINUATION:
        this.continuation(copyOf(bytes, start, end), fin);
        return;
      case OPCODE_CLOSE:
        this.closeFrame(bytes, start, end);
        return;
      case OPCODE_PING:
        this.events.ping(bytes.subarray(start, end));
        return;
      case OPCODE_PONG:
        this.events.pong();
        return;
    }
  }

  private continuation(payload: Buffer, fin: boolean): void {
    if (this.fragmentOpcode === 0) {
      this.fail(CLOSE_PROTOCOL_ERROR_1002, 'continuation frame without a message to continue');
      return;
    }
    this.fragmentBytes += payload.length;
    if (this.fragmentBytes > this.maxMessageBytes) {
      this.fail(CLOSE_TOO_BIG, `message of over ${this.maxMessageBytes} bytes`);
      return;
    }
    if (payload.length > 0) this.fragments.push(payload);
    if (this.fragments.length > MAX_FRAGMENTS) {
      this.fail(CLOSE_TOO_BIG, `message in over ${MAX_FRAGMENTS} fragments`);
      return;
    }
    if (!fin) return;
    const message = Buffer.concat(this.fragments, this.fragmentBytes);
    const binary = this.fragmentOpcode === OPCODE_BINARY;
    this.fragmentOpcode = 0;
    this.fragments = [];
    this.fragmentBytes = 0;
    this.deliver(message, 0, message.length, binary, false);
  }

  private deliver(bytes: Buffer, start: number, end: number, binary: boolean, ascii: boolean): void {
    if (!binary && !ascii && !isUtf8(bytes.subarray(start, end))) {
      this.fail(CLOSE_INVALID_PAYLOAD, 'text message that is not valid UTF-8');
      return;
    }
    this.events.message(bytes, start, end, binary);
  }

  private closeFrame(bytes: Buffer, start: number, end: number): void {
    if (end - start === 1) {
      this.fail(CLOSE_PROTOCOL_ERROR_1002, 'close frame of 1 byte');
      return;
    }
    let code = CLOSE_NO_STATUS;
    let reason = '';
    if (end > start) {
      code = bytes.readUInt16BE(start);
      if (!isValidCloseCode(code)) {
        this.fail(CLOSE_PROTOCOL_ERROR_1002, `invalid close code ${code}`);
        return;
      }
      if (!isUtf8(bytes.subarray(start + 2, end))) {
        this.fail(CLOSE_INVALID_PAYLOAD, 'close reason that is not valid UTF-8');
        return;
      }
      reason = bytes.toString('utf8', start + 2, end);
    }
    this.ended = true;
    this.events.close(code, reason);
  }

  private fail(code: number, reason: string): -1 {
    this.ended = true;
    this.partial = null;
    this.fragments = [];
    this.events.fault(code, reason);
    return -1;
  }
}

/**
 * A fragment's bytes, copied: a view would keep the whole chunk it came in alive, and a message of
 * many small fragments, each in a chunk of its own, would hold far more memory than its size.
 */
function copyOf(bytes: Buffer, start: number, end: number): Buffer {
  return Buffer.from(bytes.subarray(start, end));
}

function isKnownOpcode(opcode: number): boolean {
  return opcode <= OPCODE_BINARY || (opcode >= OPCODE_CLOSE && opcode <= OPCODE_PONG);
}

/**
 * The codes a close frame may carry (RFC 6455 section 7.4 and its IANA registry): 1004, 1005,
 * 1006 and 1015 are reserved for reports, never sent.
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** XORs `bytes[start, end)` with the mask at `maskAt`, in place; true when every byte is ASCII. */
function unmask(bytes: Buffer, maskAt: number, start: number, end: number): boolean {
  const m0 = bytes[maskAt]!;
  const m1 = bytes[maskAt + 1]!;
  const m2 = bytes[maskAt + 2]!;
  const m3 = bytes[maskAt + 3]!;
  let high = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const b0 = bytes[i]! ^ m0;
    const b1 = bytes[i + 1]! ^ m1;
    const b2 = bytes[i + 2]! ^ m2;
    const b3 = bytes[i + 3]! ^ m3;
    bytes[i] = b0;
    bytes[i + 1] = b1;
    bytes[i + 2] = b2;
    bytes[i + 3] = b3;
    high |= b0 | b1 | b2 | b3;
  }
  for (let k = 0; i < end; i++, k++) {
    const b = bytes[i]! ^ (k === 0 ? m0 : k === 1 ? m1 : m2);
    bytes[i] = b;
    high |= b;
  }
  return (high & HIGH_BIT) === 0;
}
