// The server's fast path over a frame's bytes: recognizes the common shape of a relayed message,
// `{"type":T,"id":N,"data":"…"}` with the keys in any order (Godot's JSON.stringify sorts them),
// and finds the `data` string literal without decoding it, so that the relay can copy it into
// the forwarded frame as it is. Anything else (whitespace, another key, a float, a duplicate key)
// is left to parseFrame, which decides exactly as JSON.parse would.

/** Where a frame's fields are; filled in by {@link scanFrame}. */
export interface ScannedFrame {
  type: number;
  id: number;
  /** Byte offsets of the `data` string literal, quotes included. */
  dataStart: number;
  dataEnd: number;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;
const BACKSLASH = 0x5c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const FIRST_PRINTABLE = 0x20;
const LETTER_U = 0x75;
// A count of up to 15 digits is exact in a double; longer ones go the slow way.
const MAX_COUNT_DIGITS = 15;
const HEX_DIGITS_OF_U_ESCAPE = 4;
const MIN_KEYED_REST = 7;

const KEY_TYPE = 1;
const KEY_ID = 2;
const KEY_DATA = 4;
const ALL_KEYS = KEY_TYPE | KEY_ID | KEY_DATA;

// The escapes JSON allows after a backslash, other than \u.
const SIMPLE_ESCAPES = new Uint8Array(128);
for (const char of '"\\/bfnrt') SIMPLE_ESCAPES[char.charCodeAt(0)] = 1;

/**
 * Reads `bytes[start, end)` as `{"type":T,"id":N,"data":"…"}` with non-negative integer type and
 * id and a well-formed string, into `out` (offsets into `bytes`). False means only "not this
 * shape": the frame may still be valid JSON, for parseFrame to judge.
 */
export function scanFrame(bytes: Uint8Array, out: ScannedFrame, start = 0, end = bytes.length): boolean {
  if (end - start < 2 || bytes[start] !== OPEN_BRACE) return false;
  let seen = 0;
  let at = start + 1;
  for (;;) {
    // The shortest rest of a frame with a key in it, `"id":0}`: readKey may look this far.
    if (end - at < MIN_KEYED_REST) return false;
    const key = readKey(bytes, at);
    if (key === 0 || (seen & key) !== 0) return false;
    seen |= key;
    at = keyEnd(key, at);
    if (bytes[at] !== COLON) return false;
    at++;
    if (key === KEY_DATA) {
      const stringEnd = skipString(bytes, at, end);
      if (stringEnd < 0) return false;
      out.dataStart = at;
      out.dataEnd = stringEnd;
      at = stringEnd;
    } else {
      let digits = 0;
      let value = 0;
      while (at < end && bytes[at]! >= DIGIT_0 && bytes[at]! <= DIGIT_9) {
        value = value * 10 + (bytes[at]! - DIGIT_0);
        digits++;
        at++;
      }
      // JSON forbids leading zeros; the slow path reports them.
      if (digits === 0 || digits > MAX_COUNT_DIGITS || (digits > 1 && bytes[at - digits] === DIGIT_0)) return false;
      if (key === KEY_TYPE) out.type = value;
      else out.id = value;
    }
    if (at >= end) return false;
    const next = bytes[at];
    if (next === CLOSE_BRACE) return at + 1 === end && seen === ALL_KEYS;
    if (next !== COMMA) return false;
    at++;
  }
}

/** Which of the three keys starts at `at` (a quoted name), or 0. */
function readKey(bytes: Uint8Array, at: number): number {
  if (bytes[at] !== QUOTE) return 0;
  const first = bytes[at + 1];
  // "type"
  if (first === 0x74 && bytes[at + 2] === 0x79 && bytes[at + 3] === 0x70 && bytes[at + 4] === 0x65 && bytes[at + 5] === QUOTE) return KEY_TYPE;
  // "id"
  if (first === 0x69 && bytes[at + 2] === 0x64 && bytes[at + 3] === QUOTE) return KEY_ID;
  // "data"
  if (first === 0x64 && bytes[at + 2] === 0x61 && bytes[at + 3] === 0x74 && bytes[at + 4] === 0x61 && bytes[at + 5] === QUOTE) return KEY_DATA;
  return 0;
}

/** The offset just past the quoted key `key` that starts at `at`. */
function keyEnd(key: number, at: number): number {
  return at + (key === KEY_ID ? 4 : 6);
}

/** The offset just past the JSON string literal that starts at `at` and ends before `end`, or -1 if there is none. */
function skipString(bytes: Uint8Array, at: number, end: number): number {
  if (at >= end || bytes[at] !== QUOTE) return -1;
  for (let i = at + 1; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === QUOTE) return i + 1;
    if (byte < FIRST_PRINTABLE) return -1;
    if (byte !== BACKSLASH) continue;
    if (++i >= end) return -1;
    const escaped = bytes[i]!;
    if (escaped === LETTER_U) {
      if (i + HEX_DIGITS_OF_U_ESCAPE >= end) return -1;
      for (let h = 0; h < HEX_DIGITS_OF_U_ESCAPE; h++) if (!isHexDigit(bytes[++i])) return -1;
    } else if (escaped >= SIMPLE_ESCAPES.length || SIMPLE_ESCAPES[escaped] !== 1) return -1;
  }
  return -1;
}

function isHexDigit(byte: number | undefined): boolean {
  if (byte === undefined) return false;
  return (byte >= DIGIT_0 && byte <= DIGIT_9) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}
