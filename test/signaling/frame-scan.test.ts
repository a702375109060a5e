import { describe, expect, it } from 'vitest';
import { scanFrame, type ScannedFrame } from '../../src/signaling/frame-scan.js';

function scan(text: string): ScannedFrame | null {
  const out: ScannedFrame = { type: -1, id: -1, dataStart: -1, dataEnd: -1 };
  return scanFrame(Buffer.from(text, 'utf8'), out) ? out : null;
}

/** What the scanned literal decodes to, read back with JSON.parse. */
function scannedData(text: string): unknown {
  const found = scan(text);
  if (found === null) return null;
  return JSON.parse(Buffer.from(text, 'utf8').subarray(found.dataStart, found.dataEnd).toString('utf8'));
}

describe('scanFrame', () => {
  it('finds type, id and the data literal, keys in any order, as JSON.parse reads them', () => {
    const frames = [
      '{"type":6,"id":1,"data":"\\n0\\n0\\ncandidate:1 1 UDP 1 127.0.0.1 5000 typ host"}',
      '{"data":"x","id":2147483647,"type":4}',
      '{"id":0,"data":"","type":5}',
      '{"type":6,"id":10,"data":"quote \\" slash \\/ \\\\ \\b\\f\\n\\r\\t \\u00e9 \\uD83D\\uDE00"}',
      '{"type":6,"id":10,"data":"é ☃ 😀"}',
    ];
    for (const frame of frames) {
      const parsed = JSON.parse(frame) as { type: number; id: number; data: string };
      expect(scan(frame), frame).toMatchObject({ type: parsed.type, id: parsed.id });
      expect(scannedData(frame), frame).toBe(parsed.data);
    }
  });

  it('leaves every other shape to the full parser', () => {
    const others = [
      '',
      '{}',
      '[1]',
      '{"type":6,"id":1}', // no data
      '{"type":6,"id":1,"data":"x","extra":1}',
      '{"type":6,"type":6,"id":1,"data":"x"}', // duplicate key
      '{ "type":6,"id":1,"data":"x"}', // whitespace
      '{"type":6,"id":1,"data":"x"} ',
      '{"type":6.0,"id":1,"data":"x"}',
      '{"type":-6,"id":1,"data":"x"}',
      '{"type":06,"id":1,"data":"x"}',
      '{"type":6,"id":1e3,"data":"x"}',
      '{"type":6,"id":1234567890123456,"data":"x"}',
      '{"type":6,"id":1,"data":42}',
      '{"type":6,"id":1,"data":"unterminated}',
      '{"type":6,"id":1,"data":"bad \\x escape"}',
      '{"type":6,"id":1,"data":"short \\u12"}',
      '{"type":6,"id":1,"data":"control \u0001"}',
      '{"type":6,"id":1,"data":"x"',
      '{"type":6,"id":1,"data":"x"}}',
      '{"type":6,"id":1,,"data":"x"}',
      '{"Type":6,"id":1,"data":"x"}',
    ];
    for (const frame of others) expect(scan(frame), frame).toBeNull();
  });
});
