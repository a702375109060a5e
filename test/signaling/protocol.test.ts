import { describe, expect, it } from 'vitest';
import { RtcError } from '../../src/transport/errors.js';
import {
  CLOSE_PROTOCOL_ERROR,
  MessageType,
  encodeCandidate,
  encodeMessage,
  parseCandidate,
  parseFrame,
} from '../../src/signaling/protocol.js';

const LIMIT = 65_536;

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function faultOf(text: string, maxFrameBytes = LIMIT): string {
  const result = parseFrame(text, maxFrameBytes);
  if (result.ok) throw new Error(`expected a fault, parsed ${JSON.stringify(result.message)}`);
  expect(result.code).toBe(CLOSE_PROTOCOL_ERROR);
  return result.reason;
}

describe('parseFrame', () => {
  it('reads a well-formed frame into a typed message', () => {
    expect(parseFrame('{"type":4,"id":17,"data":"v=0"}', LIMIT)).toEqual({
      ok: true,
      message: { type: MessageType.Offer, id: 17, data: 'v=0' },
    });
  });

  it('floors type and id, as the Godot demo does', () => {
    expect(parseFrame('{"type":6.9,"id":2.5,"data":""}', LIMIT)).toEqual({
      ok: true,
      message: { type: MessageType.Candidate, id: 2, data: '' },
    });
  });

  it('reads a data that is missing or not a string as ""', () => {
    for (const data of ['', ',"data":5', ',"data":null', ',"data":{"x":1}', ',"data":["a"]']) {
      const result = parseFrame(`{"type":0,"id":0${data}}`, LIMIT);
      expect(result).toEqual({ ok: true, message: { type: MessageType.Join, id: 0, data: '' } });
    }
  });

  it('ignores extra fields, where extensions ride', () => {
    const result = parseFrame('{"type":7,"id":0,"data":"","secret":"x","__proto__":{"polluted":1}}', LIMIT);
    expect(result).toEqual({ ok: true, message: { type: MessageType.Seal, id: 0, data: '' } });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses JSON that does not parse, and says so', () => {
    expect(faultOf('{"type":0,')).toMatch(/not valid JSON/);
    expect(faultOf('')).toMatch(/not valid JSON/);
  });

  it('refuses JSON that is not an object', () => {
    for (const text of ['[0,0,""]', '5', 'null', '"join"', 'true']) {
      expect(faultOf(text)).toMatch(/not a JSON object/);
    }
  });

  it('refuses a missing type or id and names the field', () => {
    expect(faultOf('{"id":0,"data":""}')).toBe('type is missing');
    expect(faultOf('{"type":0,"data":""}')).toBe('id is missing');
  });

  it('refuses a type or id that is not a number', () => {
    expect(faultOf('{"type":"0","id":0}')).toBe('type is not a number');
    expect(faultOf('{"type":0,"id":null}')).toBe('id is not a number');
  });

  it('refuses a negative type or id, including one that floors below zero', () => {
    expect(faultOf('{"type":-1,"id":0}')).toBe('type is negative');
    expect(faultOf('{"type":0,"id":-0.5}')).toBe('id is negative');
  });

  it('refuses a type or id that is not finite', () => {
    expect(faultOf('{"type":1e999,"id":0}')).toBe('type is not finite');
    expect(faultOf('{"type":0,"id":-1e999}')).toBe('id is not finite');
  });

  it('refuses an unknown type and names it', () => {
    expect(faultOf('{"type":8,"id":0}')).toBe('unknown message type 8');
  });

  it('refuses a frame over the limit, counting UTF-8 bytes', () => {
    const frame = `{"type":4,"id":2,"data":"${'é'.repeat(20)}"}`;
    const bytes = new TextEncoder().encode(frame).length;
    expect(parseFrame(frame, bytes).ok).toBe(true);
    expect(faultOf(frame, bytes - 1)).toBe(`frame of ${bytes} bytes exceeds the limit of ${bytes - 1}`);
    const astral = `{"type":4,"id":2,"data":"${'😀'.repeat(3)}\uD800"}`;
    expect(parseFrame(astral, new TextEncoder().encode(astral).length).ok).toBe(true);
    expect(parseFrame(astral, new TextEncoder().encode(astral).length - 1).ok).toBe(false);
  });
});

describe('encodeMessage', () => {
  it('writes a frame that parseFrame reads back unchanged', () => {
    const message = { type: MessageType.Answer, id: 9, data: 'v=0\r\n"quoted"' };
    expect(parseFrame(encodeMessage(message), LIMIT)).toEqual({ ok: true, message });
  });
});

describe('encodeCandidate and parseCandidate', () => {
  const sdp = 'candidate:1 1 UDP 2122317823 127.0.0.1 50000 typ host';

  it("write and read Godot's newline format", () => {
    const data = encodeCandidate('0', 0, sdp);
    expect(data).toBe(`\n0\n0\n${sdp}`);
    expect(parseCandidate(data)).toEqual({ mid: '0', mlineIndex: 0, sdp });
    expect(parseCandidate(`\ndata\n12\na=${sdp}`)).toEqual({ mid: 'data', mlineIndex: 12, sdp: `a=${sdp}` });
  });

  it('read a candidate without the leading line feed, as Godot\'s demo client does', () => {
    expect(parseCandidate(`0\n0\n${sdp}`)).toEqual({ mid: '0', mlineIndex: 0, sdp });
  });

  it('return null on anything malformed', () => {
    const malformed = [
      '',
      `\n\n0\n0\n${sdp}`, // two leading newlines
      `0\n0`, // no sdp, no leading newline
      `\n0\n0`, // no sdp
      `\n0\n0\n${sdp}\nextra`, // a fifth part
      `\n\n0\n${sdp}`, // empty mid
      `\na b\n0\n${sdp}`, // space in mid
      `\n${'m'.repeat(65)}\n0\n${sdp}`, // mid too long
      `\n0\n\n${sdp}`, // empty index
      `\n0\n-1\n${sdp}`,
      `\n0\n01\n${sdp}`,
      `\n0\n1.5\n${sdp}`,
      `\n0\n65536\n${sdp}`,
      `\n0\n0\n`, // empty sdp
      `\n0\n0\nhello`, // not a candidate line
      `\n0\n0\n${sdp}\r`, // control byte
      `\n0\n0\n${sdp}\u0000`,
      `\n0\n0\ncandidate:${'x'.repeat(1024)}`, // too long
    ];
    for (const data of malformed) expect(parseCandidate(data), JSON.stringify(data)).toBeNull();
  });

  it('accept the largest index and the longest mid', () => {
    expect(parseCandidate(`\n${'m'.repeat(64)}\n65535\n${sdp}`)?.mlineIndex).toBe(65535);
  });

  it('refuse to encode parts that would not read back, with ERR_INVALID_PARAMETER', () => {
    for (const [mid, index, line] of [
      ['a\nb', 0, sdp],
      ['', 0, sdp],
      ['0', -1, sdp],
      ['0', 1.5, sdp],
      ['0', 0, 'not a candidate'],
    ] as const) {
      const error = thrownBy(() => encodeCandidate(mid, index, line));
      expect(error).toBeInstanceOf(RtcError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_PARAMETER' });
    }
  });
});
