// The wire format of the RPC layer (rtcmesh's counterpart of Godot's SceneMultiplayer packets):
// turns each packet kind into bytes and bytes back into a typed packet or a named drop reason.
// Every rule of a packet from the network is checked here, at the byte that carries it (the
// arguments of a CALL by msgpack-check.ts); the API above never re-checks.
import { RESERVE_START_SPACE } from 'msgpackr';
import { readBigEndian } from './big-endian.js';
import { argumentsFailure, encodingFailure, invalid } from './errors.js';
// buildMethodTable, methodTableHash and DEFAULT_RPC_LIMITS: imported as types, for TSDoc {@link}s.
import type { buildMethodTable, methodTableHash } from './method-table.js';
import { checkArguments } from './msgpack-check.js';
import { packr, unpackr } from './msgpack.js';
import { RELAY_HEADER_MAX_BYTES, resolveRpcLimits, type DEFAULT_RPC_LIMITS, type RpcLimits } from './rpc-limits.js';
import {
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
  /** zigzag-varint peer id, then a complete CALL, RAW or ENTITY_CALL packet. */
  Relay = 4,
  /** varint pathId, varint lanes: the sender is done with the path id; sent once on each of `lanes` reliable lanes. */
  ReleasePath = 5,
  /** varint pathId (a spawner's), varint netId, varint methodId, then the arguments as one msgpack array. */
  EntityCall = 6,
  /** Replication (`src/replication/`): a spawner's entity appears; its layout is the replication codec's. */
  Spawn = 7,
  /** Replication: a spawner's entity is gone. */
  Despawn = 8,
  /** Replication: the always-synchronized state of entities, unreliable. */
  Sync = 9,
  /** Replication: changed watched properties of entities, reliable. */
  Delta = 10,
  /** Replication: one part of a replication packet too large for one packet. */
  Fragment = 11,
  /** Replication: the latest synchronized state received whole, per spawner. */
  Ack = 12,
  /** Authentication (Godot's `SYS_COMMAND_AUTH` with data): the game's auth bytes, one or more, to the end. */
  Auth = 13,
  /** Authentication (Godot's empty `SYS_COMMAND_AUTH`): the sender has completed authentication of the receiver. */
  AuthComplete = 14,
  /** Server to client (Godot's `SYS_COMMAND_ADD_PEER`): varint peer id of another client now connected. */
  PeerAdd = 15,
  /** Server to client (Godot's `SYS_COMMAND_DEL_PEER`): varint peer id of a client gone. */
  PeerRemove = 16,
}

/** The commands whose bodies the replication layer decodes; the RPC codec hands them over whole. */
export type ReplicationCommand =
  | RpcCommand.Spawn
  | RpcCommand.Despawn
  | RpcCommand.Sync
  | RpcCommand.Delta
  | RpcCommand.Fragment
  | RpcCommand.Ack;

/** The most reliable lanes (one per transfer channel) a RELEASE_PATH may name. */
export const MAX_RELEASE_LANES = 256;

/** The answer of a CONFIRM_PATH packet to an ANNOUNCE_PATH. */
export enum PathStatus {
  /** The path exists and its method table matches: CALLs with this path id will be served. */
  Ok = 0,
  /** The receiver has no node at that path. */
  UnknownPath = 1,
  /** The path exists but its method table hash differs: the two builds disagree on the methods. */
  MethodTableMismatch = 2,
  /** The receiver holds as many of the sender's path ids as `maxPathsPerPeer` allows; the announcement was not kept. */
  TooManyPaths = 3,
}

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
 * - `unrelayableCommand`: anything but a CALL, RAW or ENTITY_CALL inside a RELAY.
 * - `badPeerId`: a relay peer id outside −(2^31 − 1) … 2^31 − 1.
 * - `badLaneCount`: a RELEASE_PATH naming 0 lanes or more than {@link MAX_RELEASE_LANES}.
 *
 * A PEER_ADD or PEER_REMOVE naming an id outside 2 … 2^31 − 1 is `badPeerId`; an AUTH without
 * data is `truncated`; an AUTH_COMPLETE, PEER_ADD or PEER_REMOVE with bytes after its fields is
 * `trailingBytes`.
 */
export const DECODE_DROP_REASONS = [
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
  'badLaneCount',
] as const;

/** Why a packet was dropped; one of {@link DECODE_DROP_REASONS}, where each is described. */
export type DecodeDropReason = (typeof DECODE_DROP_REASONS)[number];

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

/** A decoded ENTITY_CALL packet: a CALL on one entity of a spawner. */
export interface EntityCallPacket {
  readonly kind: 'entityCall';
  /** The path id the sender announced for the spawner. */
  readonly pathId: number;
  /** The entity's network id within the spawner. */
  readonly netId: number;
  /** The index of the method in the spawner's entity method table. */
  readonly methodId: number;
  /** The arguments, as {@link CallPacket.args}. */
  readonly args: unknown[];
}

/** A RELEASE_PATH: the sender will not use `pathId` again. */
export interface ReleasePathPacket {
  readonly kind: 'releasePath';
  readonly pathId: number;
  /** On how many reliable lanes the sender sent this release; the receiver forgets the id after the last. */
  readonly lanes: number;
}

/** A decoded AUTH packet: authentication data for the game's `authCallback`. */
export interface AuthPacket {
  readonly kind: 'auth';
  /** The data, at least one byte: a view on the received packet, not a copy. */
  readonly bytes: Uint8Array;
}

/** A decoded AUTH_COMPLETE packet: the sender has accepted the receiver. */
export interface AuthCompletePacket {
  readonly kind: 'authComplete';
}

/** A decoded PEER_ADD or PEER_REMOVE: the server tells a client of another client. */
export interface PeerNoticePacket {
  readonly kind: 'peerAdd' | 'peerRemove';
  /** The other client, 2 … 2^31 − 1. */
  readonly peerId: number;
}

/** A replication packet, passed whole to the replication layer, which decodes its body. */
export interface ReplicationPacket {
  readonly kind: 'replication';
  readonly command: ReplicationCommand;
  /** The whole packet, command byte included (a view on the received bytes). */
  readonly bytes: Uint8Array;
}

/** What a RELAY may carry. */
export type RelayablePacket = CallPacket | RawPacket | EntityCallPacket;

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
  readonly inner: RelayablePacket;
  /** The relayed packet's bytes (a view on the received packet), for the server to forward. */
  readonly innerBytes: Uint8Array;
}

/** Any packet {@link RpcCodec.decode} accepts. */
export type DecodedPacket =
  | RawPacket
  | CallPacket
  | AnnouncePathPacket
  | ConfirmPathPacket
  | RelayPacket
  | ReleasePathPacket
  | EntityCallPacket
  | ReplicationPacket
  | AuthPacket
  | AuthCompletePacket
  | PeerNoticePacket;

/** The result of {@link RpcCodec.decode}: the packet, or why it was dropped. */
export type DecodeResult = { ok: true; packet: DecodedPacket } | { ok: false; reason: DecodeDropReason };

const HASH_BYTES = 4;
const STATUS_BYTES = 1;
// docs/design.md, "Peer ids": ids are positive int32 values.
const MAX_PEER_ID = 0x7fff_ffff;

const utf8Encoder = new TextEncoder();
// fatal: invalid UTF-8 is a bad path, not a path with U+FFFD in it; ignoreBOM: a leading U+FEFF
// is part of the path as sent.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /\p{Cs}/u;

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
  private readonly cursor: VarintCursor = { offset: 0 };
  private readonly unpackRange = { start: 0, end: 0 };

  /**
   * Creates a codec. Each limit left out takes its {@link DEFAULT_RPC_LIMITS} value. Throws
   * `ERR_INVALID_PARAMETER` for a limit that is not an integer in range.
   */
  constructor(limits: Partial<RpcLimits> = {}) {
    this.limits = resolveRpcLimits(limits);
    this.maxRelayableBytes = this.limits.maxPacketBytes - RELAY_HEADER_MAX_BYTES;
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
    return this.encodeArguments(RpcCommand.Call, [pathId, methodId], args);
  }

  /**
   * Encodes an ENTITY_CALL of method `methodId` on entity `netId` of the spawner announced as
   * `pathId`. Throws as {@link encodeCall}.
   */
  encodeEntityCall(pathId: number, netId: number, methodId: number, args: readonly unknown[]): Uint8Array {
    checkWireId('pathId', pathId);
    checkWireId('netId', netId);
    checkWireId('methodId', methodId);
    return this.encodeArguments(RpcCommand.EntityCall, [pathId, netId, methodId], args);
  }

  /**
   * A copy of a CALL or ENTITY_CALL packet that `decode` accepted, with its path id
   * (the varint after the command byte) replaced and the rest left byte for byte: how the server
   * forwards a relayed packet under its own path ids, without a decode and re-encode that could
   * change or grow it. Throws `ERR_INVALID_PARAMETER` if the longer id takes the packet over the
   * relayable size.
   */
  readdress(packet: Uint8Array, pathId: number): Uint8Array {
    checkWireId('pathId', pathId);
    const cursor = this.cursor;
    cursor.offset = 1;
    if (!isAddressed(packet[0]) || readVarint(packet, packet.length, cursor) < 0) {
      throw invalid('readdress takes a CALL or ENTITY_CALL packet');
    }
    const rest = packet.subarray(cursor.offset);
    const readdressed = new Uint8Array(1 + varintSize(pathId) + rest.length);
    if (readdressed.length > this.maxRelayableBytes) {
      throw invalid(`the forwarded packet would take ${readdressed.length} bytes, over ${this.maxRelayableBytes}`);
    }
    readdressed[0] = packet[0]!;
    readdressed.set(rest, writeVarint(readdressed, 1, pathId));
    return readdressed;
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
      throw invalid(`status must be a PathStatus (0 to 3), got ${String(status)}`);
    }
    const statusOffset = 1 + varintSize(pathId);
    const packet = new Uint8Array(statusOffset + STATUS_BYTES);
    packet[0] = RpcCommand.ConfirmPath;
    writeVarint(packet, 1, pathId);
    packet[statusOffset] = status;
    return packet;
  }

  /**
   * Encodes a RELEASE_PATH: this side is done with `pathId` on the link, and sends this release
   * on each of `lanes` reliable lanes. Throws `ERR_INVALID_PARAMETER` for an id or lane count out
   * of range.
   */
  encodeRelease(pathId: number, lanes: number): Uint8Array {
    checkWireId('pathId', pathId);
    if (!Number.isInteger(lanes) || lanes < 1 || lanes > MAX_RELEASE_LANES) {
      throw invalid(`a release names 1 … ${MAX_RELEASE_LANES} lanes, not ${String(lanes)}`);
    }
    const packet = new Uint8Array(1 + varintSize(pathId) + varintSize(lanes));
    packet[0] = RpcCommand.ReleasePath;
    writeVarint(packet, writeVarint(packet, 1, pathId), lanes);
    return packet;
  }

  /**
   * Encodes an AUTH carrying the game's authentication `bytes` (Godot `send_auth`). Throws
   * `ERR_INVALID_PARAMETER` for bytes that are empty or do not fit in a packet.
   */
  encodeAuth(bytes: Uint8Array): Uint8Array {
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw invalid('authentication data is a non-empty Uint8Array');
    if (1 + bytes.length > this.limits.maxPacketBytes) throw invalid(`authentication data takes at most ${this.limits.maxPacketBytes - 1} bytes`);
    const packet = new Uint8Array(1 + bytes.length);
    packet[0] = RpcCommand.Auth;
    packet.set(bytes, 1);
    return packet;
  }

  /** Encodes an AUTH_COMPLETE: this side has accepted the receiver (Godot `complete_auth`). */
  encodeAuthComplete(): Uint8Array {
    return Uint8Array.of(RpcCommand.AuthComplete);
  }

  /**
   * Encodes a PEER_ADD or PEER_REMOVE naming client `peerId`. Throws `ERR_INVALID_PARAMETER` for
   * an id outside 2 … 2^31 − 1.
   */
  encodePeerNotice(kind: PeerNoticePacket['kind'], peerId: number): Uint8Array {
    if (!Number.isInteger(peerId) || peerId < 2 || peerId > MAX_PEER_ID) throw invalid(`a client's id is an integer in 2 … ${MAX_PEER_ID}`);
    const packet = new Uint8Array(1 + varintSize(peerId));
    packet[0] = kind === 'peerAdd' ? RpcCommand.PeerAdd : RpcCommand.PeerRemove;
    writeVarint(packet, 1, peerId);
    return packet;
  }

  // A command byte, the varint ids, then the arguments as one msgpack array.
  private encodeArguments(command: RpcCommand, ids: readonly number[], args: readonly unknown[]): Uint8Array {
    if (!Array.isArray(args)) {
      throw invalid('RPC arguments must be an array; pass [] for none');
    }
    let headerBytes = 1;
    for (const id of ids) headerBytes += varintSize(id);
    let packet: Uint8Array;
    try {
      // The header is written into the space msgpackr leaves in front: no copy of the arguments.
      packet = packr.pack(args, RESERVE_START_SPACE | headerBytes);
    } catch (error) {
      throw encodingFailure(error);
    }
    const reason = checkArguments(packet, headerBytes, packet.length, this.limits);
    if (reason !== undefined) throw argumentsFailure(reason, this.limits);
    if (packet.length > this.maxRelayableBytes) {
      throw invalid(
        `the call encodes to ${packet.length} bytes, over the ${this.maxRelayableBytes} a call may take ` +
          '(RpcLimits.maxPacketBytes less a relay header); split the data over several calls',
      );
    }
    packet[0] = command;
    let offset = 1;
    for (const id of ids) offset = writeVarint(packet, offset, id);
    return packet;
  }

  /**
   * Wraps a CALL, RAW or ENTITY_CALL packet in a RELAY for `peerId`: the target when a client sends (0 all,
   * n one peer, −n all but n), the true sender when the server forwards. Throws
   * `ERR_INVALID_PARAMETER` for an id outside −(2^31 − 1) … 2^31 − 1, or an inner packet that is
   * not one of those within the size a relay carries.
   */
  encodeRelay(peerId: number, inner: Uint8Array): Uint8Array {
    if (!Number.isInteger(peerId) || Math.abs(peerId) > MAX_PEER_ID) {
      throw invalid(`a relay peer id must be an integer in −${MAX_PEER_ID} … ${MAX_PEER_ID}`);
    }
    if (!(inner instanceof Uint8Array) || !isRelayable(inner[0])) {
      throw invalid('only a CALL, RAW or ENTITY_CALL packet can be relayed');
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
   * {@link DECODE_DROP_REASONS}). Never throws, whatever the bytes; allocates in proportion to the
   * packet's size, never to a length it claims; what it returns cannot reach a prototype.
   */
  decode(packet: Uint8Array): DecodeResult {
    if (packet.length === 0) return drop('empty');
    if (packet.length > this.limits.maxPacketBytes) return drop('oversized');
    switch (packet[0]) {
      case RpcCommand.Raw:
      case RpcCommand.Call:
      case RpcCommand.EntityCall:
        return this.decodeRelayable(packet);
      case RpcCommand.Sync:
      case RpcCommand.Delta:
      case RpcCommand.Spawn:
      case RpcCommand.Despawn:
      case RpcCommand.Fragment:
      case RpcCommand.Ack:
        return accept({ kind: 'replication', command: packet[0], bytes: packet });
      case RpcCommand.ReleasePath:
        return this.decodeRelease(packet);
      case RpcCommand.AnnouncePath:
        return this.decodeAnnounce(packet);
      case RpcCommand.ConfirmPath:
        return this.decodeConfirm(packet);
      case RpcCommand.Relay:
        return this.decodeRelay(packet);
      case RpcCommand.Auth:
        return packet.length > 1 ? accept({ kind: 'auth', bytes: packet.subarray(1) }) : drop('truncated');
      case RpcCommand.AuthComplete:
        return packet.length === 1 ? accept({ kind: 'authComplete' }) : drop('trailingBytes');
      case RpcCommand.PeerAdd:
      case RpcCommand.PeerRemove:
        return this.decodePeerNotice(packet);
      default:
        return drop('unknownCommand');
    }
  }

  // A packet that may travel in a RELAY, bare or inside one; the caller has checked the command byte.
  private decodeRelayable(packet: Uint8Array): DecodeResult {
    if (packet.length > this.maxRelayableBytes) return drop('oversized');
    const command = packet[0]!;
    if (command === RpcCommand.Raw) return accept({ kind: 'raw', bytes: packet.subarray(1) });
    const cursor = this.cursor;
    cursor.offset = 1;
    const pathId = readVarint(packet, packet.length, cursor);
    if (pathId < 0) return dropVarint(pathId);
    let netId = 0;
    if (command === RpcCommand.EntityCall) {
      netId = readVarint(packet, packet.length, cursor);
      if (netId < 0) return dropVarint(netId);
    }
    const methodId = readVarint(packet, packet.length, cursor);
    if (methodId < 0) return dropVarint(methodId);
    const start = cursor.offset;
    const reason = checkArguments(packet, start, packet.length, this.limits);
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
    if (command === RpcCommand.EntityCall) return accept({ kind: 'entityCall', pathId, netId, methodId, args });
    return accept({ kind: 'call', pathId, methodId, args });
  }

  private decodeRelease(packet: Uint8Array): DecodeResult {
    const cursor = this.cursor;
    cursor.offset = 1;
    const pathId = readVarint(packet, packet.length, cursor);
    if (pathId < 0) return dropVarint(pathId);
    const lanes = readVarint(packet, packet.length, cursor);
    if (lanes < 0) return dropVarint(lanes);
    if (lanes === 0 || lanes > MAX_RELEASE_LANES) return drop('badLaneCount');
    if (cursor.offset !== packet.length) return drop('trailingBytes');
    return accept({ kind: 'releasePath', pathId, lanes });
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

  private decodePeerNotice(packet: Uint8Array): DecodeResult {
    const cursor = this.cursor;
    cursor.offset = 1;
    const peerId = readVarint(packet, packet.length, cursor);
    if (peerId < 0) return dropVarint(peerId);
    if (peerId < 2 || peerId > MAX_PEER_ID) return drop('badPeerId');
    if (cursor.offset !== packet.length) return drop('trailingBytes');
    return accept({ kind: packet[0] === RpcCommand.PeerAdd ? 'peerAdd' : 'peerRemove', peerId });
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
    if (!isRelayable(command)) return drop(command <= RpcCommand.PeerRemove ? 'unrelayableCommand' : 'unknownCommand');
    const inner = this.decodeRelayable(innerBytes);
    if (!inner.ok) return inner;
    return accept({ kind: 'relay', peerId, inner: inner.packet as RelayablePacket, innerBytes });
  }
}

function checkWireId(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_VARINT_VALUE) {
    throw invalid(`${name} must be an integer in 0 … ${MAX_VARINT_VALUE}, got ${String(value)}`);
  }
}

function isPathStatus(value: number): value is PathStatus {
  return Number.isInteger(value) && value >= PathStatus.Ok && value <= PathStatus.TooManyPaths;
}

function isRelayable(command: number | undefined): boolean {
  return command === RpcCommand.Raw || isAddressed(command);
}

// The relayable packets that name a path id right after the command byte, which readdress() replaces.
function isAddressed(command: number | undefined): boolean {
  return command === RpcCommand.Call || command === RpcCommand.EntityCall;
}

function accept(packet: DecodedPacket): DecodeResult {
  return { ok: true, packet };
}

function drop(reason: DecodeDropReason): DecodeResult {
  return { ok: false, reason };
}

function dropVarint(code: number): DecodeResult {
  return drop(code === VARINT_TRUNCATED ? 'truncated' : 'badVarint');
}
