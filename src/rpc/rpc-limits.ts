// The limits of the RPC layer: the one options type for its packets' sizes, counts and depths,
// their defaults, and the check of the values a game passes.
import { MAX_FRAMING_BYTES } from '../mesh/framing.js';
import { type OptionSpecs, integerRule, optionDefaults, optionError, resolveOptions } from '../transport/option-resolver.js';
import { MAX_VARINT_BYTES, MAX_VARINT_VALUE } from './varint.js';

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

// Limits that may be zero: a game may allow only calls without arguments, or only flat values.
const COUNT = integerRule(1, MAX_VARINT_VALUE);
const COUNT_OR_ZERO = integerRule(0, MAX_VARINT_VALUE);

const RPC_LIMIT_SPECS: OptionSpecs<RpcLimits> = {
  maxPacketBytes: { default: 65536 - MAX_FRAMING_BYTES, rule: COUNT },
  maxArguments: { default: 32, rule: COUNT_OR_ZERO },
  maxDepth: { default: 16, rule: COUNT_OR_ZERO },
  maxStringLength: { default: 16384, rule: COUNT },
  maxBinaryLength: { default: 65536, rule: COUNT },
  maxPathLength: { default: 256, rule: COUNT },
  maxCollectionLength: { default: 4096, rule: COUNT },
};

/** The default {@link RpcLimits}. */
export const DEFAULT_RPC_LIMITS: Readonly<RpcLimits> = optionDefaults(RPC_LIMIT_SPECS);

/**
 * The limits a codec enforces: `limits` with each limit left out taken from
 * {@link DEFAULT_RPC_LIMITS}, frozen. Throws `ERR_INVALID_PARAMETER` for a limit that is not an
 * integer in range, or a `maxPacketBytes` with no room for a relay header and a command byte.
 */
export function resolveRpcLimits(limits: Partial<RpcLimits>): Readonly<RpcLimits> {
  const resolved = resolveOptions('RpcLimits', RPC_LIMIT_SPECS, limits);
  if (resolved.maxPacketBytes <= RELAY_HEADER_MAX_BYTES + 1) {
    throw optionError('RpcLimits', 'maxPacketBytes', `over ${RELAY_HEADER_MAX_BYTES + 1}`, resolved.maxPacketBytes, 'room for a relay header and a command byte');
  }
  return Object.freeze(resolved);
}
