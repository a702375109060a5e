// The RtcErrors the RPC layer throws for a caller's mistake: every ERR_INVALID_PARAMETER of the
// codec and the method tables, and the wording of arguments encodeCall cannot send.
import { RtcError } from '../transport/errors.js';
import type { ArgumentsDropReason } from './msgpack-check.js';
import type { RpcLimits } from './rpc-limits.js';

const UNSUPPORTED_VALUE_HINT =
  'send only numbers, bigints within 64 bits, strings, booleans, null, undefined, arrays, plain ' +
  'objects with string keys, Uint8Arrays and other typed arrays, ArrayBuffers, DataViews and ' +
  'valid Dates';

/** The `RtcError('ERR_INVALID_PARAMETER')` of the RPC layer, carrying what to do instead. */
export function invalid(message: string): RtcError {
  return new RtcError('ERR_INVALID_PARAMETER', message);
}

/**
 * The exception encodeCall throws for arguments its own argument check refuses,
 * naming the limit of `limits` they exceed.
 */
export function argumentsFailure(reason: ArgumentsDropReason, limits: Readonly<RpcLimits>): RtcError {
  const { maxArguments, maxDepth, maxStringLength, maxBinaryLength, maxCollectionLength } = limits;
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

/**
 * What msgpackr throws for a value it cannot write (a symbol, a getter that throws, a cycle that
 * exhausts the stack), turned into the caller's mistake it is.
 */
export function encodingFailure(error: unknown): RtcError {
  if (error instanceof RtcError) return error;
  if (error instanceof RangeError) {
    return invalid('the arguments nest too deeply or contain a cycle; send a tree of plain values');
  }
  const detail = error instanceof Error ? error.message : String(error);
  return invalid(`the arguments cannot be encoded (${detail}); ${UNSUPPORTED_VALUE_HINT}`);
}
