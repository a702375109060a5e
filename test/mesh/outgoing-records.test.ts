import { describe, expect, it } from 'vitest';
import { OutgoingRecords } from '../../src/mesh/outgoing-records.js';
import { readAllRecords } from '../support/records.js';

function drainAll(records: OutgoingRecords, budget: number, room = Number.POSITIVE_INFINITY): Uint8Array[][] {
  const runs: Uint8Array[][] = [];
  records.drain(budget, room, (run, count) => {
    const packets = readAllRecords(run.slice(), 0);
    expect(packets).toHaveLength(count);
    runs.push(packets!.map((packet) => packet.slice()));
  });
  return runs;
}

describe('OutgoingRecords', () => {
  it('hands out runs within the budget, a larger packet alone, in order, and copies at push', () => {
    const records = new OutgoingRecords();
    const packet = new Uint8Array(100);
    for (let n = 0; n < 30; n++) {
      packet.fill(n);
      records.push(packet);
    }
    records.push(new Uint8Array(5000).fill(99));
    records.push(new Uint8Array(0));
    const runs = drainAll(records, 1150);
    const flat = runs.flat();
    expect(flat.map((p) => p[0] ?? -1)).toEqual([...Array(30).keys(), 99, -1]);
    expect(runs.every((run) => run.length === 1 || run.reduce((sum, p) => sum + p.byteLength + 1, 0) <= 1150)).toBe(true);
    expect(runs.some((run) => run.length === 1 && run[0]!.byteLength === 5000)).toBe(true);
    expect(records.count).toBe(0);
    expect(records.bytes).toBe(0);
  });

  it('stops once the room is spent and keeps the rest, in order, for the next drain', () => {
    const records = new OutgoingRecords();
    for (let n = 0; n < 100; n++) records.push(new Uint8Array(1000).fill(n));
    const first = drainAll(records, 4000, 8000).flat();
    expect(first.length).toBeLessThan(100);
    expect(records.count).toBe(100 - first.length);
    const rest = drainAll(records, 4000).flat();
    expect([...first, ...rest].map((p) => p[0])).toEqual([...Array(100).keys()]);
  });

  it('grows past its first buffer without losing a byte', () => {
    const records = new OutgoingRecords();
    const big = Uint8Array.from({ length: 70_000 }, (_, i) => i & 0xff);
    records.push(big);
    records.push(big);
    const flat = drainAll(records, 16_384).flat();
    expect(flat).toHaveLength(2);
    expect(flat.every((p) => Buffer.compare(p, big) === 0)).toBe(true);
  });
});

describe('OutgoingRecords after a partial drain', () => {
  it('keeps order when packets are put between drains and the buffer must grow', () => {
    const records = new OutgoingRecords();
    const sent: number[] = [];
    let next = 0;
    for (let round = 0; round < 20; round++) {
      for (let n = 0; n < 50; n++) records.push(new Uint8Array(700).fill(next++ & 0xff));
      sent.push(...drainAll(records, 4000, 9000).flat().map((p) => p[0]!));
    }
    sent.push(...drainAll(records, 4000).flat().map((p) => p[0]!));
    expect(sent).toEqual([...Array(1000).keys()].map((n) => n & 0xff));
    expect(records.count).toBe(0);
  });
});

describe('OutgoingRecords with header room', () => {
  it('hands every run with the room before its records, free to write, across partial drains and growth', () => {
    const records = new OutgoingRecords(8);
    const sent: number[] = [];
    let next = 0;
    for (let round = 0; round < 20; round++) {
      for (let n = 0; n < 40; n++) records.push(new Uint8Array(300 + (n % 7) * 100).fill(next++ & 0xff));
      records.drain(1150, round % 3 === 0 ? Number.POSITIVE_INFINITY : 5000, (message, count) => {
        // The header is written before the records are read: it must not clobber a record.
        message.fill(0xee, 0, 8);
        const packets = readAllRecords(message, 8);
        expect(packets).toHaveLength(count);
        sent.push(...packets!.map((packet) => packet[0]!));
      });
    }
    records.drain(1150, Number.POSITIVE_INFINITY, (message) => {
      message.fill(0xee, 0, 8);
      sent.push(...readAllRecords(message, 8)!.map((packet) => packet[0]!));
    });
    expect(sent).toEqual([...Array(800).keys()].map((n) => n & 0xff));
    expect(records.count).toBe(0);
    expect(records.bytes).toBe(0);
  });
});
