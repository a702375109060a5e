import { describe, expect, it } from 'vitest';
import {
  DECODE_DROP_REASONS,
  PathStatus,
  RpcCodec,
  RpcCommand,
  type DecodedPacket,
  type DecodeDropReason,
} from '../../src/rpc/codec.js';
import { buildMethodTable, methodTableHash } from '../../src/rpc/method-table.js';
import { DEFAULT_RPC_LIMITS, RELAY_HEADER_MAX_BYTES, type RpcLimits } from '../../src/rpc/rpc-limits.js';
import {
  MAX_VARINT_VALUE,
  VARINT_MALFORMED,
  VARINT_TRUNCATED,
  readVarint,
  varintSize,
  writeVarint,
  zigzagDecode,
  zigzagEncode,
} from '../../src/rpc/varint.js';
import { expectRtcError } from '../support/errors.js';
import { seededRandom } from '../support/seeded-random.js';

const MAX_PEER_ID = 0x7fff_ffff;
const codec = new RpcCodec();
const utf8 = new TextEncoder();

function decoded(packet: Uint8Array, using = codec): DecodedPacket {
  const result = using.decode(packet);
  if (!result.ok) throw new Error(`expected a packet, dropped as ${result.reason}`);
  return result.packet;
}

function reasonOf(packet: Uint8Array, using = codec): DecodeDropReason {
  const result = using.decode(packet);
  if (result.ok) throw new Error(`expected a drop, decoded ${String(result.packet.kind)}`);
  return result.reason;
}

function roundTripArgs(args: unknown[], using = codec): unknown[] {
  const packet = decoded(using.encodeCall(7, 3, args), using);
  if (packet.kind !== 'call') throw new Error(`expected a call, got ${packet.kind}`);
  return packet.args;
}

// A CALL with path 0, method 0 and the given msgpack bytes as its arguments.
function callWith(...argumentBytes: (number | Uint8Array)[]): Uint8Array {
  return concat(Uint8Array.of(RpcCommand.Call, 0, 0), ...argumentBytes);
}

function concat(...parts: (number | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((part) => (typeof part === 'number' ? Uint8Array.of(part) : part));
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function fixstr(text: string): Uint8Array {
  const bytes = utf8.encode(text);
  return concat(0xa0 | bytes.length, bytes);
}

function str8(text: string): Uint8Array {
  const bytes = utf8.encode(text);
  return concat(0xd9, bytes.length, bytes);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function prototypeSnapshot(): string[][] {
  return [Object.prototype, Array.prototype, Function.prototype].map((proto) =>
    Object.getOwnPropertyNames(proto).sort(),
  );
}


describe('varint', () => {
  it('writes and reads every width up to 2^32 − 1, in its shortest form', () => {
    const buffer = new Uint8Array(5);
    for (const value of [0, 1, 127, 128, 16_383, 16_384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, MAX_VARINT_VALUE]) {
      const end = writeVarint(buffer, 0, value);
      expect(end).toBe(varintSize(value));
      const cursor = { offset: 0 };
      expect(readVarint(buffer, end, cursor)).toBe(value);
      expect(cursor.offset).toBe(end);
    }
  });

  it('refuses overlong, over-32-bit and six-byte varints, and reports truncation', () => {
    const read = (...bytes: number[]) => readVarint(Uint8Array.from(bytes), bytes.length, { offset: 0 });
    expect(read(0x80, 0x00)).toBe(VARINT_MALFORMED);
    expect(read(0xff, 0xff, 0xff, 0xff, 0x10)).toBe(VARINT_MALFORMED);
    expect(read(0xff, 0xff, 0xff, 0xff, 0x8f, 0x01)).toBe(VARINT_MALFORMED);
    expect(read(0xff, 0xff, 0xff, 0xff, 0x0f)).toBe(MAX_VARINT_VALUE);
    expect(read(0x80)).toBe(VARINT_TRUNCATED);
    expect(read()).toBe(VARINT_TRUNCATED);
  });

  it('zigzags every peer id and target into a varint and back', () => {
    for (const id of [0, 1, -1, 2, -2, 1000, -1000, MAX_PEER_ID, -MAX_PEER_ID]) {
      const zigzag = zigzagEncode(id);
      expect(zigzag).toBeLessThanOrEqual(MAX_VARINT_VALUE);
      expect(zigzagDecode(zigzag)).toBe(id);
    }
  });
});

describe('packets round-trip', () => {
  it('carries a RAW packet, empty or not, as a view on the received bytes', () => {
    for (const bytes of [new Uint8Array(0), Uint8Array.of(0, 1, 255), new Uint8Array(1000).fill(7)]) {
      const packet = codec.encodeRaw(bytes);
      expect(packet[0]).toBe(RpcCommand.Raw);
      const result = decoded(packet);
      expect(result).toEqual({ kind: 'raw', bytes });
      if (result.kind === 'raw') expect(result.bytes.buffer).toBe(packet.buffer);
    }
  });

  it('carries a CALL with its path id, method id and arguments', () => {
    for (const [pathId, methodId] of [[0, 0], [127, 128], [16_384, 5], [MAX_VARINT_VALUE, MAX_VARINT_VALUE]] as const) {
      const packet = codec.encodeCall(pathId, methodId, [1, 'two', 3.5]);
      expect(packet[0]).toBe(RpcCommand.Call);
      expect(decoded(packet)).toEqual({ kind: 'call', pathId, methodId, args: [1, 'two', 3.5] });
    }
    expect(decoded(codec.encodeCall(1, 2, []))).toEqual({ kind: 'call', pathId: 1, methodId: 2, args: [] });
  });

  it('carries an ANNOUNCE_PATH with the method table hash and the path in UTF-8', () => {
    for (const path of ['/root/Main/Player', 'é/ü/日本/😀', '\ufeffbom-first', 'x'.repeat(256)]) {
      const packet = codec.encodeAnnounce(42, 0xdead_beef, path);
      expect(packet[0]).toBe(RpcCommand.AnnouncePath);
      expect(decoded(packet)).toEqual({ kind: 'announcePath', pathId: 42, methodTableHash: 0xdead_beef, path });
    }
  });

  it('lays ANNOUNCE_PATH out as command, varint id, big-endian hash, path', () => {
    expect(hex(codec.encodeAnnounce(300, 0x0102_0304, 'ab'))).toBe('02ac02010203046162');
  });

  it('carries a CONFIRM_PATH with each status', () => {
    for (const status of [PathStatus.Ok, PathStatus.UnknownPath, PathStatus.MethodTableMismatch]) {
      const packet = codec.encodeConfirm(9, status);
      expect(hex(packet)).toBe(`0309${hex(Uint8Array.of(status))}`);
      expect(decoded(packet)).toEqual({ kind: 'confirmPath', pathId: 9, status });
    }
  });

  it('carries AUTH, AUTH_COMPLETE, PEER_ADD and PEER_REMOVE as laid out in the wire format', () => {
    expect(hex(codec.encodeAuth(Uint8Array.of(1, 2)))).toBe('0d0102');
    expect(decoded(codec.encodeAuth(Uint8Array.of(1, 2)))).toEqual({ kind: 'auth', bytes: Uint8Array.of(1, 2) });
    expect(hex(codec.encodeAuthComplete())).toBe('0e');
    expect(decoded(codec.encodeAuthComplete())).toEqual({ kind: 'authComplete' });
    expect(hex(codec.encodePeerNotice('peerAdd', 300))).toBe('0fac02');
    expect(decoded(codec.encodePeerNotice('peerAdd', MAX_PEER_ID))).toEqual({ kind: 'peerAdd', peerId: MAX_PEER_ID });
    expect(decoded(codec.encodePeerNotice('peerRemove', 2))).toEqual({ kind: 'peerRemove', peerId: 2 });
    expectRtcError(() => codec.encodeAuth(new Uint8Array(0)), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => codec.encodePeerNotice('peerAdd', 1), 'ERR_INVALID_PARAMETER');
  });

  it('relays a CALL or RAW for every target form and sender id', () => {
    const call = codec.encodeCall(2, 1, ['hit', 12]);
    const raw = codec.encodeRaw(Uint8Array.of(9, 8));
    for (const peerId of [0, 1, 5, -5, MAX_PEER_ID, -MAX_PEER_ID]) {
      const relayed = decoded(codec.encodeRelay(peerId, call));
      expect(relayed).toMatchObject({ kind: 'relay', peerId, inner: { kind: 'call', pathId: 2, methodId: 1, args: ['hit', 12] } });
      if (relayed.kind === 'relay') expect(hex(relayed.innerBytes)).toBe(hex(call));
      expect(decoded(codec.encodeRelay(peerId, raw))).toMatchObject({ peerId, inner: { kind: 'raw', bytes: Uint8Array.of(9, 8) } });
    }
  });

  it('lets the server re-stamp a relayed call of the largest size with any sender id', () => {
    const limits = { maxPacketBytes: 100 };
    const small = new RpcCodec(limits);
    const largest = 100 - RELAY_HEADER_MAX_BYTES;
    // header 3 + fixarray 1 + str8 header 2 = 6 bytes around the string
    const call = small.encodeCall(0, 0, ['x'.repeat(largest - 6)]);
    expect(call.length).toBe(largest);
    const fromClient = decoded(small.encodeRelay(0, call), small);
    if (fromClient.kind !== 'relay') throw new Error('expected a relay');
    const toClient = small.encodeRelay(MAX_PEER_ID, fromClient.innerBytes);
    expect(toClient.length).toBe(100);
    expect(decoded(toClient, small)).toMatchObject({ peerId: MAX_PEER_ID, inner: { kind: 'call' } });
  });
});

describe('arguments round-trip', () => {
  it.each<[string, unknown]>([
    ['small integers', 5],
    ['negative integers', -300],
    ['32-bit extremes', 0xffff_ffff],
    ['int32 minimum', -0x8000_0000],
    ['integers beyond 32 bits', 2 ** 40],
    ['the largest safe integer', Number.MAX_SAFE_INTEGER],
    ['floats', 3.141_592_653_589_793],
    ['negative floats', -2.25e-300],
    ['infinities', -Infinity],
    ['NaN', NaN],
    ['bigints within int64', -(2n ** 63n)],
    ['bigints within uint64', 2n ** 64n - 1n],
    ['empty strings', ''],
    ['unicode strings', 'héllo 日本語 😀 \u0000 \uffff'],
    ['long strings', 'y'.repeat(10_000)],
    ['null', null],
    ['undefined', undefined],
    ['true', true],
    ['false', false],
    ['byte arrays', Uint8Array.of(0, 1, 254, 255)],
    ['empty byte arrays', new Uint8Array(0)],
    ['Buffers', Buffer.from([1, 2, 3])],
    ['Int8Array', Int8Array.of(-128, 127)],
    ['Uint8ClampedArray', Uint8ClampedArray.of(0, 255)],
    ['Int16Array', Int16Array.of(-32_768, 32_767)],
    ['Uint16Array', Uint16Array.of(65_535)],
    ['Int32Array', Int32Array.of(-1, 2 ** 31 - 1)],
    ['Uint32Array', Uint32Array.of(2 ** 32 - 1)],
    ['Float32Array', Float32Array.of(1.5, -0.25, Infinity)],
    ['Float64Array', Float64Array.of(Math.PI, -Number.MAX_VALUE)],
    ['BigInt64Array', BigInt64Array.of(-(2n ** 63n))],
    ['BigUint64Array', BigUint64Array.of(2n ** 64n - 1n)],
    ['ArrayBuffers', Uint8Array.of(4, 5, 6).buffer],
    ['Dates', new Date(1_700_000_000_123)],
    ['Dates before 1970 (96-bit timestamps)', new Date(-1_000_000_000_123)],
    ['nested arrays', [1, [2, [3, [4, []]]]]],
    ['nested objects', { player: { name: 'ana', pos: { x: 1.5, y: -2 }, inventory: ['sword', { gold: 30 }] } }],
    ['objects with undefined and null fields', { a: undefined, b: null }],
    ['objects with unicode keys', { 'clé': 1, '日本': 2, '': 3 }],
  ])('carries %s', (_name, value) => {
    expect(roundTripArgs([value])).toStrictEqual([value]);
  });

  it('carries a DataView as a DataView over the same bytes', () => {
    const [view] = roundTripArgs([new DataView(Uint8Array.of(1, 2, 3).buffer)]);
    expect(view).toBeInstanceOf(DataView);
    expect(new Uint8Array((view as DataView).buffer)).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('carries a typed array that is a view into a larger buffer as just its own elements', () => {
    const whole = Float32Array.of(1, 2, 3, 4);
    expect(roundTripArgs([whole.subarray(1, 3)])).toStrictEqual([Float32Array.of(2, 3)]);
  });

  it('carries several arguments of mixed kinds in order', () => {
    const args = [1, -2.5, 'three', null, [true, false], { four: 4n }, Int16Array.of(5)];
    expect(roundTripArgs(args)).toStrictEqual(args);
  });

  it('hands out byte arguments that own their memory, not views on the packet', () => {
    const packet = codec.encodeCall(0, 0, [Buffer.from([1, 2, 3])]);
    const result = decoded(packet);
    packet.fill(0);
    expect(result).toMatchObject({ args: [Buffer.from([1, 2, 3])] });
  });

  it('decodes maps into plain objects whose prototype is Object.prototype', () => {
    const [value] = roundTripArgs([{ a: { b: [{ c: 1 }] } }]) as [{ a: { b: [object] } }];
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(value.a)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(value.a.b[0])).toBe(Object.prototype);
  });

  it('reads 64-bit msgpack integers from other encoders as bigints, and string or number keys as strings', () => {
    const int64 = concat(0x92, 0xd3, new Uint8Array(7), 5, 0x82, 0x01, 0xa1, 0x78, fixstr('k'), 0xc3);
    expect(decoded(callWith(int64))).toEqual({ kind: 'call', pathId: 0, methodId: 0, args: [5n, { '1': 'x', k: true }] });
  });
});

describe('limits', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_RPC_LIMITS).toEqual({
      maxPacketBytes: 65_525,
      maxArguments: 32,
      maxDepth: 16,
      maxStringLength: 16_384,
      maxBinaryLength: 65_536,
      maxPathLength: 256,
      maxCollectionLength: 4096,
    });
    expect(new RpcCodec().limits).toEqual(DEFAULT_RPC_LIMITS);
    expect(new RpcCodec({ maxDepth: 3 }).limits).toEqual({ ...DEFAULT_RPC_LIMITS, maxDepth: 3 });
  });

  // Each row: a limit, arguments exactly at it, arguments one step over it, and the drop reason.
  // The loose codec (defaults) encodes what the strict one must refuse to send and to accept.
  const strictLimits: Partial<RpcLimits> = {
    maxArguments: 3,
    maxDepth: 2,
    maxStringLength: 4,
    maxBinaryLength: 4,
    maxCollectionLength: 3,
  };
  const strict = new RpcCodec(strictLimits);
  it.each<[string, unknown[], unknown[], DecodeDropReason]>([
    ['maxArguments', [1, 2, 3], [1, 2, 3, 4], 'tooManyArguments'],
    ['maxDepth (arrays)', [[[1]]], [[[[1]]]], 'tooDeep'],
    ['maxDepth (maps)', [{ a: { b: 1 } }], [{ a: { b: { c: 1 } } }], 'tooDeep'],
    ['maxStringLength (ASCII)', ['abcd'], ['abcde'], 'stringTooLong'],
    ['maxStringLength (UTF-8 bytes, not characters)', ['éé'], ['ééé'], 'stringTooLong'],
    ['maxStringLength (map keys)', [{ abcd: 1 }], [{ abcde: 1 }], 'stringTooLong'],
    ['maxBinaryLength (bytes)', [Buffer.alloc(4)], [Buffer.alloc(5)], 'binaryTooLong'],
    ['maxBinaryLength (typed arrays, in bytes)', [new Float32Array(1)], [new Float32Array(2)], 'binaryTooLong'],
    ['maxBinaryLength (Uint8Array)', [new Uint8Array(4)], [new Uint8Array(5)], 'binaryTooLong'],
    ['maxCollectionLength (arrays)', [[1, 2, 3]], [[1, 2, 3, 4]], 'collectionTooLong'],
    ['maxCollectionLength (maps)', [{ a: 1, b: 2, c: 3 }], [{ a: 1, b: 2, c: 3, d: 4 }], 'collectionTooLong'],
  ])('enforces %s on both ends', (_limit, atLimit, overLimit, reason) => {
    expect(roundTripArgs(atLimit, strict)).toStrictEqual(atLimit);
    expect(reasonOf(codec.encodeCall(0, 0, overLimit), strict)).toBe(reason);
    expectRtcError(() => strict.encodeCall(0, 0, overLimit), 'ERR_INVALID_PARAMETER');
  });

  it('enforces maxPacketBytes, keeping room for a relay header in a CALL or RAW', () => {
    const small = new RpcCodec({ maxPacketBytes: 64 });
    const callLimit = 64 - RELAY_HEADER_MAX_BYTES;
    // header 3 + fixarray 1 + str8 header 2 = 6 bytes around the string
    expect(small.encodeCall(0, 0, ['x'.repeat(callLimit - 6)]).length).toBe(callLimit);
    expectRtcError(() => small.encodeCall(0, 0, ['x'.repeat(callLimit - 5)]), 'ERR_INVALID_PARAMETER');
    expect(reasonOf(codec.encodeCall(0, 0, ['x'.repeat(callLimit - 5)]), small)).toBe('oversized');
    expect(small.encodeRaw(new Uint8Array(callLimit - 1)).length).toBe(callLimit);
    expectRtcError(() => small.encodeRaw(new Uint8Array(callLimit)), 'ERR_INVALID_PARAMETER');
    expect(reasonOf(codec.encodeRaw(new Uint8Array(callLimit)), small)).toBe('oversized');
    expect(reasonOf(concat(RpcCommand.ConfirmPath, new Uint8Array(64)), small)).toBe('oversized');
    expect(reasonOf(codec.encodeRelay(0, codec.encodeRaw(new Uint8Array(callLimit))), small)).toBe('oversized');
  });

  it('enforces maxPathLength in UTF-8 bytes, and refuses empty or invalid paths', () => {
    const small = new RpcCodec({ maxPathLength: 4 });
    expect(decoded(small.encodeAnnounce(1, 2, 'abcd'), small)).toMatchObject({ path: 'abcd' });
    expect(decoded(small.encodeAnnounce(1, 2, 'éé'), small)).toMatchObject({ path: 'éé' });
    expectRtcError(() => small.encodeAnnounce(1, 2, 'abcde'), 'ERR_INVALID_PARAMETER');
    expect(reasonOf(codec.encodeAnnounce(1, 2, 'abcde'), small)).toBe('badPath');
    expect(reasonOf(codec.encodeAnnounce(1, 2, 'ééé'), small)).toBe('badPath');
    expect(reasonOf(Uint8Array.of(RpcCommand.AnnouncePath, 1, 0, 0, 0, 0))).toBe('badPath');
    expect(reasonOf(Uint8Array.of(RpcCommand.AnnouncePath, 1, 0, 0, 0, 0, 0xc3, 0x28))).toBe('badPath');
    expect(reasonOf(Uint8Array.of(RpcCommand.AnnouncePath, 1, 0, 0, 0, 0, 0xed, 0xa0, 0x80))).toBe('badPath');
  });

  it('walks nesting far past maxDepth without using the stack', () => {
    const deep = new Uint8Array(60_000).fill(0x91);
    expect(reasonOf(callWith(0x91, deep, 0x01))).toBe('tooDeep');
  });

  it('drops, not throws, nesting past the stack when maxDepth is set absurdly high', () => {
    const levels = 400_000;
    const lax = new RpcCodec({ maxDepth: levels, maxPacketBytes: levels + 100 });
    expect(reasonOf(callWith(0x91, new Uint8Array(levels).fill(0x91), 0x01), lax)).toBe('tooDeep');
    expect(decoded(lax.encodeCall(0, 0, [[1]]), lax)).toMatchObject({ args: [[1]] });
  });

  it('refuses limits that are not integers in range', () => {
    for (const limits of [{ maxDepth: -1 }, { maxStringLength: 0 }, { maxArguments: 1.5 }, { maxPacketBytes: RELAY_HEADER_MAX_BYTES + 1 }, { maxCollectionLength: 2 ** 40 }, { maxPathLength: Number.NaN }]) {
      expectRtcError(() => new RpcCodec(limits), 'ERR_INVALID_PARAMETER');
    }
    expect(new RpcCodec({ maxArguments: 0, maxDepth: 0 }).limits.maxDepth).toBe(0);
  });
});

describe('bad packets are dropped with a named reason', () => {
  it.each<[string, Uint8Array, DecodeDropReason]>([
    ['an empty packet', new Uint8Array(0), 'empty'],
    ['an unknown command', Uint8Array.of(17, 0), 'unknownCommand'],
    ['a command byte of 255', Uint8Array.of(255), 'unknownCommand'],
    ['a CALL without ids', Uint8Array.of(RpcCommand.Call), 'truncated'],
    ['a CALL without a method id', Uint8Array.of(RpcCommand.Call, 0x05), 'truncated'],
    ['a CALL cut inside a varint', Uint8Array.of(RpcCommand.Call, 0x85), 'truncated'],
    ['a CALL without arguments', Uint8Array.of(RpcCommand.Call, 0, 0), 'truncated'],
    ['a CALL with an overlong varint', Uint8Array.of(RpcCommand.Call, 0x80, 0x00, 0, 0x90), 'badVarint'],
    ['a CALL with a six-byte varint', Uint8Array.of(RpcCommand.Call, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0x90), 'badVarint'],
    ['a CALL with a path id over 2^32 − 1', Uint8Array.of(RpcCommand.Call, 0xff, 0xff, 0xff, 0xff, 0x1f, 0, 0x90), 'badVarint'],
    ['arguments that are not an array', callWith(0x01), 'malformedArguments'],
    ['arguments that are a map', callWith(0x80), 'malformedArguments'],
    ['bytes after the arguments', callWith(0x90, 0x00), 'malformedArguments'],
    ['the never-used byte 0xc1', callWith(0x91, 0xc1), 'malformedArguments'],
    ['an array cut short', callWith(0x93, 0x01, 0x02), 'truncated'],
    ['a string cut short', callWith(0x91, 0xa5, 0x61), 'truncated'],
    ['a float cut short', callWith(0x91, 0xcb, 0, 0, 0), 'truncated'],
    ['a str32 header cut short', callWith(0x91, 0xdb, 0, 0), 'truncated'],
    ['an argument array claiming more values than bytes', callWith(0x9f, 0x01), 'truncated'],
    ['a map with a map key', callWith(0x91, 0x81, 0x80, 0x01), 'malformedArguments'],
    ['a map with an array key', callWith(0x91, 0x81, 0x90, 0x01), 'malformedArguments'],
    ['a map with a byte-string key', callWith(0x91, 0x81, 0xc4, 0x00, 0x01), 'malformedArguments'],
    ['a map with an extension key', callWith(0x91, 0x81, 0xd4, 0x00, 0x00, 0x01), 'malformedArguments'],
    ['a map missing its last value', callWith(0x91, 0x81, 0xa1, 0x61), 'truncated'],
    ['a Set (msgpackr extension 0x73)', callWith(0x91, 0xd4, 0x73, 0x00, 0x90), 'malformedArguments'],
    ['an Error (msgpackr extension 0x65)', callWith(0x91, 0xd4, 0x65, 0x00, 0x93, 0xa1, 0x45, 0xa0, 0xc0), 'malformedArguments'],
    ['a RegExp (msgpackr extension 0x78)', callWith(0x91, 0xd4, 0x78, 0x00, 0x92, 0xa1, 0x61, 0xa0), 'malformedArguments'],
    ['a structured-clone pointer (0x70)', callWith(0x91, 0xd6, 0x70, 0, 0, 0, 1), 'malformedArguments'],
    ['a structured-clone id (0x69)', callWith(0x91, 0xd6, 0x69, 0, 0, 0, 1, 0x90), 'malformedArguments'],
    ['a string bundle (0x62)', callWith(0x91, 0xd6, 0x62, 0xff, 0xff, 0xff, 0xff), 'malformedArguments'],
    ['a record definition (0x72)', callWith(0x91, 0xd4, 0x72, 0x40, 0x91, 0xa1, 0x61, 0x01), 'malformedArguments'],
    ['a big integer extension (0x42)', callWith(0x91, 0xd7, 0x42, 1, 2, 3, 4, 5, 6, 7, 8), 'malformedArguments'],
    ['an undefined extension with data', callWith(0x91, 0xd5, 0x00, 0x00, 0x00), 'malformedArguments'],
    ['a timestamp of the wrong size', callWith(0x91, 0xd5, 0xff, 0x00, 0x00), 'malformedArguments'],
    ['a typed array of an unknown code', callWith(0x91, 0xc7, 0x03, 0x74, 0x0c, 0, 0), 'malformedArguments'],
    ['a typed array without a code', callWith(0x91, 0xc7, 0x00, 0x74), 'malformedArguments'],
    ['a Float32Array of 3 bytes', callWith(0x91, 0xc7, 0x04, 0x74, 0x07, 0, 0, 0), 'malformedArguments'],
    ['an extension cut short', callWith(0x91, 0xd7, 0xff, 0, 0), 'truncated'],
    ['an ANNOUNCE_PATH without its hash', Uint8Array.of(RpcCommand.AnnouncePath, 1, 0, 0, 0), 'truncated'],
    ['an ANNOUNCE_PATH without an id', Uint8Array.of(RpcCommand.AnnouncePath), 'truncated'],
    ['a CONFIRM_PATH without a status', Uint8Array.of(RpcCommand.ConfirmPath, 1), 'truncated'],
    ['a CONFIRM_PATH with status 4', Uint8Array.of(RpcCommand.ConfirmPath, 1, 4), 'badStatus'],
    ['a CONFIRM_PATH with bytes after the status', Uint8Array.of(RpcCommand.ConfirmPath, 1, 0, 0), 'trailingBytes'],
    ['a CONFIRM_PATH with an overlong id', Uint8Array.of(RpcCommand.ConfirmPath, 0x81, 0x00, 0), 'badVarint'],
    ['a RELAY without a peer id', Uint8Array.of(RpcCommand.Relay), 'truncated'],
    ['a RELAY with nothing inside', Uint8Array.of(RpcCommand.Relay, 2), 'truncated'],
    ['a RELAY inside a RELAY', Uint8Array.of(RpcCommand.Relay, 2, RpcCommand.Relay, 2, RpcCommand.Raw), 'nestedRelay'],
    ['an ANNOUNCE_PATH inside a RELAY', concat(RpcCommand.Relay, 2, codec.encodeAnnounce(1, 2, 'p')), 'unrelayableCommand'],
    ['a CONFIRM_PATH inside a RELAY', concat(RpcCommand.Relay, 2, codec.encodeConfirm(1, 0)), 'unrelayableCommand'],
    ['an unknown command inside a RELAY', Uint8Array.of(RpcCommand.Relay, 2, 17), 'unknownCommand'],
    ['a bad CALL inside a RELAY', Uint8Array.of(RpcCommand.Relay, 2, RpcCommand.Call, 0, 0, 0xc1), 'malformedArguments'],
    ['a relay peer id of −2^31', Uint8Array.of(RpcCommand.Relay, 0xff, 0xff, 0xff, 0xff, 0x0f, RpcCommand.Raw), 'badPeerId'],
    ['a relay peer id of 2^31', Uint8Array.of(RpcCommand.Relay, 0x80, 0x80, 0x80, 0x80, 0x10, RpcCommand.Raw), 'badVarint'],
    ['an AUTH without data', Uint8Array.of(RpcCommand.Auth), 'truncated'],
    ['an AUTH_COMPLETE with bytes after it', Uint8Array.of(RpcCommand.AuthComplete, 0), 'trailingBytes'],
    ['an AUTH inside a RELAY', Uint8Array.of(RpcCommand.Relay, 2, RpcCommand.Auth, 1), 'unrelayableCommand'],
    ['a PEER_ADD without an id', Uint8Array.of(RpcCommand.PeerAdd), 'truncated'],
    ['a PEER_ADD naming the server', Uint8Array.of(RpcCommand.PeerAdd, 1), 'badPeerId'],
    ['a PEER_ADD naming 0', Uint8Array.of(RpcCommand.PeerAdd, 0), 'badPeerId'],
    ['a PEER_ADD naming 2^31', Uint8Array.of(RpcCommand.PeerAdd, 0x80, 0x80, 0x80, 0x80, 0x08), 'badPeerId'],
    ['a PEER_REMOVE with bytes after the id', Uint8Array.of(RpcCommand.PeerRemove, 5, 0), 'trailingBytes'],
  ])('drops %s', (_name, packet, reason) => {
    expect(reasonOf(packet)).toBe(reason);
  });

  it('drops headers that claim huge lengths before allocating anything', () => {
    const huge = [
      [0xdd, 0xff, 0xff, 0xff, 0xff],
      [0xdf, 0xff, 0xff, 0xff, 0xff],
      [0xdb, 0xff, 0xff, 0xff, 0xff],
      [0xc6, 0xff, 0xff, 0xff, 0xff],
      [0xc9, 0xff, 0xff, 0xff, 0xff, 0x74, 0x01],
    ];
    expect(huge.map((header) => reasonOf(callWith(0x91, Uint8Array.from(header), 0x00)))).toEqual([
      'collectionTooLong',
      'collectionTooLong',
      'stringTooLong',
      'binaryTooLong',
      'binaryTooLong',
    ]);
    expect(reasonOf(callWith(0xdd, 0xff, 0xff, 0xff, 0xff))).toBe('tooManyArguments');
    // within every limit, but claiming more values than the bytes that remain
    expect(reasonOf(callWith(0x91, 0xdc, 0x0f, 0xff, 0x01))).toBe('truncated');
    expect(reasonOf(callWith(0x91, 0xde, 0x0f, 0xff, 0x01))).toBe('truncated');
    expect(reasonOf(callWith(0x91, 0xda, 0x3f, 0xff, 0x61))).toBe('truncated');
  });
});

describe('prototype pollution', () => {
  it('drops a map keyed __proto__ and leaves Object.prototype alone', () => {
    const before = prototypeSnapshot();
    const payload = concat(0x91, 0x81, fixstr('__proto__'), 0x81, fixstr('polluted'), 0x01);
    expect(reasonOf(callWith(payload))).toBe('forbiddenKey');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(prototypeSnapshot()).toEqual(before);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('drops the key %s however it is encoded and wherever it sits', (key) => {
    expect(reasonOf(callWith(0x91, 0x81, fixstr(key), 0x01))).toBe('forbiddenKey');
    expect(reasonOf(callWith(0x91, 0x81, str8(key), 0x01))).toBe('forbiddenKey');
    expect(reasonOf(callWith(0x91, 0x91, 0x82, fixstr('ok'), 0x01, fixstr(key), 0x80))).toBe('forbiddenKey');
  });

  it('keeps those names as ordinary string values', () => {
    expect(roundTripArgs(['__proto__', ['constructor'], { name: 'prototype' }])).toStrictEqual([
      '__proto__',
      ['constructor'],
      { name: 'prototype' },
    ]);
  });

  it('refuses to send an object with such a key', () => {
    expectRtcError(() => codec.encodeCall(0, 0, [JSON.parse('{"__proto__":{"polluted":1}}')]), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => codec.encodeCall(0, 0, [{ constructor: { prototype: { polluted: 1 } } }]), 'ERR_INVALID_PARAMETER');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('encoding refuses what it cannot send', () => {
  it.each<[string, unknown]>([
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a Set', new Set([1])],
    ['an Error', new Error('boom')],
    ['a RegExp', /x/],
    ['a bigint beyond 64 bits', 2n ** 64n],
    ['an invalid Date', new Date(Number.NaN)],
    ['a Map with object keys', new Map([[{}, 1]])],
  ])('throws ERR_INVALID_PARAMETER for %s', (_name, value) => {
    expectRtcError(() => codec.encodeCall(0, 0, [value]), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => codec.encodeCall(0, 0, [{ nested: [value] }]), 'ERR_INVALID_PARAMETER');
  });

  it('throws for a cycle instead of recursing forever', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expectRtcError(() => codec.encodeCall(0, 0, [cyclic]), 'ERR_INVALID_PARAMETER');
    expect(roundTripArgs([{ after: 'cycle' }])).toStrictEqual([{ after: 'cycle' }]);
  });

  it('throws for ids, statuses, peer ids and paths out of range', () => {
    for (const id of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expectRtcError(() => codec.encodeCall(id, 0, []), 'ERR_INVALID_PARAMETER');
      expectRtcError(() => codec.encodeCall(0, id, []), 'ERR_INVALID_PARAMETER');
      expectRtcError(() => codec.encodeAnnounce(id, 0, 'p'), 'ERR_INVALID_PARAMETER');
      expectRtcError(() => codec.encodeAnnounce(0, id, 'p'), 'ERR_INVALID_PARAMETER');
      expectRtcError(() => codec.encodeConfirm(id, PathStatus.Ok), 'ERR_INVALID_PARAMETER');
    }
    expectRtcError(() => codec.encodeCall(0, 0, 'not an array' as unknown as unknown[]), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => codec.encodeConfirm(0, 4 as PathStatus), 'ERR_INVALID_PARAMETER');
    for (const path of ['', 'a\ud800b', '\udc00']) {
      expectRtcError(() => codec.encodeAnnounce(0, 0, path), 'ERR_INVALID_PARAMETER');
    }
    const call = codec.encodeCall(0, 0, []);
    for (const peerId of [2 ** 31, -(2 ** 31), 0.5]) {
      expectRtcError(() => codec.encodeRelay(peerId, call), 'ERR_INVALID_PARAMETER');
    }
    expectRtcError(() => codec.encodeRelay(1, codec.encodeRelay(1, call)), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => codec.encodeRelay(1, codec.encodeConfirm(0, PathStatus.Ok)), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => codec.encodeRelay(1, new Uint8Array(0)), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => codec.encodeRaw('text' as unknown as Uint8Array), 'ERR_INVALID_PARAMETER');
  });
});

describe('method tables', () => {
  it('numbers methods by their sorted names, whatever order they are listed in', () => {
    const table = buildMethodTable(['jump', 'fire', 'Zoom', 'aim']);
    expect(table.names).toEqual(['Zoom', 'aim', 'fire', 'jump']);
    expect([...table.methodIds]).toEqual([['Zoom', 0], ['aim', 1], ['fire', 2], ['jump', 3]]);
    expect(table.hash).toBe(methodTableHash(['aim', 'Zoom', 'jump', 'fire']));
  });

  it('hashes with 32-bit FNV-1a over the names joined by line feeds', () => {
    expect(methodTableHash([])).toBe(0x811c_9dc5);
    expect(methodTableHash(['a'])).toBe(0xe40c_292c);
    expect(methodTableHash(['foobar'])).toBe(0xbf9c_f968);
    // FNV-1a of "a\nb", computed independently
    expect(methodTableHash(['b', 'a'])).toBe(0x28e4_c710);
    expect(methodTableHash(['a', 'b'])).not.toBe(methodTableHash(['a', 'c']));
    expect(methodTableHash(['ab'])).not.toBe(methodTableHash(['a', 'b']));
  });

  it('refuses names that would make ids or hashes ambiguous', () => {
    for (const names of [['a', 'a'], [''], ['a\nb'], [3 as unknown as string]]) {
      expectRtcError(() => buildMethodTable(names), 'ERR_INVALID_PARAMETER');
    }
  });
});

describe('fuzzing', () => {
  const random = seededRandom(0x5eed_c0de);
  const int = (below: number) => Math.floor(random() * below);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const keyChars = ['a', 'b', 'x', 'é', '日', '😀', '_', '1'];
  const strictLimits = { maxArguments: 6, maxDepth: 3, maxStringLength: 24, maxBinaryLength: 24, maxCollectionLength: 6 };
  const strict = new RpcCodec(strictLimits);

  function randomString(maxLength: number): string {
    let text = '';
    for (let index = int(maxLength + 1); index > 0; index--) text += pick(keyChars);
    return text;
  }

  // Values of every supported kind, sometimes over the strict codec's limits.
  function randomValue(depth: number): unknown {
    switch (int(depth > 0 ? 16 : 12)) {
      case 0:
        return int(256) - 128;
      case 1:
        return (random() - 0.5) * 2 ** int(64);
      case 2:
        return int(2 ** 31) * (int(2) === 0 ? 1 : -1) * 2 ** int(22);
      case 3:
        return BigInt(int(2 ** 31)) * BigInt(int(2 ** 31)) * (int(2) === 0 ? 1n : -1n);
      case 4:
        return randomString(30);
      case 5:
        return pick([null, undefined, true, false, NaN, Infinity]);
      case 6:
        return Uint8Array.from({ length: int(30) }, () => int(256));
      case 7:
        return Float32Array.from({ length: int(8) }, () => random());
      case 8:
        return Int16Array.from({ length: int(14) }, () => int(65_536) - 32_768);
      case 9:
        return Buffer.from(Uint8Array.from({ length: int(30) }, () => int(256)));
      case 10:
        return new Date(int(2 ** 40));
      case 11:
        return Float64Array.from({ length: int(4) }, () => random());
      case 12:
      case 13:
        return Array.from({ length: int(8) }, () => randomValue(depth - 1));
      default: {
        const object: Record<string, unknown> = {};
        for (let index = int(8); index > 0; index--) object[randomString(4) || 'k'] = randomValue(depth - 1);
        return object;
      }
    }
  }

  function randomPacket(): Uint8Array {
    switch (int(6)) {
      case 0:
        return codec.encodeRaw(Uint8Array.from({ length: int(20) }, () => int(256)));
      case 1:
        return codec.encodeAnnounce(int(2 ** 20), int(2 ** 32), randomString(12) || 'p');
      case 2:
        return codec.encodeConfirm(int(300), pick([PathStatus.Ok, PathStatus.UnknownPath, PathStatus.MethodTableMismatch]));
      case 3:
        return codec.encodeRelay(int(2 ** 31) - 2 ** 30, codec.encodeCall(int(300), int(40), [randomValue(2)]));
      default:
        return codec.encodeCall(int(2 ** 20), int(200), Array.from({ length: int(5) }, () => randomValue(3)));
    }
  }

  const interesting = [0x00, 0x7f, 0x80, 0xff, 0xc1, 0xc4, 0xc6, 0xc7, 0xc9, 0xd4, 0xd8, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0x74, 0x72, 0x70, 0x69, 0x62, 0x9f, 0x8f, 0xbf];

  function mutate(packet: Uint8Array): Uint8Array {
    let bytes = Array.from(packet);
    for (let round = 1 + int(4); round > 0; round--) {
      const at = int(bytes.length + 1);
      switch (int(6)) {
        case 0:
          if (bytes.length > 0) bytes[at % bytes.length]! ^= 1 << int(8);
          break;
        case 1:
          if (bytes.length > 0) bytes[at % bytes.length] = random() < 0.5 ? int(256) : pick(interesting);
          break;
        case 2:
          bytes.splice(at, 0, ...Array.from({ length: 1 + int(4) }, () => (random() < 0.5 ? int(256) : pick(interesting))));
          break;
        case 3:
          bytes.splice(at, 1 + int(4));
          break;
        case 4:
          bytes = bytes.slice(0, at);
          break;
        default:
          bytes.splice(at, 0, ...bytes.slice(int(bytes.length + 1), int(bytes.length + 1)));
      }
    }
    return Uint8Array.from(bytes);
  }

  function craftedHugeHeader(): Uint8Array {
    const headers = [0xdc, 0xdd, 0xde, 0xdf, 0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9];
    const header = pick(headers);
    const sizeBytes = [0xdc, 0xde, 0xda, 0xc5, 0xc8].includes(header) ? 2 : [0xd9, 0xc4, 0xc7].includes(header) ? 1 : 4;
    const length = Array.from({ length: sizeBytes }, () => (random() < 0.7 ? 0xff : int(256)));
    const tail = Array.from({ length: int(12) }, () => int(256));
    const nesting = new Array(int(4)).fill(0x91);
    const argumentBytes = Uint8Array.from([...(random() < 0.2 ? [] : [0x91]), ...nesting, header, ...length, ...tail]);
    const call = callWith(argumentBytes);
    return random() < 0.3 ? concat(RpcCommand.Relay, int(128), call) : call;
  }

  // Every plain object a decoded value holds has Object.prototype (or none) and no forbidden key.
  function expectSafe(value: unknown, depth = 0): void {
    if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date) return;
    expect(depth).toBeLessThan(64);
    if (!Array.isArray(value)) {
      expect([Object.prototype, null]).toContain(Object.getPrototypeOf(value));
      for (const key of ['__proto__', 'constructor', 'prototype']) expect(Object.hasOwn(value, key)).toBe(false);
    }
    for (const child of Object.values(value)) expectSafe(child, depth + 1);
  }

  it('sends and accepts the same things: what encodeCall accepts decodes to an equal value', () => {
    let sent = 0;
    let refused = 0;
    for (let run = 0; run < 3000; run++) {
      const args = Array.from({ length: int(8) }, () => randomValue(4));
      let packet: Uint8Array;
      try {
        packet = strict.encodeCall(int(1000), int(50), args);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('ERR_INVALID_PARAMETER');
        refused++;
        continue;
      }
      sent++;
      const packetHex = hex(packet);
      const result = strict.decode(packet);
      expect(result.ok, `dropped its own packet ${packetHex}`).toBe(true);
      if (result.ok && result.packet.kind === 'call') expect(result.packet.args).toStrictEqual(args);
    }
    // both branches must have been exercised for the property to mean anything
    expect(sent).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
  });

  it('never throws, never touches a prototype, and names only documented reasons', () => {
    const before = prototypeSnapshot();
    const reasons = new Map<string, number>();
    const corpus = Array.from({ length: 300 }, randomPacket);
    const cases: Uint8Array[] = [];
    for (let index = 0; index < 12_000; index++) cases.push(mutate(pick(corpus)));
    for (let index = 0; index < 4000; index++) cases.push(Uint8Array.from({ length: int(40) }, () => int(256)));
    for (let index = 0; index < 4000; index++) cases.push(Uint8Array.from([int(5), ...Array.from({ length: int(40) }, () => int(256))]));
    for (let index = 0; index < 3000; index++) cases.push(craftedHugeHeader());
    for (const packet of cases) {
      for (const using of [codec, strict]) {
        let result;
        try {
          result = using.decode(packet);
        } catch (error) {
          throw new Error(`decode threw ${String(error)} on ${hex(packet)}`);
        }
        if (result.ok) {
          if (result.packet.kind === 'call') expectSafe(result.packet.args);
          if (result.packet.kind === 'relay' && result.packet.inner.kind === 'call') expectSafe(result.packet.inner.args);
          reasons.set('ok', (reasons.get('ok') ?? 0) + 1);
        } else {
          expect(DECODE_DROP_REASONS).toContain(result.reason);
          reasons.set(result.reason, (reasons.get(result.reason) ?? 0) + 1);
        }
      }
    }
    expect(prototypeSnapshot()).toEqual(before);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // The fuzz reached deep into the format, not just the first byte.
    for (const reason of ['ok', 'truncated', 'malformedArguments', 'collectionTooLong', 'stringTooLong', 'binaryTooLong', 'badVarint', 'unknownCommand']) {
      expect(reasons.get(reason) ?? 0, reason).toBeGreaterThan(0);
    }
    // msgpackr is left in a working state.
    expect(roundTripArgs([{ still: ['works'] }])).toStrictEqual([{ still: ['works'] }]);
  });
});
