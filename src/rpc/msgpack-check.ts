// The byte-level check of a CALL's msgpack arguments, run before msgpackr reads them: a pure
// function from bytes and limits to the first rule they break. msgpackr itself trusts its input;
// everything it would misread, over-allocate or recurse on is refused here.
import { readBigEndian } from './big-endian.js';
import type { RpcLimits } from './rpc-limits.js';

/**
 * Why {@link checkArguments} refuses argument bytes: the subset of the codec's `DECODE_DROP_REASONS`
 * that the arguments of a CALL can break, where each is described.
 */
export type ArgumentsDropReason =
  | 'truncated'
  | 'malformedArguments'
  | 'tooManyArguments'
  | 'tooDeep'
  | 'stringTooLong'
  | 'binaryTooLong'
  | 'collectionTooLong'
  | 'forbiddenKey';

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

const utf8Encoder = new TextEncoder();
// Keys that let a value from the network reach a prototype once the game merges it into its own
// objects (`target[key] = …` walks `__proto__`; `constructor.prototype` leads to Object.prototype).
const FORBIDDEN_KEYS: readonly Uint8Array[] = ['__proto__', 'constructor', 'prototype'].map((key) =>
  utf8Encoder.encode(key),
);

// Per nesting level of the check: values still to read, and whether it is a map. They grow with
// the deepest nesting met, which the packet's size bounds. Shared by every codec: the check runs
// to its end without calling out, so no two checks ever interleave.
const pendingValues: number[] = [];
const mapLevels: boolean[] = [];

/**
 * Walks the msgpack arguments in `bytes[start, end)` without building anything, and names the
 * first rule they break, or returns undefined: the one array of at most `maxArguments` values,
 * every length against its limit and against the bytes left (so no header can make anyone
 * allocate more than the packet holds), nesting against `maxDepth` (so msgpackr's recursion stays
 * shallow), only the extension types listed above, map keys that are scalars and not forbidden,
 * nothing after the array. Iterative, so hostile nesting costs no stack. The codec's encodeCall
 * runs it over its own output, so what one end sends the other accepts. Never throws.
 */
export function checkArguments(
  bytes: Uint8Array,
  start: number,
  end: number,
  limits: Readonly<RpcLimits>,
): ArgumentsDropReason | undefined {
  const { maxArguments, maxDepth, maxStringLength, maxBinaryLength, maxCollectionLength } = limits;
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

// The rules of each accepted extension type, once its data is known to be in the packet.
function checkExtension(
  type: number,
  bytes: Uint8Array,
  dataOffset: number,
  dataLength: number,
): ArgumentsDropReason | undefined {
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
