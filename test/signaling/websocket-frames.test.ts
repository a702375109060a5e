import { describe, expect, it } from 'vitest';
import { FrameReader, MAX_FRAGMENTS, isValidCloseCode, type FrameEvents } from '../../src/signaling/websocket-frames.js';

const TEXT = 0x1;
const BINARY = 0x2;
const CONTINUATION = 0x0;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

interface FrameSpec {
  opcode?: number;
  payload?: Buffer | string;
  fin?: boolean;
  masked?: boolean;
  rsv?: number;
  /** Force a length encoding: 7, 16 or 64 bits. */
  lengthBits?: 7 | 16 | 64;
  /** Announce this length instead of the payload's (the payload is still appended). */
  announcedLength?: number;
  mask?: number[];
}

/** A client frame as a client library would write it, or as a hostile one might. */
function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : (spec.payload ?? Buffer.alloc(0));
  const length = spec.announcedLength ?? payload.length;
  const bits = spec.lengthBits ?? (length < 126 ? 7 : length <= 0xffff ? 16 : 64);
  const masked = spec.masked ?? true;
  const mask = spec.mask ?? [0x12, 0x34, 0x56, 0x78];
  const header: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | (spec.opcode ?? TEXT)];
  const maskBit = masked ? 0x80 : 0;
  if (bits === 7) header.push(maskBit | length);
  else if (bits === 16) header.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    const high = Math.floor(length / 2 ** 32);
    const low = length % 2 ** 32;
    header.push(maskBit | 127, (high >>> 24) & 0xff, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff);
    header.push((low >>> 24) & 0xff, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff);
  }
  if (masked) header.push(...mask);
  const body = Buffer.from(payload);
  if (masked) for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i & 3]!;
  return Buffer.concat([Buffer.from(header), body]);
}

function closePayload(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2, 'utf8');
  return payload;
}

type Heard =
  | { kind: 'message'; text: string; binary: boolean }
  | { kind: 'ping'; payload: string }
  | { kind: 'pong' }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'fault'; code: number; reason: string };

/** A reader with a recorder of what it reports; `read` takes the stream in the chunks given. */
function reader(maxMessageBytes = 1024): { read: (...chunks: Buffer[]) => Heard[]; heard: Heard[]; frames: FrameReader } {
  const heard: Heard[] = [];
  const events: FrameEvents = {
    message: (data, start, end, binary) => heard.push({ kind: 'message', text: data.toString(binary ? 'hex' : 'utf8', start, end), binary }),
    ping: (payload) => heard.push({ kind: 'ping', payload: payload.toString('utf8') }),
    pong: () => heard.push({ kind: 'pong' }),
    close: (code, reason) => heard.push({ kind: 'close', code, reason }),
    fault: (code, reason) => heard.push({ kind: 'fault', code, reason }),
  };
  const frames = new FrameReader(maxMessageBytes, events);
  return {
    heard,
    frames,
    read: (...chunks) => {
      // The reader unmasks in place: give it copies, so that a test can reuse its frames.
      for (const chunk of chunks) frames.read(Buffer.from(chunk));
      return heard;
    },
  };
}

/** The stream cut into pieces at the given offsets. */
function cut(stream: Buffer, offsets: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const offset of [...offsets, stream.length]) {
    pieces.push(stream.subarray(from, offset));
    from = offset;
  }
  return pieces;
}

function text(value: string): Heard {
  return { kind: 'message', text: value, binary: false };
}

function faultCode(heard: Heard[]): number | undefined {
  const last = heard.at(-1);
  return last?.kind === 'fault' ? last.code : undefined;
}

describe('FrameReader: well-formed streams', () => {
  it('reads many frames in one chunk, each message as its bytes, unmasked', () => {
    const messages = ['{"type":6,"id":1,"data":"a"}', '', 'é ☃ 😀', 'x'.repeat(200)];
    const { read } = reader();
    expect(read(Buffer.concat(messages.map((payload) => frame({ payload }))))).toEqual(messages.map(text));
  });

  it('reads the same whatever chunks the stream arrives in, even one byte at a time', () => {
    const stream = Buffer.concat([
      frame({ payload: 'first' }),
      frame({ payload: 'y'.repeat(300) }),
      frame({ opcode: PING, payload: 'p' }),
      frame({ payload: 'frag', fin: false }),
      frame({ opcode: PONG }),
      frame({ opcode: CONTINUATION, payload: 'mented' }),
      frame({ payload: 'z'.repeat(70_000 % 1000), lengthBits: 64 }),
      frame({ opcode: BINARY, payload: Buffer.from([0, 255, 128]) }),
      frame({ opcode: CLOSE, payload: closePayload(1000, 'bye') }),
    ]);
    const expected = reader().read(stream);
    expect(expected.at(-1)).toEqual({ kind: 'close', code: 1000, reason: 'bye' });
    expect(reader().read(...cut(stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1)))).toEqual(expected);
    // Seeded cuts: every header and payload boundary falls somewhere across a chunk's edge.
    let seed = 7;
    for (let round = 0; round < 200; round++) {
      const offsets: number[] = [];
      for (let at = 0; ; ) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        at += 1 + (seed % 40);
        if (at >= stream.length) break;
        offsets.push(at);
      }
      expect(reader().read(...cut(stream, offsets))).toEqual(expected);
    }
  });

  it('reads 16-bit and 64-bit lengths, including lengths a shorter encoding could have carried', () => {
    const { read } = reader(70_000);
    const big = 'b'.repeat(66_000);
    expect(read(frame({ payload: 'short', lengthBits: 16 }), frame({ payload: 'short', lengthBits: 64 }), frame({ payload: big }))).toEqual([
      text('short'),
      text('short'),
      text(big),
    ]);
  });

  it('puts a fragmented message together across control frames, and reports binary messages as binary', () => {
    const { read } = reader();
    const heard = read(
      frame({ payload: 'one ', fin: false }),
      frame({ opcode: PING, payload: 'mid' }),
      frame({ opcode: CONTINUATION, payload: '', fin: false }),
      frame({ opcode: CONTINUATION, payload: 'two' }),
      frame({ opcode: BINARY, payload: Buffer.from([1, 2]), fin: false }),
      frame({ opcode: CONTINUATION, payload: Buffer.from([3]) }),
    );
    expect(heard).toEqual([{ kind: 'ping', payload: 'mid' }, text('one two'), { kind: 'message', text: '010203', binary: true }]);
  });

  it('accepts a UTF-8 character split between fragments', () => {
    const snowman = Buffer.from('☃', 'utf8');
    const { read } = reader();
    expect(read(frame({ payload: snowman.subarray(0, 1), fin: false }), frame({ opcode: CONTINUATION, payload: snowman.subarray(1) }))).toEqual([
      text('☃'),
    ]);
  });

  it('reports a close frame with no payload as 1005, and one with a code and reason as sent; then reads nothing', () => {
    const empty = reader();
    expect(empty.read(frame({ opcode: CLOSE }), frame({ payload: 'after' }))).toEqual([{ kind: 'close', code: 1005, reason: '' }]);
    expect(empty.frames.done).toBe(true);
    const coded = reader();
    expect(coded.read(frame({ opcode: CLOSE, payload: closePayload(4321, 'fin ☃') }))).toEqual([{ kind: 'close', code: 4321, reason: 'fin ☃' }]);
  });
});

describe('FrameReader: hostile streams', () => {
  const cases: [string, Buffer[], number][] = [
    ['an unmasked client frame', [frame({ payload: 'x', masked: false })], 1002],
    ['reserved bit 1', [frame({ payload: 'x', rsv: 4 })], 1002],
    ['reserved bits 2 and 3', [frame({ payload: 'x', rsv: 3 })], 1002],
    ['opcode 3', [frame({ opcode: 3 })], 1002],
    ['opcode 0xb', [frame({ opcode: 0xb })], 1002],
    ['a fragmented ping', [frame({ opcode: PING, fin: false })], 1002],
    ['a close frame of 126 bytes', [frame({ opcode: CLOSE, payload: closePayload(1000, 'r'.repeat(124)) })], 1002],
    ['a ping of 126 bytes in a 16-bit length', [frame({ opcode: PING, payload: 'p'.repeat(126) })], 1002],
    ['a continuation with nothing to continue', [frame({ opcode: CONTINUATION, payload: 'x' })], 1002],
    ['a new text message inside a fragmented one', [frame({ payload: 'a', fin: false }), frame({ payload: 'b' })], 1002],
    ['a close frame of 1 byte', [frame({ opcode: CLOSE, payload: Buffer.from([3]) })], 1002],
    ['close code 1005', [frame({ opcode: CLOSE, payload: closePayload(1005) })], 1002],
    ['close code 1006', [frame({ opcode: CLOSE, payload: closePayload(1006) })], 1002],
    ['close code 999', [frame({ opcode: CLOSE, payload: closePayload(999) })], 1002],
    ['close code 2000', [frame({ opcode: CLOSE, payload: closePayload(2000) })], 1002],
    ['close code 5000', [frame({ opcode: CLOSE, payload: closePayload(5000) })], 1002],
    ['a close reason that is not UTF-8', [frame({ opcode: CLOSE, payload: Buffer.concat([closePayload(1000), Buffer.from([0xc3])]) })], 1007],
    ['a text message that is not UTF-8', [frame({ payload: Buffer.from([0x7b, 0xff, 0x7d]) })], 1007],
    ['an overlong UTF-8 encoding', [frame({ payload: Buffer.from([0xc0, 0xaf]) })], 1007],
    ['a UTF-16 surrogate in UTF-8', [frame({ payload: Buffer.from([0xed, 0xa0, 0x80]) })], 1007],
    ['a fragmented text message cut inside a character', [frame({ payload: Buffer.from([0xe2, 0x98]), fin: false }), frame({ opcode: CONTINUATION })], 1007],
    ['a frame over the limit', [frame({ payload: 'x'.repeat(1025) })], 1009],
    ['fragments that add up to over the limit', [frame({ payload: 'x'.repeat(600), fin: false }), frame({ opcode: CONTINUATION, payload: 'x'.repeat(600) })], 1009],
  ];
  for (const [what, stream, code] of cases) {
    it(`closes with ${code} on ${what}, and reads nothing after`, () => {
      const { read, frames } = reader();
      const heard = read(...stream, frame({ payload: 'after' }));
      expect(faultCode(heard)).toBe(code);
      expect(heard.filter((entry) => entry.kind === 'fault')).toHaveLength(1);
      expect(frames.done).toBe(true);
    });
  }

  it('refuses an oversized frame from its header alone, before any of its payload is buffered', () => {
    const { read } = reader();
    const header = frame({ payload: '', announcedLength: 1_000_000, lengthBits: 64 });
    expect(faultCode(read(header))).toBe(1009);
    // A length of 2^63 (the top bit RFC 6455 says must be 0) or of 2^32 is refused the same way.
    expect(faultCode(reader().read(frame({ announcedLength: 2 ** 63, lengthBits: 64 })))).toBe(1009);
    expect(faultCode(reader().read(frame({ announcedLength: 2 ** 32, lengthBits: 64 })))).toBe(1009);
  });

  it('refuses a header split over chunks as it refuses a whole one', () => {
    const header = frame({ announcedLength: 5_000, lengthBits: 64 });
    const { read } = reader();
    expect(read(header.subarray(0, 3), header.subarray(3, 7))).toEqual([]);
    expect(faultCode(read(header.subarray(7)))).toBe(1009);
  });

  it(`refuses a message in more than ${MAX_FRAGMENTS} fragments, counting empty ones`, () => {
    const { read } = reader();
    const stream = [frame({ payload: 'a', fin: false })];
    for (let i = 0; i < MAX_FRAGMENTS; i++) stream.push(frame({ opcode: CONTINUATION, payload: 'b', fin: false }));
    expect(faultCode(read(...stream))).toBe(1009);
    const empties = reader();
    const emptyStream = [frame({ payload: 'a', fin: false })];
    for (let i = 0; i < MAX_FRAGMENTS * 4; i++) emptyStream.push(frame({ opcode: CONTINUATION, fin: false }));
    emptyStream.push(frame({ opcode: CONTINUATION, payload: 'z' }));
    // Empty fragments hold no memory: they pass, and the message is whole.
    expect(empties.read(...emptyStream)).toEqual([text('az')]);
  });

  it('survives random bytes: it reports at most one fault and never throws', () => {
    let seed = 12345;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 500; round++) {
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256)));
      const { read } = reader(256);
      const heard = read(...cut(bytes, [Math.floor(bytes.length / 3), Math.floor((bytes.length * 2) / 3)]));
      expect(heard.filter((entry) => entry.kind === 'fault' || entry.kind === 'close').length).toBeLessThanOrEqual(1);
    }
  });
});

describe('isValidCloseCode', () => {
  it('allows the codes a close frame may carry and nothing else', () => {
    const valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999];
    const invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535];
    expect(valid.filter((code) => !isValidCloseCode(code))).toEqual([]);
    expect(invalid.filter((code) => isValidCloseCode(code))).toEqual([]);
  });
});
