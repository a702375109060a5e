// The typed encodings of replicated properties: how each type a game declares for a property is
// checked when set, written into a state packet, read back from hostile bytes and compared for
// change detection. Every multi-byte number here is little-endian.
import { argumentsFailure, encodingFailure, invalid } from '../rpc/errors.js';
import { checkArguments } from '../rpc/msgpack-check.js';
import { packr, unpackr } from '../rpc/msgpack.js';
import { DEFAULT_RPC_LIMITS, resolveRpcLimits, type RpcLimits } from '../rpc/rpc-limits.js';
import { MAX_VARINT_VALUE, readVarint, varintSize, writeVarint, type VarintCursor } from '../rpc/varint.js';
import type { RtcError } from '../transport/errors.js';

/** The longest `string` or `bytes` property, in bytes, unless its type gives a `maxLength`. */
export const DEFAULT_MAX_LENGTH = 1024;

/**
 * The type of a replicated property:
 * - `bool`: 1 byte, 0 or 1.
 * - `u8` … `i32`: an integer in the type's range, 1, 2 or 4 bytes (two's complement if signed).
 * - `f32`, `f64`: any number, NaN and ±Infinity included; `f32` is rounded to float32.
 * - `string`: UTF-8 without lone surrogates, at most `maxLength` ({@link DEFAULT_MAX_LENGTH})
 *   bytes, after a varint of its byte length.
 * - `bytes`: a Uint8Array of at most `maxLength` bytes, after a varint of its length.
 * - `vec2`, `vec3`: `{ x, y }` / `{ x, y, z }` of numbers, float32 each.
 * - `any`: a value of the RPC arguments' kinds (numbers, strings, arrays, plain objects, typed
 *   arrays, …), as a one-element msgpack array after a varint of its byte length, bounded by the
 *   {@link RpcLimits} passed to {@link propertyCodec}.
 * - `quantized`: a finite number in `min` … `max`, sent as the whole number of `precision` steps
 *   above `min` in the fewest bytes (1 to 4) that hold every step; received as `min` + steps ×
 *   `precision`, and the top step as exactly `max`.
 * - `vec2` / `vec3` with `min`, `max`, `precision`: each component quantized so.
 */
export type PropertyType =
  | 'bool'
  | 'u8'
  | 'i8'
  | 'u16'
  | 'i16'
  | 'u32'
  | 'i32'
  | 'f32'
  | 'f64'
  | 'string'
  | 'bytes'
  | 'vec2'
  | 'vec3'
  | 'any'
  | { type: 'string' | 'bytes'; maxLength: number }
  | { type: 'quantized'; min: number; max: number; precision: number }
  | { type: 'vec2' | 'vec3'; min: number; max: number; precision: number };

/** How one property travels; built once per declared property by {@link propertyCodec}. */
export interface PropertyCodec {
  /**
   * A canonical text of the type, which both ends hash to agree on the layout: `bool`, `u8` …
   * `i32`, `f32`, `f64`, `s:<maxLength>`, `b:<maxLength>`, `v2`, `v3`, `any`,
   * `q:<min>:<max>:<precision>`, `v2q:…` / `v3q:…` for quantized vectors.
   */
  readonly signature: string;
  /**
   * Throws `RtcError('ERR_INVALID_PARAMETER')` when `value` does not fit the type; the message
   * names `label` (e.g. "player.x") and says what fits.
   */
  check(value: unknown, label: string): void;
  /** The bytes {@link write} takes for a value that passed {@link check}. */
  size(value: unknown): number;
  /**
   * Writes a checked value at `offset` of `target`, which has {@link size} bytes free there, and
   * returns the offset after it. For `any`, call it right after `size` of the same value, which
   * it reuses the encoding of.
   */
  write(value: unknown, target: Uint8Array, offset: number): number;
  /**
   * Reads a value at `cursor.offset`, not past `end` (at most `source.length`); moves the cursor
   * past it and returns the value, or returns {@link INVALID}, the cursor unchanged, for bytes
   * that end early or do not hold a valid value of the type. Never throws, whatever the bytes.
   */
  read(source: Uint8Array, end: number, cursor: { offset: number }): unknown;
  /**
   * Whether two values encode identically, for change detection: integer and quantized types
   * compare the integer sent, f32 the float32 (NaN equals NaN, −0 does not equal 0), strings by
   * `===`, bytes element by element, vectors component by component as sent, `any` by its
   * encoded bytes. A value of the wrong kind equals nothing.
   */
  equal(a: unknown, b: unknown): boolean;
}

/** What {@link PropertyCodec.read} returns for bytes that do not hold a value of the type. */
export const INVALID = Symbol('rtcmesh.INVALID');

/**
 * Builds the codec of a declared property type. Throws `RtcError('ERR_INVALID_PARAMETER')`
 * naming `label` for a type that is none of the {@link PropertyType} forms: an unknown name, a
 * `maxLength` that is not a positive integer, a quantized spec whose `min` is not below `max`,
 * whose `precision` is not positive, or whose steps need more than 32 bits. `limits` bound the
 * `any` type (default {@link DEFAULT_RPC_LIMITS}); both ends must use the same.
 */
export function propertyCodec(
  type: PropertyType,
  label: string,
  limits: Readonly<RpcLimits> = DEFAULT_RPC_LIMITS,
): PropertyCodec {
  if (typeof type === 'string') {
    switch (type) {
      case 'bool':
        return new BoolCodec();
      case 'u8':
      case 'i8':
      case 'u16':
      case 'i16':
      case 'u32':
      case 'i32':
        return new IntegerCodec(type);
      case 'f32':
      case 'f64':
        return new FloatCodec(type);
      case 'string':
        return new StringCodec(DEFAULT_MAX_LENGTH);
      case 'bytes':
        return new BytesCodec(DEFAULT_MAX_LENGTH);
      case 'vec2':
      case 'vec3':
        return new VectorCodec(type, new FloatCodec('f32'));
      case 'any':
        return new AnyCodec(anyLimits(limits, label));
    }
  } else if (typeof type === 'object' && type !== null) {
    const spec = type as Partial<Record<'type' | 'maxLength' | 'min' | 'max' | 'precision', unknown>>;
    switch (spec.type) {
      case 'string':
      case 'bytes': {
        const { maxLength } = spec;
        if (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 1 || maxLength > MAX_VARINT_VALUE) {
          throw invalid(
            `${label}: the maxLength of a ${spec.type} property must be an integer in 1 … ${MAX_VARINT_VALUE}, ` +
              `not ${describeValue(maxLength)}`,
          );
        }
        return spec.type === 'string' ? new StringCodec(maxLength) : new BytesCodec(maxLength);
      }
      case 'quantized':
        return quantizedCodec(spec, label);
      case 'vec2':
      case 'vec3':
        return new VectorCodec(spec.type, quantizedCodec(spec, label));
    }
  }
  throw invalid(
    `${label}: ${describeValue(type)} is not a property type; declare one of 'bool', 'u8', 'i8', 'u16', ` +
      "'i16', 'u32', 'i32', 'f32', 'f64', 'string', 'bytes', 'vec2', 'vec3', 'any', " +
      "{ type: 'string' | 'bytes', maxLength }, { type: 'quantized' | 'vec2' | 'vec3', min, max, precision }",
  );
}

// ---- numbers ----------------------------------------------------------------------------------

// Float conversions go through these 8 bytes, so that neither reading nor writing a float
// allocates a DataView over the packet.
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

// `>>> 0` turns a negative integer into its 32-bit two's complement, whose low bytes are those of
// any narrower width.
function writeUnsigned(target: Uint8Array, offset: number, value: number, bytes: number): number {
  let rest = value >>> 0;
  for (let index = 0; index < bytes; index++) {
    target[offset++] = rest & 0xff;
    rest >>>= 8;
  }
  return offset;
}

function readUnsigned(source: Uint8Array, offset: number, bytes: number): number {
  let value = 0;
  let weight = 1;
  for (let index = 0; index < bytes; index++) {
    value += source[offset + index]! * weight;
    weight *= 256;
  }
  return value;
}

/**
 * A number type of fixed width, on its own or as the component of a vector: the checks and byte
 * moves that both share.
 */
abstract class NumberCodec implements PropertyCodec {
  abstract readonly signature: string;
  /** The width on the wire. */
  abstract readonly bytes: number;
  /** What fits, for messages: "an integer in 0 … 255". */
  abstract readonly fitting: string;

  /** Whether a number fits; the caller has checked that it is a number. */
  abstract fits(value: number): boolean;
  abstract writeNumber(value: number, target: Uint8Array, offset: number): number;
  /** Reads the number at `offset`, which the caller knows is `bytes` before the end. */
  abstract readNumber(source: Uint8Array, offset: number): number | typeof INVALID;
  /** Whether two numbers encode identically. */
  abstract sameNumber(a: number, b: number): boolean;

  check(value: unknown, label: string): void {
    if (typeof value !== 'number' || !this.fits(value)) {
      throw invalid(`${label} must be ${this.fitting}, not ${describeValue(value)}`);
    }
  }

  size(): number {
    return this.bytes;
  }

  write(value: unknown, target: Uint8Array, offset: number): number {
    return this.writeNumber(value as number, target, offset);
  }

  read(source: Uint8Array, end: number, cursor: { offset: number }): unknown {
    const offset = cursor.offset;
    if (end - offset < this.bytes) return INVALID;
    const value = this.readNumber(source, offset);
    if (value !== INVALID) cursor.offset = offset + this.bytes;
    return value;
  }

  equal(a: unknown, b: unknown): boolean {
    return typeof a === 'number' && typeof b === 'number' && this.sameNumber(a, b);
  }
}

type IntegerName = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32';

const INTEGER_BYTES: Readonly<Record<IntegerName, number>> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4 };

class IntegerCodec extends NumberCodec {
  readonly bytes: number;
  readonly fitting: string;
  private readonly min: number;
  private readonly max: number;
  // 2^bits for a signed type, whose unsigned wire values from 2^(bits − 1) up are negative; 0 else.
  private readonly modulus: number;

  constructor(readonly signature: IntegerName) {
    super();
    this.bytes = INTEGER_BYTES[signature];
    const range = 2 ** (8 * this.bytes);
    const signed = signature.startsWith('i');
    this.modulus = signed ? range : 0;
    this.min = signed ? -range / 2 : 0;
    this.max = signed ? range / 2 - 1 : range - 1;
    this.fitting = `an integer in ${this.min} … ${this.max} (${signature})`;
  }

  fits(value: number): boolean {
    return Number.isInteger(value) && value >= this.min && value <= this.max;
  }

  writeNumber(value: number, target: Uint8Array, offset: number): number {
    return writeUnsigned(target, offset, value, this.bytes);
  }

  readNumber(source: Uint8Array, offset: number): number {
    const value = readUnsigned(source, offset, this.bytes);
    return value > this.max ? value - this.modulus : value;
  }

  sameNumber(a: number, b: number): boolean {
    return a === b;
  }
}

class FloatCodec extends NumberCodec {
  readonly bytes: number;
  readonly fitting: string;

  constructor(readonly signature: 'f32' | 'f64') {
    super();
    this.bytes = signature === 'f32' ? 4 : 8;
    this.fitting = `a number (${signature})`;
  }

  fits(): boolean {
    return true;
  }

  writeNumber(value: number, target: Uint8Array, offset: number): number {
    if (this.bytes === 4) scratch.setFloat32(0, value, true);
    else scratch.setFloat64(0, value, true);
    for (let index = 0; index < this.bytes; index++) target[offset++] = scratchBytes[index]!;
    return offset;
  }

  readNumber(source: Uint8Array, offset: number): number {
    for (let index = 0; index < this.bytes; index++) scratchBytes[index] = source[offset + index]!;
    return this.bytes === 4 ? scratch.getFloat32(0, true) : scratch.getFloat64(0, true);
  }

  // Object.is: NaN equals NaN, and −0, which has its own sign bit on the wire, does not equal 0.
  sameNumber(a: number, b: number): boolean {
    return this.bytes === 4 ? Object.is(Math.fround(a), Math.fround(b)) : Object.is(a, b);
  }
}

const MAX_QUANTIZED_BYTES = 4;

function quantizedCodec(spec: Partial<Record<'type' | 'min' | 'max' | 'precision', unknown>>, label: string): QuantizedCodec {
  const { min, max, precision } = spec;
  const numbers = typeof min === 'number' && typeof max === 'number' && typeof precision === 'number';
  if (!numbers || !Number.isFinite(min) || !Number.isFinite(max) || !Number.isFinite(precision) || !(min < max) || !(precision > 0)) {
    throw invalid(
      `${label}: a quantized ${String(spec.type)} needs finite numbers min < max and precision > 0, not ` +
        `min ${describeValue(min)}, max ${describeValue(max)}, precision ${describeValue(precision)}`,
    );
  }
  const steps = Math.round((max - min) / precision);
  if (!(steps >= 1 && steps < 2 ** (8 * MAX_QUANTIZED_BYTES))) {
    throw invalid(
      `${label}: a quantized ${spec.type} from ${min} to ${max} by ${precision} has ${steps} steps; it needs ` +
        `1 … ${2 ** (8 * MAX_QUANTIZED_BYTES) - 1} (32 bits): use a coarser precision or a narrower range`,
    );
  }
  return new QuantizedCodec(min, max, precision, steps);
}

class QuantizedCodec extends NumberCodec {
  readonly signature: string;
  readonly bytes: number;
  readonly fitting: string;
  private readonly perUnit: number;
  private readonly minSteps: number | undefined;

  constructor(
    private readonly min: number,
    private readonly max: number,
    private readonly precision: number,
    // The integer sent for `max`; every value in range is sent as 0 … steps.
    private readonly steps: number,
  ) {
    super();
    this.signature = `q:${min}:${max}:${precision}`;
    const perUnit = Math.round(1 / precision);
    const exact = Math.abs(perUnit * precision - 1) < Number.EPSILON * 4 && Number.isSafeInteger(Math.round(min * perUnit)) && Math.abs(Math.round(min * perUnit) - min * perUnit) < 1e-6;
    this.perUnit = perUnit;
    this.minSteps = exact ? Math.round(min * perUnit) : undefined;
    let bytes = 1;
    while (steps >= 2 ** (8 * bytes)) bytes++;
    this.bytes = bytes;
    this.fitting = `a finite number in ${min} … ${max} (quantized by ${precision})`;
  }

  fits(value: number): boolean {
    // false for NaN; ±Infinity are outside any finite range.
    return value >= this.min && value <= this.max;
  }

  // Rounding is monotonic and `max` gives `steps` by the same arithmetic, so a value in range
  // never quantizes above `steps`.
  private quantize(value: number): number {
    return Math.round((value - this.min) / this.precision);
  }

  writeNumber(value: number, target: Uint8Array, offset: number): number {
    return writeUnsigned(target, offset, this.quantize(value), this.bytes);
  }

  readNumber(source: Uint8Array, offset: number): number | typeof INVALID {
    const step = readUnsigned(source, offset, this.bytes);
    if (step > this.steps) return INVALID;
    // The top step is max itself even where precision does not divide the range evenly.
    if (step === this.steps) return this.max;
    // With a precision of 1/k (0.01, 0.5, …) and min a whole number of steps, one division gives
    // the double nearest the decimal the game wrote (12.34 back as 12.34, not 12.340000000000003).
    if (this.minSteps !== undefined) return Math.min((this.minSteps + step) / this.perUnit, this.max);
    return Math.min(this.min + step * this.precision, this.max);
  }

  sameNumber(a: number, b: number): boolean {
    return this.quantize(a) === this.quantize(b);
  }
}

// ---- other fixed types -------------------------------------------------------------------------

class BoolCodec implements PropertyCodec {
  readonly signature = 'bool';

  check(value: unknown, label: string): void {
    if (typeof value !== 'boolean') throw invalid(`${label} must be true or false (bool), not ${describeValue(value)}`);
  }

  size(): number {
    return 1;
  }

  write(value: unknown, target: Uint8Array, offset: number): number {
    target[offset] = value === true ? 1 : 0;
    return offset + 1;
  }

  read(source: Uint8Array, end: number, cursor: { offset: number }): unknown {
    const offset = cursor.offset;
    if (offset >= end) return INVALID;
    const byte = source[offset];
    if (byte !== 0 && byte !== 1) return INVALID;
    cursor.offset = offset + 1;
    return byte === 1;
  }

  equal(a: unknown, b: unknown): boolean {
    return typeof a === 'boolean' && a === b;
  }
}

const VECTOR_KEYS = { vec2: ['x', 'y'], vec3: ['x', 'y', 'z'] } as const;

/** `{ x, y }` or `{ x, y, z }`, each component by a float32 or quantized codec. */
class VectorCodec implements PropertyCodec {
  readonly signature: string;
  private readonly keys: readonly ('x' | 'y' | 'z')[];
  private readonly bytes: number;

  constructor(
    kind: 'vec2' | 'vec3',
    private readonly component: NumberCodec,
  ) {
    this.keys = VECTOR_KEYS[kind];
    const dimension = kind === 'vec2' ? 'v2' : 'v3';
    this.signature = component instanceof QuantizedCodec ? `${dimension}${component.signature}` : dimension;
    this.bytes = component.bytes * this.keys.length;
  }

  check(value: unknown, label: string): void {
    if (typeof value !== 'object' || value === null) {
      throw invalid(
        `${label} must be an object { ${this.keys.join(', ')} }, each ${this.component.fitting}, not ${describeValue(value)}`,
      );
    }
    for (const key of this.keys) this.component.check((value as Record<string, unknown>)[key], `${label}.${key}`);
  }

  size(): number {
    return this.bytes;
  }

  write(value: unknown, target: Uint8Array, offset: number): number {
    const vector = value as Record<'x' | 'y' | 'z', number>;
    for (const key of this.keys) offset = this.component.writeNumber(vector[key], target, offset);
    return offset;
  }

  read(source: Uint8Array, end: number, cursor: { offset: number }): unknown {
    let offset = cursor.offset;
    if (end - offset < this.bytes) return INVALID;
    const vector: Partial<Record<'x' | 'y' | 'z', number>> = {};
    for (const key of this.keys) {
      const component = this.component.readNumber(source, offset);
      if (component === INVALID) return INVALID;
      vector[key] = component;
      offset += this.component.bytes;
    }
    cursor.offset = offset;
    return vector;
  }

  equal(a: unknown, b: unknown): boolean {
    if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return false;
    for (const key of this.keys) {
      if (!this.component.equal((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
    }
    return true;
  }
}

// ---- length-prefixed types ---------------------------------------------------------------------

// The read position of a length prefix, kept apart from the caller's cursor so that a value
// refused after its length leaves that cursor where it was.
const lengthCursor: VarintCursor = { offset: 0 };

/**
 * Reads the varint length at `offset` and returns it, with `lengthCursor` on the first byte it
 * counts; or −1 for a bad varint, a length over `maxLength`, or one past `end`.
 */
function readLength(source: Uint8Array, end: number, offset: number, maxLength: number): number {
  lengthCursor.offset = offset;
  const length = readVarint(source, end, lengthCursor);
  if (length < 0 || length > maxLength || length > end - lengthCursor.offset) return -1;
  return length;
}

const HIGH_SURROGATE_MIN = 0xd800;
const LOW_SURROGATE_MIN = 0xdc00;
const SURROGATE_END = 0xe000;

/**
 * The UTF-8 byte length of `text`, or −1 if it holds a lone surrogate (which UTF-8 cannot carry;
 * TextEncoder would silently send U+FFFD instead). Counting needs no encoded copy.
 */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit < HIGH_SURROGATE_MIN || unit >= SURROGATE_END) bytes += 3;
    else if (unit >= LOW_SURROGATE_MIN) return -1;
    else {
      const next = text.charCodeAt(index + 1);
      if (!(next >= LOW_SURROGATE_MIN && next < SURROGATE_END)) return -1;
      bytes += 4;
      index++;
    }
  }
  return bytes;
}

const utf8Encoder = new TextEncoder();
// fatal: invalid UTF-8 is an invalid value, not a string with U+FFFD in it; ignoreBOM: a leading
// U+FEFF is part of the string as sent.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class StringCodec implements PropertyCodec {
  readonly signature: string;

  constructor(private readonly maxLength: number) {
    this.signature = `s:${maxLength}`;
  }

  check(value: unknown, label: string): void {
    if (typeof value !== 'string') {
      throw invalid(`${label} must be a string of at most ${this.maxLength} UTF-8 bytes, not ${describeValue(value)}`);
    }
    const length = utf8Length(value);
    if (length < 0) {
      throw invalid(`${label} holds a lone surrogate, which UTF-8 cannot carry; pair it or remove it`);
    }
    if (length > this.maxLength) {
      throw invalid(
        `${label} takes ${length} UTF-8 bytes, over its maxLength of ${this.maxLength}; shorten it or declare ` +
          `{ type: 'string', maxLength } with a larger maxLength`,
      );
    }
  }

  size(value: unknown): number {
    const length = utf8Length(value as string);
    return varintSize(length) + length;
  }

  write(value: unknown, target: Uint8Array, offset: number): number {
    const text = value as string;
    const length = utf8Length(text);
    const start = writeVarint(target, offset, length);
    utf8Encoder.encodeInto(text, target.subarray(start, start + length));
    return start + length;
  }

  read(source: Uint8Array, end: number, cursor: { offset: number }): unknown {
    const length = readLength(source, end, cursor.offset, this.maxLength);
    if (length < 0) return INVALID;
    const start = lengthCursor.offset;
    let text: string;
    try {
      text = utf8Decoder.decode(source.subarray(start, start + length));
    } catch {
      return INVALID;
    }
    cursor.offset = start + length;
    return text;
  }

  equal(a: unknown, b: unknown): boolean {
    return typeof a === 'string' && a === b;
  }
}

class BytesCodec implements PropertyCodec {
  readonly signature: string;

  constructor(private readonly maxLength: number) {
    this.signature = `b:${maxLength}`;
  }

  check(value: unknown, label: string): void {
    if (!(value instanceof Uint8Array)) {
      throw invalid(`${label} must be a Uint8Array of at most ${this.maxLength} bytes, not ${describeValue(value)}`);
    }
    if (value.length > this.maxLength) {
      throw invalid(
        `${label} holds ${value.length} bytes, over its maxLength of ${this.maxLength}; shorten it or declare ` +
          `{ type: 'bytes', maxLength } with a larger maxLength`,
      );
    }
  }

  size(value: unknown): number {
    const length = (value as Uint8Array).length;
    return varintSize(length) + length;
  }

  write(value: unknown, target: Uint8Array, offset: number): number {
    const bytes = value as Uint8Array;
    const start = writeVarint(target, offset, bytes.length);
    target.set(bytes, start);
    return start + bytes.length;
  }

  read(source: Uint8Array, end: number, cursor: { offset: number }): unknown {
    const length = readLength(source, end, cursor.offset, this.maxLength);
    if (length < 0) return INVALID;
    const start = lengthCursor.offset;
    // A copy, not a view: the value outlives the packet, which it must neither alias nor pin.
    const bytes = new Uint8Array(length);
    bytes.set(source.subarray(start, start + length));
    cursor.offset = start + length;
    return bytes;
  }

  equal(a: unknown, b: unknown): boolean {
    return a instanceof Uint8Array && b instanceof Uint8Array && sameBytes(a, b);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

// ---- any ---------------------------------------------------------------------------------------

// The msgpack fixarray of one element: the only head packr writes for `[value]`, so the only one
// accepted; a longer form or another count would be a second encoding of the same value.
const ONE_ELEMENT_ARRAY = 0x91;

function anyLimits(limits: Readonly<RpcLimits>, label: string): Readonly<RpcLimits> {
  const resolved = resolveRpcLimits(limits);
  if (resolved.maxArguments < 1) {
    throw invalid(`${label}: an 'any' property travels as one msgpack argument, which RpcLimits.maxArguments 0 refuses; allow at least 1`);
  }
  return resolved;
}

/**
 * A free-form value, as msgpack in the RPC arguments' format and under their limits, so that what
 * a game can pass to an RPC it can also replicate. No value is larger than `maxPacketBytes`.
 */
class AnyCodec implements PropertyCodec {
  readonly signature = 'any';
  // The encoding `size` made, for the `write` of the same value that follows it.
  private sizedValue: unknown;
  private sizedBytes: Uint8Array | undefined;
  private readonly unpackRange = { start: 0, end: 0 };

  constructor(private readonly limits: Readonly<RpcLimits>) {}

  check(value: unknown, label: string): void {
    let bytes: Uint8Array;
    try {
      bytes = pack(value);
    } catch (error) {
      throw labelled(label, encodingFailure(error));
    }
    // What one end sends, the other must accept: the receiver's own check, run on the sender.
    const reason = checkArguments(bytes, 0, bytes.length, this.limits);
    if (reason !== undefined) throw labelled(label, argumentsFailure(reason, this.limits));
    if (bytes.length > this.limits.maxPacketBytes) {
      throw invalid(
        `${label} encodes to ${bytes.length} bytes, over RpcLimits.maxPacketBytes (${this.limits.maxPacketBytes}); ` +
          'replicate it in smaller parts',
      );
    }
  }

  size(value: unknown): number {
    const bytes = pack(value);
    this.sizedValue = value;
    this.sizedBytes = bytes;
    return varintSize(bytes.length) + bytes.length;
  }

  write(value: unknown, target: Uint8Array, offset: number): number {
    const bytes = this.sizedBytes !== undefined && Object.is(this.sizedValue, value) ? this.sizedBytes : pack(value);
    this.sizedValue = undefined;
    this.sizedBytes = undefined;
    const start = writeVarint(target, offset, bytes.length);
    target.set(bytes, start);
    return start + bytes.length;
  }

  read(source: Uint8Array, end: number, cursor: { offset: number }): unknown {
    const length = readLength(source, end, cursor.offset, this.limits.maxPacketBytes);
    if (length < 0) return INVALID;
    const start = lengthCursor.offset;
    const stop = start + length;
    if (source[start] !== ONE_ELEMENT_ARRAY || checkArguments(source, start, stop, this.limits) !== undefined) {
      return INVALID;
    }
    let value: unknown;
    try {
      this.unpackRange.start = start;
      this.unpackRange.end = stop;
      value = (unpackr.unpack(source, this.unpackRange) as unknown[])[0];
    } catch {
      // msgpackr throws on checked bytes only when its recursion meets the stack under a huge
      // maxDepth; the value is then refused rather than poll() crashed.
      return INVALID;
    }
    cursor.offset = stop;
    return value;
  }

  equal(a: unknown, b: unknown): boolean {
    try {
      // Each pack leaves the bytes of the one before it in place (packr moves on, never back).
      return sameBytes(pack(a), pack(b));
    } catch {
      return false;
    }
  }
}

function pack(value: unknown): Uint8Array {
  return packr.pack([value]);
}

// The RPC layer's wording, which speaks of arguments, prefixed with the property it is about.
function labelled(label: string, error: RtcError): RtcError {
  return invalid(`${label} cannot be replicated as 'any': ${error.message}`);
}

// ---- messages ----------------------------------------------------------------------------------

/** A short description of a value the caller passed, which never throws (unlike String()). */
function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'string':
      return value.length <= 32 ? JSON.stringify(value) : `a string of ${value.length} characters`;
    case 'undefined':
      return 'undefined';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return 'an array';
      if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}
