// The typed encodings of replicated properties: round trips, exact bytes, what check() refuses,
// what read() refuses (and that it never throws, over seeded random bytes), equal() and size().
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_LENGTH,
  INVALID,
  propertyCodec,
  type PropertyCodec,
  type PropertyType,
} from '../../src/replication/property-codec.js';
import { DEFAULT_RPC_LIMITS } from '../../src/rpc/rpc-limits.js';
import { RtcError } from '../../src/transport/errors.js';
import { expectRtcError } from '../support/errors.js';
import { seededRandom } from '../support/seeded-random.js';

const PERCENT: PropertyType = { type: 'quantized', min: 0, max: 100, precision: 0.01 };

/** Checks, sizes and writes `value` between two guard bytes; returns the bytes written. */
function encode(codec: PropertyCodec, value: unknown): Uint8Array {
  codec.check(value, 'test.value');
  const size = codec.size(value);
  const buffer = new Uint8Array(size + 2).fill(0xee);
  const end = codec.write(value, buffer, 1);
  expect(end - 1, 'size() is what write() advances').toBe(size);
  expect(buffer[0]).toBe(0xee);
  expect(buffer[size + 1]).toBe(0xee);
  return buffer.slice(1, 1 + size);
}

/** Reads one value that must fill `bytes` exactly (with a trailing byte that must stay unread). */
function decode(codec: PropertyCodec, bytes: Uint8Array): unknown {
  const source = new Uint8Array(bytes.length + 1);
  source.set(bytes);
  source[bytes.length] = 0x55;
  const cursor = { offset: 0 };
  const value = codec.read(source, bytes.length, cursor);
  expect(value).not.toBe(INVALID);
  expect(cursor.offset).toBe(bytes.length);
  return value;
}

function roundTrip(codec: PropertyCodec, value: unknown): unknown {
  return decode(codec, encode(codec, value));
}

function expectInvalid(codec: PropertyCodec, bytes: number[] | Uint8Array, start = 0): void {
  const source = Uint8Array.from(bytes);
  const cursor = { offset: start };
  expect(codec.read(source, source.length, cursor)).toBe(INVALID);
  expect(cursor.offset, 'an invalid read leaves the cursor').toBe(start);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

function messageOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(RtcError);
    return (error as RtcError).message;
  }
  throw new Error('expected a throw');
}

describe('integers', () => {
  const ranges: [PropertyType, number, number, number][] = [
    ['u8', 0, 255, 1],
    ['i8', -128, 127, 1],
    ['u16', 0, 65535, 2],
    ['i16', -32768, 32767, 2],
    ['u32', 0, 4294967295, 4],
    ['i32', -2147483648, 2147483647, 4],
  ];

  it.each(ranges)('%s round-trips its range ends, 0 and 1 in %i … %i, %i bytes', (type, min, max, bytes) => {
    const codec = propertyCodec(type, 'p');
    expect(codec.signature).toBe(type);
    for (const value of [min, max, 0, 1, min + 1, max - 1]) {
      expect(encode(codec, value).length).toBe(bytes);
      expect(roundTrip(codec, value)).toBe(value);
    }
  });

  it.each(ranges)('%s refuses values outside %i … %i, fractions and non-numbers', (type, min, max) => {
    const codec = propertyCodec(type, 'p');
    for (const value of [min - 1, max + 1, 0.5, NaN, Infinity, -Infinity, '1', 1n, null, undefined, true, {}]) {
      expectRtcError(() => codec.check(value, 'player.hp'), 'ERR_INVALID_PARAMETER');
    }
  });

  it('writes little-endian, two’s complement for signed types', () => {
    expect(hex(encode(propertyCodec('u16', 'p'), 0x1234))).toBe('34 12');
    expect(hex(encode(propertyCodec('i16', 'p'), -2))).toBe('fe ff');
    expect(hex(encode(propertyCodec('u32', 'p'), 0xdeadbeef))).toBe('ef be ad de');
    expect(hex(encode(propertyCodec('i32', 'p'), -2147483648))).toBe('00 00 00 80');
    expect(hex(encode(propertyCodec('i8', 'p'), -1))).toBe('ff');
    expect(decode(propertyCodec('i8', 'p'), Uint8Array.of(0x80))).toBe(-128);
    expect(decode(propertyCodec('u32', 'p'), Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toBe(4294967295);
  });

  it('sends −0 as 0, and equal() compares the integer sent', () => {
    const codec = propertyCodec('i16', 'p');
    expect(roundTrip(codec, -0)).toBe(0);
    expect(codec.equal(0, -0)).toBe(true);
    expect(codec.equal(5, 5)).toBe(true);
    expect(codec.equal(5, 6)).toBe(false);
    expect(codec.equal(5, '5')).toBe(false);
  });

  it('names the property and the range in its refusal', () => {
    const message = messageOf(() => propertyCodec('u16', 'p').check(70000, 'player.hp'));
    expect(message).toContain('player.hp');
    expect(message).toContain('0 … 65535');
    expect(message).toContain('70000');
  });

  it('reads INVALID from bytes that end early', () => {
    expectInvalid(propertyCodec('u16', 'p'), [0x12]);
    expectInvalid(propertyCodec('i32', 'p'), [1, 2, 3]);
    expectInvalid(propertyCodec('u8', 'p'), []);
    expectInvalid(propertyCodec('u16', 'p'), [1, 2, 3], 2);
  });
});

describe('floats', () => {
  it('f64 round-trips every double exactly, −0, NaN and infinities included', () => {
    const codec = propertyCodec('f64', 'p');
    for (const value of [0, 1.1, -1e308, Number.MIN_VALUE, Number.MAX_VALUE, Infinity, -Infinity]) {
      expect(roundTrip(codec, value)).toBe(value);
    }
    expect(Object.is(roundTrip(codec, -0), -0)).toBe(true);
    expect(roundTrip(codec, NaN)).toBeNaN();
    expect(hex(encode(codec, 1))).toBe('00 00 00 00 00 00 f0 3f');
  });

  it('f32 rounds to float32 and keeps −0, NaN and infinities', () => {
    const codec = propertyCodec('f32', 'p');
    expect(roundTrip(codec, 1.1)).toBe(Math.fround(1.1));
    expect(roundTrip(codec, 0.5)).toBe(0.5);
    expect(roundTrip(codec, 1e40)).toBe(Infinity);
    expect(roundTrip(codec, -Infinity)).toBe(-Infinity);
    expect(Object.is(roundTrip(codec, -0), -0)).toBe(true);
    expect(roundTrip(codec, NaN)).toBeNaN();
    expect(hex(encode(codec, 1))).toBe('00 00 80 3f');
  });

  it('refuses what is not a number', () => {
    for (const type of ['f32', 'f64'] as const) {
      const codec = propertyCodec(type, 'p');
      for (const value of ['1', null, undefined, 1n, [1], {}]) {
        expectRtcError(() => codec.check(value, 'player.speed'), 'ERR_INVALID_PARAMETER');
      }
    }
  });

  it('equal(): f32 after float32 rounding, NaN equal to NaN, −0 not equal to 0', () => {
    const f32 = propertyCodec('f32', 'p');
    expect(f32.equal(1.1, Math.fround(1.1))).toBe(true);
    expect(f32.equal(1, 1 + 2 ** -30)).toBe(true);
    expect(f32.equal(1, 1.001)).toBe(false);
    expect(f32.equal(NaN, NaN)).toBe(true);
    expect(f32.equal(0, -0)).toBe(false);
    const f64 = propertyCodec('f64', 'p');
    expect(f64.equal(1, 1 + 2 ** -30)).toBe(false);
    expect(f64.equal(NaN, NaN)).toBe(true);
    expect(f64.equal(0, -0)).toBe(false);
  });

  it('reads INVALID from bytes that end early', () => {
    expectInvalid(propertyCodec('f32', 'p'), [0, 0, 0x80]);
    expectInvalid(propertyCodec('f64', 'p'), [0, 0, 0, 0, 0, 0, 0xf0]);
  });
});

describe('quantized', () => {
  it('takes 2 bytes for 10000 steps; 100 is step 10000 (10 27) and decodes to exactly 100', () => {
    const codec = propertyCodec(PERCENT, 'p');
    expect(codec.signature).toBe('q:0:100:0.01');
    expect(hex(encode(codec, 100))).toBe('10 27');
    expect(hex(encode(codec, 0))).toBe('00 00');
    expect(roundTrip(codec, 100)).toBe(100);
    expect(roundTrip(codec, 0)).toBe(0);
    expect(roundTrip(codec, 12.345)).toBeCloseTo(12.35, 10);
  });

  it('decodes the top step as max even where precision does not divide the range', () => {
    const codec = propertyCodec({ type: 'quantized', min: 0, max: 1, precision: 0.3 }, 'p');
    expect(roundTrip(codec, 1)).toBe(1);
    expect(roundTrip(codec, 0.6)).toBeCloseTo(0.6, 10);
  });

  it('takes the fewest whole bytes that hold its steps', () => {
    const cases: [number, number, number][] = [
      [255, 1, 1],
      [256, 1, 2],
      [65535, 1, 2],
      [65536, 1, 3],
      [2 ** 24 - 1, 1, 3],
      [2 ** 24, 1, 4],
      [2 ** 32 - 1, 1, 4],
    ];
    for (const [max, precision, bytes] of cases) {
      const codec = propertyCodec({ type: 'quantized', min: 0, max, precision }, 'p');
      expect(encode(codec, max).length).toBe(bytes);
      expect(roundTrip(codec, max)).toBe(max);
    }
  });

  it('handles a negative range and re-encodes every decoded step as itself', () => {
    const codec = propertyCodec({ type: 'quantized', min: -1, max: 1, precision: 1 / 1000 }, 'p');
    expect(roundTrip(codec, -1)).toBe(-1);
    expect(roundTrip(codec, 1)).toBe(1);
    for (let step = 0; step <= 2000; step++) {
      const bytes = Uint8Array.of(step & 0xff, step >> 8);
      const value = decode(codec, bytes);
      expect(hex(encode(codec, value))).toBe(hex(bytes));
    }
  });

  it('refuses values out of range, NaN, infinities and non-numbers', () => {
    const codec = propertyCodec(PERCENT, 'p');
    for (const value of [-0.001, 100.001, NaN, Infinity, -Infinity, '5', null, undefined]) {
      expectRtcError(() => codec.check(value, 'player.health'), 'ERR_INVALID_PARAMETER');
    }
    expect(messageOf(() => codec.check(NaN, 'player.health'))).toContain('player.health');
  });

  it('reads INVALID for a step over the top one, and for bytes that end early', () => {
    const codec = propertyCodec(PERCENT, 'p');
    expect(decode(codec, Uint8Array.of(0x10, 0x27))).toBe(100);
    expectInvalid(codec, [0x11, 0x27]);
    expectInvalid(codec, [0xff, 0xff]);
    expectInvalid(codec, [0x10]);
  });

  it('equal() compares the step sent', () => {
    const codec = propertyCodec(PERCENT, 'p');
    expect(codec.equal(50, 50.004)).toBe(true);
    expect(codec.equal(50, 50.006)).toBe(false);
    expect(codec.equal(50, '50')).toBe(false);
  });

  it('refuses specs that are not min < max, precision > 0, finite, in 32 bits', () => {
    const specs: unknown[] = [
      { type: 'quantized', min: 1, max: 1, precision: 0.1 },
      { type: 'quantized', min: 2, max: 1, precision: 0.1 },
      { type: 'quantized', min: 0, max: 1, precision: 0 },
      { type: 'quantized', min: 0, max: 1, precision: -0.1 },
      { type: 'quantized', min: 0, max: Infinity, precision: 1 },
      { type: 'quantized', min: NaN, max: 1, precision: 1 },
      { type: 'quantized', min: 0, max: 1, precision: NaN },
      { type: 'quantized', min: '0', max: 1, precision: 0.1 },
      { type: 'quantized', min: 0, max: 1 },
      { type: 'quantized', min: 0, max: 2 ** 32, precision: 1 },
      { type: 'quantized', min: 0, max: 1, precision: 5 },
      { type: 'vec2', min: 0, max: 1, precision: 0 },
    ];
    for (const spec of specs) {
      expectRtcError(() => propertyCodec(spec as PropertyType, 'player.health'), 'ERR_INVALID_PARAMETER');
    }
    expect(messageOf(() => propertyCodec({ type: 'quantized', min: 2, max: 1, precision: 1 }, 'player.health'))).toContain(
      'player.health',
    );
  });
});

describe('bool', () => {
  const codec = propertyCodec('bool', 'p');

  it('round-trips as one byte 0 or 1', () => {
    expect(hex(encode(codec, true))).toBe('01');
    expect(hex(encode(codec, false))).toBe('00');
    expect(roundTrip(codec, true)).toBe(true);
    expect(roundTrip(codec, false)).toBe(false);
  });

  it('refuses what is not a boolean, and reads INVALID for any other byte', () => {
    for (const value of [0, 1, 'true', null, undefined]) {
      expectRtcError(() => codec.check(value, 'door.open'), 'ERR_INVALID_PARAMETER');
    }
    expectInvalid(codec, [2]);
    expectInvalid(codec, [0xff]);
    expectInvalid(codec, []);
  });

  it('equal()', () => {
    expect(codec.equal(true, true)).toBe(true);
    expect(codec.equal(true, false)).toBe(false);
    expect(codec.equal(true, 1)).toBe(false);
  });
});

describe('string', () => {
  const codec = propertyCodec('string', 'p');

  it('round-trips UTF-8 after a varint of its byte length', () => {
    expect(codec.signature).toBe(`s:${DEFAULT_MAX_LENGTH}`);
    expect(hex(encode(codec, 'hi'))).toBe('02 68 69');
    expect(hex(encode(codec, ''))).toBe('00');
    expect(hex(encode(codec, 'é'))).toBe('02 c3 a9');
    for (const text of ['', 'a', 'héllo', '日本語', '🎮 pad', '\uFEFFbom first', 'x'.repeat(DEFAULT_MAX_LENGTH)]) {
      expect(roundTrip(codec, text)).toBe(text);
    }
  });

  it('counts UTF-8 bytes, not characters, against maxLength', () => {
    const short = propertyCodec({ type: 'string', maxLength: 4 }, 'p');
    expect(short.signature).toBe('s:4');
    expect(roundTrip(short, '🎮')).toBe('🎮');
    expect(roundTrip(short, 'éé')).toBe('éé');
    expectRtcError(() => short.check('éés', 'player.name'), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => short.check('🎮a', 'player.name'), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => codec.check('x'.repeat(DEFAULT_MAX_LENGTH + 1), 'player.name'), 'ERR_INVALID_PARAMETER');
    expect(encode(codec, 'x'.repeat(200)).length).toBe(202);
  });

  it('refuses lone surrogates and what is not a string', () => {
    for (const value of ['\ud83c', 'a\udfaeb', '\udfae\ud83c', 'end\ud83c', 1, null, undefined, ['a']]) {
      expectRtcError(() => codec.check(value, 'player.name'), 'ERR_INVALID_PARAMETER');
    }
    expect(messageOf(() => codec.check('\ud83c', 'player.name'))).toContain('player.name');
  });

  it('reads INVALID for invalid UTF-8, an over-long length, a bad varint or bytes that end early', () => {
    expectInvalid(codec, [2, 0xc3, 0x28]);
    expectInvalid(codec, [3, 0xed, 0xa0, 0x80]);
    expectInvalid(codec, [1, 0xff]);
    expectInvalid(codec, [3, 0x61, 0x62]);
    expectInvalid(codec, []);
    expectInvalid(codec, [0x80]);
    expectInvalid(codec, [0x81, 0x00]);
    const short = propertyCodec({ type: 'string', maxLength: 4 }, 'p');
    expectInvalid(short, [5, 0x61, 0x62, 0x63, 0x64, 0x65]);
    const tooLong = new Uint8Array(2 + DEFAULT_MAX_LENGTH + 1).fill(0x61);
    tooLong.set([0x81, 0x08]);
    expectInvalid(codec, tooLong);
  });

  it('equal() is ===', () => {
    expect(codec.equal('a', 'a')).toBe(true);
    expect(codec.equal('a', 'b')).toBe(false);
    expect(codec.equal('1', 1)).toBe(false);
  });
});

describe('bytes', () => {
  const codec = propertyCodec('bytes', 'p');

  it('round-trips after a varint of its length, into a copy that does not alias the packet', () => {
    expect(codec.signature).toBe(`b:${DEFAULT_MAX_LENGTH}`);
    expect(hex(encode(codec, Uint8Array.of(1, 2, 3)))).toBe('03 01 02 03');
    expect(hex(encode(codec, new Uint8Array(0)))).toBe('00');
    const packet = Uint8Array.of(3, 7, 8, 9);
    const value = codec.read(packet, packet.length, { offset: 0 }) as Uint8Array;
    expect(Array.from(value)).toEqual([7, 8, 9]);
    packet[1] = 0;
    expect(value[0]).toBe(7);
    expect(value.buffer).not.toBe(packet.buffer);
    expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
    const full = new Uint8Array(DEFAULT_MAX_LENGTH).fill(0xab);
    expect(Array.from(roundTrip(codec, full) as Uint8Array)).toEqual(Array.from(full));
    expect(Array.from(roundTrip(codec, Buffer.from([4, 5])) as Uint8Array)).toEqual([4, 5]);
  });

  it('refuses what is not a Uint8Array and what is over maxLength', () => {
    for (const value of [[1, 2], 'ab', new Uint16Array(2), new ArrayBuffer(2), null, undefined]) {
      expectRtcError(() => codec.check(value, 'player.blob'), 'ERR_INVALID_PARAMETER');
    }
    expectRtcError(() => codec.check(new Uint8Array(DEFAULT_MAX_LENGTH + 1), 'player.blob'), 'ERR_INVALID_PARAMETER');
    const short = propertyCodec({ type: 'bytes', maxLength: 2 }, 'p');
    expect(short.signature).toBe('b:2');
    expectRtcError(() => short.check(new Uint8Array(3), 'player.blob'), 'ERR_INVALID_PARAMETER');
  });

  it('reads INVALID for a length over maxLength or past the end', () => {
    const short = propertyCodec({ type: 'bytes', maxLength: 2 }, 'p');
    expectInvalid(short, [3, 1, 2, 3]);
    expectInvalid(codec, [4, 1, 2, 3]);
    expectInvalid(codec, []);
  });

  it('equal() compares element by element', () => {
    expect(codec.equal(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(codec.equal(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(codec.equal(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
    expect(codec.equal(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(codec.equal(Uint8Array.of(1), [1])).toBe(false);
  });
});

describe('vectors', () => {
  it('vec2 and vec3 round-trip as float32 components', () => {
    const vec2 = propertyCodec('vec2', 'p');
    const vec3 = propertyCodec('vec3', 'p');
    expect(vec2.signature).toBe('v2');
    expect(vec3.signature).toBe('v3');
    expect(hex(encode(vec2, { x: 1, y: -2 }))).toBe('00 00 80 3f 00 00 00 c0');
    expect(roundTrip(vec2, { x: 1.1, y: 2, extra: 'ignored' })).toEqual({ x: Math.fround(1.1), y: 2 });
    expect(roundTrip(vec3, { x: 1, y: Infinity, z: -0 })).toEqual({ x: 1, y: Infinity, z: -0 });
    expect((roundTrip(vec3, { x: NaN, y: 0, z: 0 }) as { x: number }).x).toBeNaN();
    expect(encode(vec3, { x: 0, y: 0, z: 0 }).length).toBe(12);
  });

  it('quantized vectors quantize and range-check each component', () => {
    const codec = propertyCodec({ type: 'vec3', min: -100, max: 100, precision: 0.01 }, 'p');
    expect(codec.signature).toBe('v3q:-100:100:0.01');
    expect(hex(encode(codec, { x: -100, y: 0, z: 100 }))).toBe('00 00 10 27 20 4e');
    expect(roundTrip(codec, { x: -100, y: 0, z: 100 })).toEqual({ x: -100, y: 0, z: 100 });
    expectRtcError(() => codec.check({ x: 0, y: 100.5, z: 0 }, 'player.position'), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => codec.check({ x: 0, y: NaN, z: 0 }, 'player.position'), 'ERR_INVALID_PARAMETER');
    expect(messageOf(() => codec.check({ x: 0, y: 0, z: 101 }, 'player.position'))).toContain('player.position.z');
    expectInvalid(codec, [0, 0, 0x21, 0x4e, 0, 0]);
    expectInvalid(codec, [0, 0, 0, 0, 0]);
    const vec2 = propertyCodec({ type: 'vec2', min: 0, max: 1, precision: 0.5 }, 'p');
    expect(vec2.signature).toBe('v2q:0:1:0.5');
    expect(hex(encode(vec2, { x: 1, y: 0.5 }))).toBe('02 01');
  });

  it('refuses what is not an object of number components', () => {
    const codec = propertyCodec('vec3', 'p');
    for (const value of [null, undefined, 1, [1, 2, 3], { x: 1, y: 2 }, { x: 1, y: 2, z: '3' }]) {
      expectRtcError(() => codec.check(value, 'player.position'), 'ERR_INVALID_PARAMETER');
    }
    expectInvalid(codec, new Uint8Array(11));
  });

  it('equal() compares components as sent', () => {
    const float = propertyCodec('vec2', 'p');
    expect(float.equal({ x: 1.1, y: 2 }, { x: Math.fround(1.1), y: 2 })).toBe(true);
    expect(float.equal({ x: NaN, y: 2 }, { x: NaN, y: 2 })).toBe(true);
    expect(float.equal({ x: 1, y: 2 }, { x: 1, y: 3 })).toBe(false);
    expect(float.equal({ x: 1, y: 2 }, null)).toBe(false);
    const quantized = propertyCodec({ type: 'vec2', min: 0, max: 10, precision: 0.1 }, 'p');
    expect(quantized.equal({ x: 1, y: 2 }, { x: 1.04, y: 1.96 })).toBe(true);
    expect(quantized.equal({ x: 1, y: 2 }, { x: 1.06, y: 2 })).toBe(false);
  });
});

describe('any', () => {
  const codec = propertyCodec('any', 'p');

  it('round-trips msgpack values after a varint of their byte length', () => {
    expect(codec.signature).toBe('any');
    expect(hex(encode(codec, 1))).toBe('02 91 01');
    expect(hex(encode(codec, null))).toBe('02 91 c0');
    const values: unknown[] = [
      0,
      -1.5,
      'text',
      '',
      true,
      null,
      undefined,
      [1, 'two', [3]],
      { name: 'sword', damage: 12, tags: ['sharp'] },
      Uint8Array.of(1, 2, 3),
      new Float32Array([1.5, -2]),
      2n ** 60n,
    ];
    for (const value of values) expect(roundTrip(codec, value)).toEqual(value);
    const long = 'y'.repeat(300);
    expect(roundTrip(codec, { long })).toEqual({ long });
  });

  it('writes a value that size() did not see first', () => {
    const value = { a: [1, 2, 3] };
    const sized = encode(codec, value);
    codec.size('another value');
    const target = new Uint8Array(sized.length);
    expect(codec.write(value, target, 0)).toBe(sized.length);
    expect(hex(target)).toBe(hex(sized));
  });

  it('refuses what msgpack cannot send and what the RPC limits refuse', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    let nested: unknown = 0;
    for (let depth = 0; depth <= DEFAULT_RPC_LIMITS.maxDepth; depth++) nested = [nested];
    const values = [
      () => 1,
      Symbol('s'),
      2n ** 70n,
      cycle,
      nested,
      'z'.repeat(DEFAULT_RPC_LIMITS.maxStringLength + 1),
      JSON.parse('{"__proto__": 1}'),
    ];
    for (const value of values) {
      expectRtcError(() => codec.check(value, 'player.inventory'), 'ERR_INVALID_PARAMETER');
    }
    expect(messageOf(() => codec.check(() => 1, 'player.inventory'))).toContain('player.inventory');
    const small = propertyCodec('any', 'p', { ...DEFAULT_RPC_LIMITS, maxStringLength: 4 });
    expect(roundTrip(small, 'four')).toBe('four');
    expectRtcError(() => small.check('fives', 'player.inventory'), 'ERR_INVALID_PARAMETER');
  });

  it('reads INVALID for bad msgpack, another array than one element, or bytes past the end', () => {
    expectInvalid(codec, [2, 0x91, 0xc1]);
    expectInvalid(codec, [1, 0x91]);
    expectInvalid(codec, [2, 0x01, 0x01]);
    expectInvalid(codec, [1, 0x90]);
    expectInvalid(codec, [3, 0x92, 0x01, 0x02]);
    expectInvalid(codec, [3, 0x91, 0x01, 0x02]);
    expectInvalid(codec, [3, 0x91, 0x01]);
    expectInvalid(codec, [4, 0xdc, 0x00, 0x01, 0x01]);
    expectInvalid(codec, [4, 0x91, 0xd4, 0x05, 0x00]);
    expectInvalid(codec, [0]);
    expectInvalid(codec, []);
    const small = propertyCodec('any', 'p', { ...DEFAULT_RPC_LIMITS, maxStringLength: 4 });
    expectInvalid(small, [7, 0x91, 0xa5, 0x61, 0x62, 0x63, 0x64, 0x65]);
  });

  it('equal() compares the encoded bytes', () => {
    expect(codec.equal({ a: 1, b: [2] }, { a: 1, b: [2] })).toBe(true);
    expect(codec.equal({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(codec.equal([1, 2], [1, 3])).toBe(false);
    expect(codec.equal(1, 1.5)).toBe(false);
    expect(codec.equal(() => 1, () => 1)).toBe(false);
  });

  it('refuses limits that allow no argument', () => {
    expectRtcError(() => propertyCodec('any', 'player.inventory', { ...DEFAULT_RPC_LIMITS, maxArguments: 0 }), 'ERR_INVALID_PARAMETER');
  });
});

describe('property types', () => {
  it('refuses types that are none of the declared forms, naming the property', () => {
    const types: unknown[] = [
      'u64',
      'float',
      '',
      undefined,
      null,
      7,
      {},
      { type: 'u8' },
      { type: 'string' },
      { type: 'string', maxLength: 0 },
      { type: 'bytes', maxLength: -1 },
      { type: 'bytes', maxLength: 1.5 },
      { type: 'string', maxLength: 2 ** 32 },
      { type: 'vec2' },
    ];
    for (const type of types) {
      expectRtcError(() => propertyCodec(type as PropertyType, 'player.x'), 'ERR_INVALID_PARAMETER');
      expect(messageOf(() => propertyCodec(type as PropertyType, 'player.x'))).toContain('player.x');
    }
  });

  it('reads consecutive properties of one packet in order', () => {
    const layout = [
      propertyCodec('u8', 'a'),
      propertyCodec('string', 'b'),
      propertyCodec(PERCENT, 'c'),
      propertyCodec('vec2', 'd'),
      propertyCodec('any', 'e'),
      propertyCodec('bool', 'f'),
    ];
    const values: unknown[] = [7, 'name', 42.5, { x: 1, y: 2 }, { hp: [1, 2] }, true];
    let size = 0;
    for (const [index, codec] of layout.entries()) size += codec.size(values[index]);
    const packet = new Uint8Array(size);
    let offset = 0;
    for (const [index, codec] of layout.entries()) {
      codec.size(values[index]);
      offset = codec.write(values[index], packet, offset);
    }
    expect(offset).toBe(size);
    const cursor = { offset: 0 };
    const read = layout.map((codec) => codec.read(packet, packet.length, cursor));
    expect(read).toEqual(values);
    expect(cursor.offset).toBe(size);
  });
});

describe('read() over random bytes', () => {
  const types: PropertyType[] = [
    'bool',
    'u8',
    'i8',
    'u16',
    'i16',
    'u32',
    'i32',
    'f32',
    'f64',
    'string',
    'bytes',
    'vec2',
    'vec3',
    'any',
    { type: 'string', maxLength: 8 },
    { type: 'bytes', maxLength: 8 },
    PERCENT,
    { type: 'quantized', min: -1, max: 1, precision: 0.3 },
    { type: 'vec3', min: -10, max: 10, precision: 0.001 },
  ];
  const RUNS = 10_000;

  it.each(types.map((type) => [JSON.stringify(type), type] as const))(
    '%s never throws, and what it accepts re-encodes to the bytes read',
    (_name, type) => {
      const codec = propertyCodec(type, 'fuzz');
      const next = seededRandom(0x5eed);
      let accepted = 0;
      const failures: string[] = [];
      for (let run = 0; run < RUNS; run++) {
        const length = Math.floor(next() * 24);
        const bytes = new Uint8Array(length);
        for (let index = 0; index < length; index++) {
          // Half the runs lean on the bytes that announce lengths and msgpack containers.
          bytes[index] = next() < 0.5 ? Math.floor(next() * 256) : [0, 1, 2, 3, 0x91, 0x7f, 0x80, 0xff][Math.floor(next() * 8)]!;
        }
        const start = length > 0 ? Math.floor(next() * Math.min(length, 4)) : 0;
        const cursor = { offset: start };
        const value = codec.read(bytes, length, cursor);
        // Plain comparisons in the loop, one expect per finding: 10,000 expects would take longer
        // than the reads they check.
        const at = (): string => `run ${run}, bytes ${hex(bytes)} from ${start}`;
        if (value === INVALID) {
          if (cursor.offset !== start) failures.push(`${at()}: INVALID moved the cursor`);
          continue;
        }
        accepted++;
        if (cursor.offset <= start || cursor.offset > length) failures.push(`${at()}: cursor at ${cursor.offset}`);
        codec.check(value, 'fuzz');
        const again = new Uint8Array(codec.size(value));
        codec.write(value, again, 0);
        // A NaN may come back as another NaN, and msgpack has several encodings of many values
        // ('any'); every other value has one.
        const read = hex(bytes.subarray(start, cursor.offset));
        if (codec.signature !== 'any' && !Number.isNaN(value) && !hasNaNComponent(value) && hex(again) !== read) {
          failures.push(`${at()}: re-encoded as ${hex(again)}`);
        }
        if (!codec.equal(value, codec.read(again, again.length, { offset: 0 }))) {
          failures.push(`${at()}: the re-encoded value differs`);
        }
      }
      expect(failures).toEqual([]);
      expect(accepted).toBeGreaterThan(0);
    },
  );
});

describe("'any' read() over mutated encodings", () => {
  // Random bytes rarely make msgpack that passes the length and the one-element array; flipping
  // bytes of real encodings reaches the argument check and msgpackr far more often.
  it('never throws, and what it accepts passes check() and round-trips', () => {
    const codec = propertyCodec('any', 'fuzz');
    const seeds = [
      { name: 'sword', damage: 12, tags: ['sharp', 'heavy'], owner: null },
      [1, -2, 3.5, 'four', [5, [6]], { seven: 7 }],
      Uint8Array.of(1, 2, 3, 4),
      new Float64Array([1, 2]),
      'plain text',
    ].map((value) => encode(codec, value));
    const next = seededRandom(0xa11);
    let accepted = 0;
    const failures: string[] = [];
    for (let run = 0; run < 10_000; run++) {
      const bytes = seeds[run % seeds.length]!.slice();
      const flips = 1 + Math.floor(next() * 3);
      for (let flip = 0; flip < flips; flip++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      const cursor = { offset: 0 };
      const value = codec.read(bytes, bytes.length, cursor);
      if (value === INVALID) {
        if (cursor.offset !== 0) failures.push(`run ${run}: INVALID moved the cursor`);
        continue;
      }
      accepted++;
      codec.check(value, 'fuzz');
      const again = new Uint8Array(codec.size(value));
      codec.write(value, again, 0);
      if (!codec.equal(value, codec.read(again, again.length, { offset: 0 }))) {
        failures.push(`run ${run}: ${hex(bytes)} does not round-trip`);
      }
    }
    expect(failures).toEqual([]);
    expect(accepted).toBeGreaterThan(1000);
  });
});

function hasNaNComponent(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).some((component) => Number.isNaN(component));
}
