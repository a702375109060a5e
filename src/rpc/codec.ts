// The wire format of the RPC layer (rtcmesh's counterpart of Godot's SceneMultiplayer packets):
// turns each packet kind into bytes and bytes back into a typed packet or a named drop reason.
// Every rule of a packet from the network is checked here, at the byte that carries it; the API
// above never re-checks.
import { Packr, RESERVE_START_SPACE, Unpackr } from 'msgpackr';
import { MAX_FRAMING_BYTES } from '../mesh/framing.js';
import { RtcError } from '../transport/errors.js';
import {
  MAX_VARINT_BYTES,
  MAX_VARINT_VALUE,
  VARINT_TRUNCATED,
  readVarint,
  varintSize,
  writeVarint,
  zigzagDecode,
  zigzagEncode,
  type VarintCursor,
} from './varint.js';

/**
 * The first byte of every RPC-layer packet. Godot's SceneMultiplayer names: `NETWORK_COMMAND_RAW`,
 * `NETWORK_COMMAND_REMOTE_CALL`, `NETWORK_COMMAND_SIMPLIFY_PATH`, `NETWORK_COMMAND_CONFIRM_PATH`,
 * and the relay of `NETWORK_COMMAND_SYS`.
 */
export enum RpcCommand {
  /** The game's own bytes (`sendBytes`), after the command byte. */
  Raw = 0,
  /** varint pathId, varint methodId, then the arguments as one msgpack array. */
  Call = 1,
  /** varint pathId, u32 big-endian method-table hash, then the path in UTF-8. */
  AnnouncePath = 2,
  /** varint pathId, u8 {@link PathStatus}. */
  ConfirmPath = 3,
  /** zigzag-varint peer id, then a complete CALL or RAW packet. */
  Relay = 4,
}

/** The answer of a CONFIRM_PATH packet to an ANNOUNCE_PATH. */
export enum PathStatus {
  /** The path exists and its method table matches: CALLs with this path id will be served. */
  Ok = 0,
  /** The receiver has no node at that path. */
  UnknownPath = 1,
  /** The path exists but its method table hash differs: the two builds disagree on the methods. */
  MethodTableMismatch = 2,
}

/**
 * The most bytes a RELAY header takes (command byte and a 5-byte varint). A CALL or RAW packet is
 * kept this much under `maxPacketBytes`, so that the server can always re-stamp and forward it.
 */
export const RELAY_HEADER_MAX_BYTES = 1 + MAX_VARINT_BYTES;

/**
 * Limits on the RPC packets a codec sends and accepts. Both ends must use the same values: a
 * packet one end may send, the other must accept.
 */
export interface RpcLimits {
  /**
   * The largest packet, in bytes. A CALL or RAW packet is at most this minus
   * {@link RELAY_HEADER_MAX_BYTES}, so that it still fits once relayed. Default 65525: the
   * largest message libdatachannel and browsers exchange by default (64 KiB), less the mesh framing.
   */
  maxPacketBytes: number;
  /** The most arguments of one call. Default 32. */
  maxArguments: number;
  /**
   * The deepest nesting of arrays and maps inside one argument: a number is depth 0, `[1]`
   * depth 1, `{ a: [1] }` depth 2. Default 16.
   */
  maxDepth: number;
  /** The longest string, value or map key, in UTF-8 bytes. Default 16384. */
  maxStringLength: number;
  /** The longest Uint8Array, typed array, ArrayBuffer or DataView argument, in bytes. Default 65536. */
  maxBinaryLength: number;
  /** The longest path of an ANNOUNCE_PATH, in UTF-8 bytes. Default 256. */
  maxPathLength: number;
  /** The most elements of one array, or entries of one map, inside the arguments. Default 4096. */
  maxCollectionLength: number;
}

/** The default {@link RpcLimits}. */
export const DEFAULT_RPC_LIMITS: Readonly<RpcLimits> = Object.freeze({
  maxPacketBytes: 65536 - MAX_FRAMING_BYTES,
  maxArguments: 32,
  maxDepth: 16,
  maxStringLength: 16384,
  maxBinaryLength: 65536,
  maxPathLength: 256,
  maxCollectionLength: 4096,
});

/**
 * Every reason {@link RpcCodec.decode} gives for dropping a packet, so that a stats table can
 * list them all:
 * - `empty`: no bytes at all.
 * - `oversized`: over `maxPacketBytes`, or a CALL or RAW over `maxPacketBytes` −
 *   {@link RELAY_HEADER_MAX_BYTES}.
 * - `unknownCommand`: a first byte (of the packet or of a relayed packet) that no {@link RpcCommand} has.
 * - `truncated`: the bytes end inside a field, or before the arguments or the relayed packet.
 * - `badVarint`: a varint over 5 bytes, above 2^32 − 1, or not in its shortest form.
 * - `trailingBytes`: bytes after the status of a CONFIRM_PATH.
 * - `malformedArguments`: the arguments are not one msgpack array of supported values, or bytes follow it.
 * - `tooManyArguments`: more than `maxArguments`.
 * - `tooDeep`: arrays and maps nested deeper than `maxDepth`.
 * - `stringTooLong`: a string or map key over `maxStringLength`.
 * - `binaryTooLong`: a byte string or typed array over `maxBinaryLength`.
 * - `collectionTooLong`: an array or map over `maxCollectionLength`.
 * - `forbiddenKey`: a map key `__proto__`, `constructor` or `prototype`, the keys that reach
 *   prototypes through the game's own merge code.
 * - `badPath`: an announced path that is empty, over `maxPathLength` or not valid UTF-8.
 * - `badStatus`: a CONFIRM_PATH status that no {@link PathStatus} has.
 * - `nestedRelay`: a RELAY inside a RELAY.
 * - `unrelayableCommand`: an ANNOUNCE_PATH or CONFIRM_PATH inside a RELAY; only CALL and RAW travel there.
 * - `badPeerId`: a relay peer id outside −(2^31 − 1) … 2^31 − 1.
 */
export const DROP_REASONS = [
  'empty',
  'oversized',
  'unknownCommand',
  'truncated',
  'badVarint',
  'trailingBytes',
  'malformedArguments',
  'tooManyArguments',
  'tooDeep',
  'stringTooLong',
  'binaryTooLong',
  'collectionTooLong',
  'forbiddenKey',
  'badPath',
  'badStatus',
  'nestedRelay',
  'unrelayableCommand',
  'badPeerId',
] as const;

/** Why a packet was dropped; one of {@link DROP_REASONS}, where each is described. */
export type DropReason = (typeof DROP_REASONS)[number];

/** A decoded RAW packet. */
export interface RawPacket {
  readonly kind: 'raw';
  /** The game's bytes: a view on the received packet, not a copy. */
  readonly bytes: Uint8Array;
}

/** A decoded CALL packet. */
export interface CallPacket {
  readonly kind: 'call';
  /** The path id the sender announced for the target node. */
  readonly pathId: number;
  /** The index of the method in the path's sorted method table ({@link buildMethodTable}). */
  readonly methodId: number;
  /**
   * The arguments, with maps as plain objects, byte strings as Uint8Arrays that own their memory,
   * typed arrays as their own type and 64-bit msgpack integers as bigints.
   */
  readonly args: unknown[];
}

/** A decoded ANNOUNCE_PATH packet. */
export interface AnnouncePathPacket {
  readonly kind: 'announcePath';
  /** The id the sender will use for this path in its CALLs. */
  readonly pathId: number;
  /** The sender's {@link methodTableHash} for the path. */
  readonly methodTableHash: number;
  /** The node path, non-empty valid UTF-8 of at most `maxPathLength` bytes. */
  readonly path: string;
}

/** A decoded CONFIRM_PATH packet. */
export interface ConfirmPathPacket {
  readonly kind: 'confirmPath';
  /** The path id being answered. */
  readonly pathId: number;
  /** Whether the receiver will serve CALLs with that path id. */
  readonly status: PathStatus;
}

/** A decoded RELAY packet. */
export interface RelayPacket {
  readonly kind: 'relay';
  /**
   * From a client to the server, the target (0 all, n one peer, −n all but n); from the server to
   * a client, the true sender. The codec does not know which way the packet went: the API must
   * refuse a non-positive id on a client.
   */
  readonly peerId: number;
  /** The relayed packet, decoded and checked. */
  readonly inner: CallPacket | RawPacket;
  /** The relayed packet's bytes (a view on the received packet), for the server to forward. */
  readonly innerBytes: Uint8Array;
}

/** Any packet {@link RpcCodec.decode} accepts. */
export type DecodedPacket = RawPacket | CallPacket | AnnouncePathPacket | ConfirmPathPacket | RelayPacket;

/** The result of {@link RpcCodec.decode}: the packet, or why it was dropped. */
export type DecodeResult = { ok: true; packet: DecodedPacket } | { ok: false; reason: DropReason };

/** A path's methods in wire order, with the hash that both ends compare. */
export interface MethodTable {
  /** The method names, sorted; a method's id is its index here. */
  readonly names: readonly string[];
  /** Method name → method id. */
  readonly methodIds: ReadonlyMap<string, number>;
  /** {@link methodTableHash} of the names. */
  readonly hash: number;
}

const HASH_BYTES = 4;
const STATUS_BYTES = 1;
// DESIGN.md, "Peer ids and targets": ids are positive int32 values.
const MAX_PEER_ID = 0x7fff_ffff;
const METHOD_SEPARATOR = '\n';
// 32-bit FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/).
const FNV_OFFSET_BASIS = 0x811c_9dc5;
const FNV_PRIME = 0x0100_0193;

const LIMIT_NAMES = Object.keys(DEFAULT_RPC_LIMITS) as (keyof RpcLimits)[];
// Limits that may be zero: a game may allow only calls without arguments, or only flat values.
const LIMITS_ALLOWING_ZERO: ReadonlySet<keyof RpcLimits> = new Set(['maxArguments', 'maxDepth']);

const utf8Encoder = new TextEncoder();
// fatal: invalid UTF-8 is a bad path, not a path with U+FFFD in it; ignoreBOM: a leading U+FEFF
// is part of the path as sent.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /\p{Cs}/u;

// ---- msgpack ---------------------------------------------------------------------------------

// The msgpack first bytes the argument check tells apart
// (https://github.com/msgpack/msgpack/blob/master/spec.md).
const POSITIVE_FIXINT_MAX = 0x7f;
const FIXMAP_MAX = 0x8f;
const FIXARRAY_MAX = 0x9f;
const FIXSTR_MAX = 0xbf;
const NEGATIVE_FIXINT_MIN = 0xe0;
const FIXMAP_LENGTH_MASK = 0x0f;
const FIXARRAY_LENGTH_MASK = 0x0f;
const FIXSTR_LENGTH_MASK = 0x1f;
const FIXARRAY_MIN = 0x90;
const NIL = 0xc0;
const FALSE = 0xc2;
const TRUE = 0xc3;
const BIN8 = 0xc4;
const BIN16 = 0xc5;
const BIN32 = 0xc6;
const EXT8 = 0xc7;
const EXT16 = 0xc8;
const EXT32 = 0xc9;
const FLOAT32 = 0xca;
const FLOAT64 = 0xcb;
const UINT8 = 0xcc;
const UINT16 = 0xcd;
const UINT32 = 0xce;
const UINT64 = 0xcf;
const INT8 = 0xd0;
const INT16 = 0xd1;
const INT32 = 0xd2;
const INT64 = 0xd3;
const FIXEXT1 = 0xd4;
const FIXEXT2 = 0xd5;
const FIXEXT4 = 0xd6;
const FIXEXT8 = 0xd7;
const FIXEXT16 = 0xd8;
const STR8 = 0xd9;
const STR16 = 0xda;
const STR32 = 0xdb;
const ARRAY16 = 0xdc;
const ARRAY32 = 0xdd;
const MAP16 = 0xde;
const MAP32 = 0xdf;

// What a msgpack header announces, once its length is read.
const KIND_SCALAR = 0;
const KIND_STRING = 1;
const KIND_BINARY = 2;
const KIND_EXTENSION = 3;
const KIND_ARRAY = 4;
const KIND_MAP = 5;

// The only extension types accepted: msgpackr's undefined (fixext 1, as notepack writes it), the
// standard timestamp, and msgpackr's typed arrays (`moreTypes`). msgpackr would also run its
// structured-clone references, Error, RegExp, Set, bundled strings and record definitions from the
// network, some of which read past their own data; those are refused before msgpackr sees them.
const EXT_UNDEFINED = 0x00;
const EXT_UNDEFINED_BYTES = 1;
const EXT_TIMESTAMP = 0xff;
const TIMESTAMP_BYTES: ReadonlySet<number> = new Set([4, 8, 12]);
const EXT_TYPED_ARRAY = 0x74;
const TYPED_ARRAY_CODE_BYTES = 1;
// Element size by msgpackr's typed-array code (unpack.js `typedArrays`: Int8, Uint8,
// Uint8Clamped, Int16, Uint16, Int32, Uint32, Float32, Float64, BigInt64, BigUint64; then 16
// ArrayBuffer, 17 DataView). 0 marks a code msgpackr cannot build, which would throw.
const TYPED_ARRAY_ELEMENT_BYTES: readonly number[] = [1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 0, 0, 0, 0, 0, 1, 1];

// Keys that let a value from the network reach a prototype once the game merges it into its own
// objects (`target[key] = …` walks `__proto__`; `constructor.prototype` leads to Object.prototype).
const FORBIDDEN_KEYS: readonly Uint8Array[] = ['__proto__', 'constructor', 'prototype'].map((key) =>
  utf8Encoder.encode(key),
);

// msgpackr's record extension is off in both directions, so the stream is plain msgpack any
// implementation reads; `moreTypes` sends typed arrays as themselves rather than as bytes.
const packr = new Packr({
  useRecords: false,
  moreTypes: true,
  // fixmap for small objects: a few bytes less per object, which a network packet feels.
  variableMapSize: true,
  writeFunction: () => {
    throw invalid('RPC arguments cannot hold functions; send the data the function would compute instead');
  },
});
// mapsAsObjects builds plain objects (whose prototype is Object.prototype); the argument check has
// already refused the keys that could reach a prototype. copyBuffers: a byte-string argument owns
// its memory, so it neither aliases nor pins the received packet.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });

const UNSUPPORTED_VALUE_HINT =
  'send only numbers, bigints within 64 bits, strings, booleans, null, undefined, arrays, plain ' +
  'objects with string keys, Uint8Arrays and other typed arrays, ArrayBuffers, DataViews and ' +
  'valid Dates';

/**
 * Encodes and decodes the packets of the RPC layer (Godot's SceneMultiplayer `process_packet` and
 * the senders of SceneRPCInterface and SceneCacheInterface), under one set of {@link RpcLimits}.
 * Decoding never throws; encoding throws `RtcError('ERR_INVALID_PARAMETER')` on what it cannot
 * send within the limits. Not re-entrant: use one codec from one thread of control.
 */
export class RpcCodec {
  /** The limits in force, defaults filled in. */
  readonly limits: Readonly<RpcLimits>;

  // The largest CALL or RAW packet: one that a RELAY header still fits in front of.
  private readonly maxRelayableBytes: number;
  // Per nesting level of the argument check: values still to read, and whether it is a map.
  // They grow with the deepest nesting met, which the packet's size bounds.
  private readonly pendingValues: number[] = [];
  private readonly mapLevels: boolean[] = [];
  private readonly cursor: VarintCursor = { offset: 0 };
  private readonly unpackRange = { start: 0, end: 0 };

  /**
   * Creates a codec. Each limit left out takes its {@link DEFAULT_RPC_LIMITS} value. Throws
   * `ERR_INVALID_PARAMETER` for a limit that is not an integer in range.
   */
  constructor(limits: Partial<RpcLimits> = {}) {
    const merged = { ...DEFAULT_RPC_LIMITS, ...limits };
    for (const name of LIMIT_NAMES) {
      const value = merged[name];
      const least = LIMITS_ALLOWING_ZERO.has(name) ? 0 : 1;
      if (!Number.isInteger(value) || value < least || value > MAX_VARINT_VALUE) {
        throw invalid(`RpcLimits.${name} must be an integer in ${least} … ${MAX_VARINT_VALUE}, not ${value}`);
      }
    }
    if (merged.maxPacketBytes <= RELAY_HEADER_MAX_BYTES + 1) {
      throw invalid(
        `RpcLimits.maxPacketBytes must be over ${RELAY_HEADER_MAX_BYTES + 1}: a relay header and a command byte`,
      );
    }
    this.limits = Object.freeze(merged);
    this.maxRelayableBytes = merged.maxPacketBytes - RELAY_HEADER_MAX_BYTES;
  }

  // ---- encoding ------------------------------------------------------------------------------

  /**
   * Encodes a CALL of method `methodId` on the node announced as `pathId` (Godot `rpc`). As with
   * JSON, a Map or a class instance arrives as a plain object. Throws `ERR_INVALID_PARAMETER` if
   * an id is not an integer in 0 … 2^32 − 1, or if the arguments hold a value that cannot be sent
   * (a function, a symbol, a Set, a cycle…) or exceed a limit.
   */
  encodeCall(pathId: number, methodId: number, args: readonly unknown[]): Uint8Array {
    checkWireId('pathId', pathId);
    checkWireId('methodId', methodId);
    if (!Array.isArray(args)) {
      throw invalid('RPC arguments must be an array; pass [] for none');
    }
    const headerBytes = 1 + varintSize(pathId) + varintSize(methodId);
    let packet: Uint8Array;
    try {
      // The header is written into the space msgpackr leaves in front: no copy of the arguments.
      packet = packr.pack(args, RESERVE_START_SPACE | headerBytes);
    } catch (error) {
      throw encodingFailure(error);
    }
    const reason = this.checkArguments(packet, headerBytes, packet.length);
    if (reason !== undefined) throw this.argumentsFailure(reason);
    if (packet.length > this.maxRelayableBytes) {
      throw invalid(
        `the call encodes to ${packet.length} bytes, over the ${this.maxRelayableBytes} a call may take ` +
          '(RpcLimits.maxPacketBytes less a relay header); split the data over several calls',
      );
    }
    packet[0] = RpcCommand.Call;
    writeVarint(packet, writeVarint(packet, 1, pathId), methodId);
    return packet;
  }

  /**
   * A copy of a CALL packet that `decode` accepted, with its path id replaced and its arguments
   * left byte for byte: how the server forwards a relayed call under its own path ids, without a
   * decode and re-encode that could change or grow the arguments. Throws `ERR_INVALID_PARAMETER`
   * if the longer id takes the packet over the relayable size.
   */
  readdressCall(call: Uint8Array, pathId: number): Uint8Array {
    checkWireId('pathId', pathId);
    const cursor = this.cursor;
    cursor.offset = 1;
    if (call[0] !== RpcCommand.Call || readVarint(call, call.length, cursor) < 0) throw invalid('readdressCall takes a CALL packet');
    const rest = call.subarray(cursor.offset);
    const packet = new Uint8Array(1 + varintSize(pathId) + rest.length);
    if (packet.length > this.maxRelayableBytes) throw invalid(`the forwarded call would take ${packet.length} bytes, over ${this.maxRelayableBytes}`);
    packet[0] = RpcCommand.Call;
    packet.set(rest, writeVarint(packet, 1, pathId));
    return packet;
  }

  /**
   * Encodes a RAW packet carrying the game's `bytes` (Godot `send_bytes`). Throws
   * `ERR_INVALID_PARAMETER` if they do not fit in `maxPacketBytes` less the RAW and relay headers.
   */
  encodeRaw(bytes: Uint8Array): Uint8Array {
    if (!(bytes instanceof Uint8Array)) {
      throw invalid('sendBytes takes a Uint8Array');
    }
    if (1 + bytes.length > this.maxRelayableBytes) {
      throw invalid(
        `${bytes.length} bytes do not fit in one packet (at most ${this.maxRelayableBytes - 1}); send them in parts`,
      );
    }
    const packet = new Uint8Array(1 + bytes.length);
    packet[0] = RpcCommand.Raw;
    packet.set(bytes, 1);
    return packet;
  }

  /**
   * Encodes an ANNOUNCE_PATH: from now on `pathId` stands for `path`, whose method table hashes to
   * `hash` (Godot's SIMPLIFY_PATH). Throws `ERR_INVALID_PARAMETER` for an id or hash that is not
   * an integer in 0 … 2^32 − 1, or a path that is empty, holds a lone surrogate or exceeds
   * `maxPathLength` UTF-8 bytes.
   */
  encodeAnnounce(pathId: number, hash: number, path: string): Uint8Array {
    checkWireId('pathId', pathId);
    checkWireId('hash', hash);
    if (typeof path !== 'string' || path.length === 0 || LONE_SURROGATE.test(path)) {
      throw invalid('a path must be a non-empty string of whole Unicode characters');
    }
    const pathBytes = utf8Encoder.encode(path);
    if (pathBytes.length > this.limits.maxPathLength) {
      throw invalid(
        `the path takes ${pathBytes.length} UTF-8 bytes, over RpcLimits.maxPathLength ` +
          `(${this.limits.maxPathLength}); shorten it`,
      );
    }
    const hashOffset = 1 + varintSize(pathId);
    const packet = new Uint8Array(hashOffset + HASH_BYTES + pathBytes.length);
    if (packet.length > this.limits.maxPacketBytes) {
      throw invalid('RpcLimits.maxPathLength must leave the path room in a packet');
    }
    packet[0] = RpcCommand.AnnouncePath;
    writeVarint(packet, 1, pathId);
    new DataView(packet.buffer).setUint32(hashOffset, hash);
    packet.set(pathBytes, hashOffset + HASH_BYTES);
    return packet;
  }

  /**
   * Encodes a CONFIRM_PATH answering the announcement of `pathId` (Godot's CONFIRM_PATH). Throws
   * `ERR_INVALID_PARAMETER` for an id out of range or a status that is no {@link PathStatus}.
   */
  encodeConfirm(pathId: number, status: PathStatus): Uint8Array {
    checkWireId('pathId', pathId);
    if (!isPathStatus(status)) {
      throw invalid(`status must be a PathStatus (0, 1 or 2), got ${String(status)}`);
    }
    const statusOffset = 1 + varintSize(pathId);
    const packet = new Uint8Array(statusOffset + STATUS_BYTES);
    packet[0] = RpcCommand.ConfirmPath;
    writeVarint(packet, 1, pathId);
    packet[statusOffset] = status;
    return packet;
  }

  /**
   * Wraps a CALL or RAW packet in a RELAY for `peerId`: the target when a client sends (0 all,
   * n one peer, −n all but n), the true sender when the server forwards. Throws
   * `ERR_INVALID_PARAMETER` for an id outside −(2^31 − 1) … 2^31 − 1, or an inner packet that is
   * not a CALL or RAW within the size a relay carries.
   */
  encodeRelay(peerId: number, inner: Uint8Array): Uint8Array {
    if (!Number.isInteger(peerId) || Math.abs(peerId) > MAX_PEER_ID) {
      throw invalid(`a relay peer id must be an integer in −${MAX_PEER_ID} … ${MAX_PEER_ID}`);
    }
    if (!(inner instanceof Uint8Array) || !isRelayable(inner[0])) {
      throw invalid('only a packet from encodeCall or encodeRaw can be relayed');
    }
    if (inner.length > this.maxRelayableBytes) {
      throw invalid(`a relayed packet takes at most ${this.maxRelayableBytes} bytes`);
    }
    const zigzag = zigzagEncode(peerId);
    const innerOffset = 1 + varintSize(zigzag);
    const packet = new Uint8Array(innerOffset + inner.length);
    packet[0] = RpcCommand.Relay;
    writeVarint(packet, 1, zigzag);
    packet.set(inner, innerOffset);
    return packet;
  }

  // ---- decoding ------------------------------------------------------------------------------

  /**
   * Decodes one packet from the network, or names why it must be dropped (see
   * {@link DROP_REASONS}). Never throws, whatever the bytes; allocates in proportion to the
   * packet's size, never to a length it claims; what it returns cannot reach a prototype.
   */
  decode(packet: Uint8Array): DecodeResult {
    if (packet.length === 0) return drop('empty');
    if (packet.length > this.limits.maxPacketBytes) return drop('oversized');
    switch (packet[0]) {
      case RpcCommand.Raw:
      case RpcCommand.Call:
        return this.decodeRelayable(packet);
      case RpcCommand.AnnouncePath:
        return this.decodeAnnounce(packet);
      case RpcCommand.ConfirmPath:
        return this.decodeConfirm(packet);
      case RpcCommand.Relay:
        return this.decodeRelay(packet);
      default:
        return drop('unknownCommand');
    }
  }

  // A CALL or RAW, bare or inside a RELAY; the caller has checked the command byte.
  private decodeRelayable(packet: Uint8Array): DecodeResult {
    if (packet.length > this.maxRelayableBytes) return drop('oversized');
    if (packet[0] === RpcCommand.Raw) return accept({ kind: 'raw', bytes: packet.subarray(1) });
    const cursor = this.cursor;
    cursor.offset = 1;
    const pathId = readVarint(packet, packet.length, cursor);
    if (pathId < 0) return dropVarint(pathId);
    const methodId = readVarint(packet, packet.length, cursor);
    if (methodId < 0) return dropVarint(methodId);
    const start = cursor.offset;
    const reason = this.checkArguments(packet, start, packet.length);
    if (reason !== undefined) return drop(reason);
    let args: unknown[];
    try {
      this.unpackRange.start = start;
      this.unpackRange.end = packet.length;
      args = unpackr.unpack(packet, this.unpackRange) as unknown[];
    } catch (error) {
      // msgpackr does not throw on bytes the check passed, except that its recursion meets the
      // stack (a RangeError) if maxDepth is set in the hundreds of thousands. Whatever else it
      // might throw drops the packet rather than crash poll().
      return drop(error instanceof RangeError ? 'tooDeep' : 'malformedArguments');
    }
    return accept({ kind: 'call', pathId, methodId, args });
  }

  private decodeAnnounce(packet: Uint8Array): DecodeResult {
    const cursor = this.cursor;
    cursor.offset = 1;
    const pathId = readVarint(packet, packet.length, cursor);
    if (pathId < 0) return dropVarint(pathId);
    const pathOffset = cursor.offset + HASH_BYTES;
    if (pathOffset > packet.length) return drop('truncated');
    const hash = readBigEndian(packet, cursor.offset, HASH_BYTES);
    const pathBytes = packet.length - pathOffset;
    if (pathBytes === 0 || pathBytes > this.limits.maxPathLength) return drop('badPath');
    let path: string;
    try {
      path = utf8Decoder.decode(packet.subarray(pathOffset));
    } catch {
      return drop('badPath');
    }
    return accept({ kind: 'announcePath', pathId, methodTableHash: hash, path });
  }

  private decodeConfirm(packet: Uint8Array): DecodeResult {
    const cursor = this.cursor;
    cursor.offset = 1;
    const pathId = readVarint(packet, packet.length, cursor);
    if (pathId < 0) return dropVarint(pathId);
    const status = packet[cursor.offset];
    if (status === undefined) return drop('truncated');
    if (!isPathStatus(status)) return drop('badStatus');
    if (cursor.offset + STATUS_BYTES !== packet.length) return drop('trailingBytes');
    return accept({ kind: 'confirmPath', pathId, status });
  }

  private decodeRelay(packet: Uint8Array): DecodeResult {
    const cursor = this.cursor;
    cursor.offset = 1;
    const zigzag = readVarint(packet, packet.length, cursor);
    if (zigzag < 0) return dropVarint(zigzag);
    const peerId = zigzagDecode(zigzag);
    if (Math.abs(peerId) > MAX_PEER_ID) return drop('badPeerId');
    const innerBytes = packet.subarray(cursor.offset);
    const command = innerBytes[0];
    if (command === undefined) return drop('truncated');
    if (command === RpcCommand.Relay) return drop('nestedRelay');
    if (command === RpcCommand.AnnouncePath || command === RpcCommand.ConfirmPath) {
      return drop('unrelayableCommand');
    }
    if (!isRelayable(command)) return drop('unknownCommand');
    const inner = this.decodeRelayable(innerBytes);
    if (!inner.ok) return inner;
    return accept({ kind: 'relay', peerId, inner: inner.packet as CallPacket | RawPacket, innerBytes });
  }

  // ---- arguments -----------------------------------------------------------------------------

  // Walks the msgpack arguments in bytes[start, end) without building anything, and names the
  // first rule they break: the one array of at most maxArguments values, every length against
  // its limit and against the bytes left (so no header can make anyone allocate more than the
  // packet holds), nesting against maxDepth (so msgpackr's recursion stays shallow), only the
  // extension types listed above, map keys that are scalars and not forbidden, nothing after the
  // array. Iterative, so hostile nesting costs no stack. encodeCall runs it over its own output,
  // so what one end sends the other accepts.
  private checkArguments(bytes: Uint8Array, start: number, end: number): DropReason | undefined {
    const { maxArguments, maxDepth, maxStringLength, maxBinaryLength, maxCollectionLength } = this.limits;
    const pendingValues = this.pendingValues;
    const mapLevels = this.mapLevels;
    let offset = start;
    if (offset >= end) return 'truncated';
    const head = bytes[offset++]!;
    let count: number;
    if (head >= FIXARRAY_MIN && head <= FIXARRAY_MAX) {
      count = head & FIXARRAY_LENGTH_MASK;
    } else if (head === ARRAY16 || head === ARRAY32) {
      const lengthBytes = 2 << (head - ARRAY16);
      if (end - offset < lengthBytes) return 'truncated';
      count = readBigEndian(bytes, offset, lengthBytes);
      offset += lengthBytes;
    } else {
      return 'malformedArguments';
    }
    if (count > maxArguments) return 'tooManyArguments';
    if (count > end - offset) return 'truncated';
    let depth = 0;
    pendingValues[0] = count;
    mapLevels[0] = false;
    for (;;) {
      const pending = pendingValues[depth]!;
      if (pending === 0) {
        if (depth === 0) break;
        depth--;
        continue;
      }
      // A map level holds key, value, key, value…: an even count left means a key comes next.
      const isKey = mapLevels[depth]! && pending % 2 === 0;
      pendingValues[depth] = pending - 1;
      if (offset >= end) return 'truncated';
      const token = bytes[offset++]!;
      if (token <= POSITIVE_FIXINT_MAX || token >= NEGATIVE_FIXINT_MIN) continue;
      let kind: number;
      let length = 0;
      let lengthBytes = 0;
      if (token <= FIXMAP_MAX) {
        kind = KIND_MAP;
        length = token & FIXMAP_LENGTH_MASK;
      } else if (token <= FIXARRAY_MAX) {
        kind = KIND_ARRAY;
        length = token & FIXARRAY_LENGTH_MASK;
      } else if (token <= FIXSTR_MAX) {
        kind = KIND_STRING;
        length = token & FIXSTR_LENGTH_MASK;
      } else {
        switch (token) {
          case NIL:
          case FALSE:
          case TRUE:
            kind = KIND_SCALAR;
            break;
          case UINT8:
          case INT8:
            kind = KIND_SCALAR;
            length = 1;
            break;
          case UINT16:
          case INT16:
            kind = KIND_SCALAR;
            length = 2;
            break;
          case FLOAT32:
          case UINT32:
          case INT32:
            kind = KIND_SCALAR;
            length = 4;
            break;
          case FLOAT64:
          case UINT64:
          case INT64:
            kind = KIND_SCALAR;
            length = 8;
            break;
          // Each family's 8-, 16- and 32-bit forms (or 1…16-byte fixext sizes) are consecutive
          // bytes, so the size doubles with each step past the first.
          case STR8:
          case STR16:
          case STR32:
            kind = KIND_STRING;
            lengthBytes = 1 << (token - STR8);
            break;
          case BIN8:
          case BIN16:
          case BIN32:
            kind = KIND_BINARY;
            lengthBytes = 1 << (token - BIN8);
            break;
          case EXT8:
          case EXT16:
          case EXT32:
            kind = KIND_EXTENSION;
            lengthBytes = 1 << (token - EXT8);
            break;
          case FIXEXT1:
          case FIXEXT2:
          case FIXEXT4:
          case FIXEXT8:
          case FIXEXT16:
            kind = KIND_EXTENSION;
            length = 1 << (token - FIXEXT1);
            break;
          case ARRAY16:
          case ARRAY32:
            kind = KIND_ARRAY;
            lengthBytes = 2 << (token - ARRAY16);
            break;
          case MAP16:
          case MAP32:
            kind = KIND_MAP;
            lengthBytes = 2 << (token - MAP16);
            break;
          default:
            // 0xc1, which msgpack reserves as "never used".
            return 'malformedArguments';
        }
        if (lengthBytes > 0) {
          if (end - offset < lengthBytes) return 'truncated';
          length = readBigEndian(bytes, offset, lengthBytes);
          offset += lengthBytes;
        }
      }
      // msgpackr turns a scalar key into its string; a container, byte string or extension key
      // has no string form it accepts.
      if (isKey && kind !== KIND_SCALAR && kind !== KIND_STRING) return 'malformedArguments';
      switch (kind) {
        case KIND_SCALAR:
          if (end - offset < length) return 'truncated';
          break;
        case KIND_STRING:
          if (length > maxStringLength) return 'stringTooLong';
          if (end - offset < length) return 'truncated';
          if (isKey && isForbiddenKey(bytes, offset, length)) return 'forbiddenKey';
          break;
        case KIND_BINARY:
          if (length > maxBinaryLength) return 'binaryTooLong';
          if (end - offset < length) return 'truncated';
          break;
        case KIND_EXTENSION: {
          if (offset >= end) return 'truncated';
          const type = bytes[offset++]!;
          if (type === EXT_TYPED_ARRAY && length - TYPED_ARRAY_CODE_BYTES > maxBinaryLength) {
            return 'binaryTooLong';
          }
          if (end - offset < length) return 'truncated';
          const reason = checkExtension(type, bytes, offset, length);
          if (reason !== undefined) return reason;
          break;
        }
        default: {
          if (length > maxCollectionLength) return 'collectionTooLong';
          // Every value takes at least a byte, so a count beyond the bytes left is a lie.
          const values = kind === KIND_MAP ? length * 2 : length;
          if (values > end - offset) return 'truncated';
          if (depth === maxDepth) return 'tooDeep';
          depth++;
          pendingValues[depth] = values;
          mapLevels[depth] = kind === KIND_MAP;
          continue;
        }
      }
      offset += length;
    }
    return offset === end ? undefined : 'malformedArguments';
  }

  // The exception encodeCall throws for arguments its own check refuses.
  private argumentsFailure(reason: DropReason): RtcError {
    const { maxArguments, maxDepth, maxStringLength, maxBinaryLength, maxCollectionLength } = this.limits;
    switch (reason) {
      case 'tooManyArguments':
        return invalid(`more than RpcLimits.maxArguments (${maxArguments}) arguments; pass an array instead`);
      case 'tooDeep':
        return invalid(`arrays and objects nest deeper than RpcLimits.maxDepth (${maxDepth}); flatten them`);
      case 'stringTooLong':
        return invalid(`a string is over RpcLimits.maxStringLength (${maxStringLength} UTF-8 bytes); split it`);
      case 'binaryTooLong':
        return invalid(`a byte array is over RpcLimits.maxBinaryLength (${maxBinaryLength} bytes); split it`);
      case 'collectionTooLong':
        return invalid(`an array or object is over RpcLimits.maxCollectionLength (${maxCollectionLength}); split it`);
      case 'forbiddenKey':
        return invalid('an object has a key __proto__, constructor or prototype, which receivers refuse; rename it');
      default:
        return invalid(`the arguments hold a value that cannot be sent; ${UNSUPPORTED_VALUE_HINT}`);
    }
  }
}

/**
 * Sorts a path's method names into the table both ends share: a method's id is its index in
 * `names`, sorted by UTF-16 code units (the default order of `Array.prototype.sort`). Throws
 * `ERR_INVALID_PARAMETER` for a name that is empty, not a string, contains a line feed or
 * appears twice.
 */
export function buildMethodTable(methodNames: readonly string[]): MethodTable {
  const names = [...methodNames].sort();
  const methodIds = new Map<string, number>();
  for (const name of names) {
    if (typeof name !== 'string' || name.length === 0 || name.includes(METHOD_SEPARATOR)) {
      throw invalid(`method names are non-empty strings without a line feed, not ${JSON.stringify(name)}`);
    }
    if (methodIds.has(name)) throw invalid(`method "${name}" is listed twice; list each method once`);
    methodIds.set(name, methodIds.size);
  }
  return { names, methodIds, hash: fnv1a(utf8Encoder.encode(names.join(METHOD_SEPARATOR))) };
}

/**
 * The 32-bit FNV-1a hash of a path's sorted method names joined by line feeds, in UTF-8: two ends
 * agree on method ids exactly when their hashes match. Throws as {@link buildMethodTable}.
 */
export function methodTableHash(methodNames: readonly string[]): number {
  return buildMethodTable(methodNames).hash;
}

function fnv1a(bytes: Uint8Array): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, FNV_PRIME) >>> 0;
  return hash;
}

// The rules of each accepted extension type, once its data is known to be in the packet.
function checkExtension(
  type: number,
  bytes: Uint8Array,
  dataOffset: number,
  dataLength: number,
): DropReason | undefined {
  switch (type) {
    case EXT_UNDEFINED:
      return dataLength === EXT_UNDEFINED_BYTES ? undefined : 'malformedArguments';
    case EXT_TIMESTAMP:
      return TIMESTAMP_BYTES.has(dataLength) ? undefined : 'malformedArguments';
    case EXT_TYPED_ARRAY: {
      if (dataLength < TYPED_ARRAY_CODE_BYTES) return 'malformedArguments';
      const elementBytes = TYPED_ARRAY_ELEMENT_BYTES[bytes[dataOffset]!] ?? 0;
      if (elementBytes === 0) return 'malformedArguments';
      // msgpackr builds the array over exactly these bytes, which throws unless they divide evenly.
      return (dataLength - TYPED_ARRAY_CODE_BYTES) % elementBytes === 0 ? undefined : 'malformedArguments';
    }
    default:
      return 'malformedArguments';
  }
}

function isForbiddenKey(bytes: Uint8Array, offset: number, length: number): boolean {
  for (const key of FORBIDDEN_KEYS) {
    if (key.length !== length) continue;
    let index = 0;
    while (index < length && bytes[offset + index] === key[index]) index++;
    if (index === length) return true;
  }
  return false;
}

function readBigEndian(bytes: Uint8Array, offset: number, size: number): number {
  let value = 0;
  for (let index = 0; index < size; index++) value = value * 256 + bytes[offset + index]!;
  return value;
}

function checkWireId(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_VARINT_VALUE) {
    throw invalid(`${name} must be an integer in 0 … ${MAX_VARINT_VALUE}, got ${String(value)}`);
  }
}

function isPathStatus(value: number): value is PathStatus {
  return (
    value === PathStatus.Ok || value === PathStatus.UnknownPath || value === PathStatus.MethodTableMismatch
  );
}

function isRelayable(command: number | undefined): boolean {
  return command === RpcCommand.Call || command === RpcCommand.Raw;
}

// What msgpackr throws for a value it cannot write (a symbol, a getter that throws, a cycle that
// exhausts the stack), turned into the caller's mistake it is.
function encodingFailure(error: unknown): RtcError {
  if (error instanceof RtcError) return error;
  if (error instanceof RangeError) {
    return invalid('the arguments nest too deeply or contain a cycle; send a tree of plain values');
  }
  const detail = error instanceof Error ? error.message : String(error);
  return invalid(`the arguments cannot be encoded (${detail}); ${UNSUPPORTED_VALUE_HINT}`);
}

function invalid(message: string): RtcError {
  return new RtcError('ERR_INVALID_PARAMETER', message);
}

function accept(packet: DecodedPacket): DecodeResult {
  return { ok: true, packet };
}

function drop(reason: DropReason): DecodeResult {
  return { ok: false, reason };
}

function dropVarint(code: number): DecodeResult {
  return drop(code === VARINT_TRUNCATED ? 'truncated' : 'badVarint');
}
