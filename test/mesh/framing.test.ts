import { describe, expect, it } from 'vitest';
import {
  type MessageHeader,
  RecordReader,
  headerSize,
  readHeader,
  recordEnd,
  recordSize,
  sequenceAfter,
  writeHeader,
  writeRecord,
} from '../../src/mesh/framing.js';
import { decodeSystemMessage, encodePing, encodePong } from '../../src/mesh/system-messages.js';
import { ClockEstimator } from '../../src/mesh/clock.js';
import { TransferMode } from '../../src/mesh/multiplayer-constants.js';
import { readAllRecords } from '../support/records.js';
import { seededRandom } from '../support/seeded-random.js';


/** A whole message, as a sender lays it out: header, then one record per packet. */
function encodeMessage(mode: TransferMode, sentAt: number, sequence: number, packets: Uint8Array[], start: number, end: number, size: number): Uint8Array {
  const message = new Uint8Array(size);
  writeHeader(message, mode, sentAt, sequence);
  let offset = headerSize(mode);
  for (let n = start; n < end; n++) offset = writeRecord(message, offset, packets[n]!);
  return message;
}

const MODES = [TransferMode.Reliable, TransferMode.Unreliable, TransferMode.UnreliableOrdered];
const MAX_SIZE = 262133;

describe('message framing', () => {
  it('round-trips any sequence of packets of 0 B to the maximum size exactly (1,000 seeded cases)', () => {
    const next = seededRandom(42);
    for (let trial = 0; trial < 1000; trial++) {
      const mode = MODES[trial % 3]!;
      const count = 1 + Math.floor(next() * 20);
      const packets = Array.from({ length: count }, () => {
        const pick = next();
        const size = pick < 0.1 ? 0 : pick < 0.15 ? MAX_SIZE : pick < 0.3 ? 127 + Math.floor(next() * 3) : Math.floor(next() * 2000);
        const packet = new Uint8Array(size);
        const seed = Math.floor(next() * 256);
        for (let i = 0; i < size; i++) packet[i] = (i * 31 + seed) & 0xff;
        return packet;
      });
      const size = headerSize(mode) + packets.reduce((sum, p) => sum + recordSize(p.byteLength), 0);
      const sentAt = Math.floor(next() * 2 ** 32);
      const sequence = Math.floor(next() * 2 ** 32);
      const message = encodeMessage(mode, sentAt, sequence, packets, 0, packets.length, size);
      expect(message.byteLength).toBe(size);
      const header: MessageHeader = { sentAt: 0, sequence: 0 };
      expect(readHeader(mode, message, header)).toBe(true);
      if (mode !== TransferMode.Reliable) expect(header.sentAt).toBe(sentAt);
      if (mode === TransferMode.UnreliableOrdered) expect(header.sequence).toBe(sequence);
      const records = readAllRecords(message, headerSize(mode))!;
      expect(records.length).toBe(packets.length);
      records.forEach((record, n) => expect(Buffer.compare(record, packets[n]!)).toBe(0));
    }
  });

  it('rejects records that do not tile the message, with nothing left to read', () => {
    const packets = [new Uint8Array([1, 2, 3]), new Uint8Array(200)];
    const size = packets.reduce((sum, p) => sum + recordSize(p.byteLength), 0);
    const message = encodeMessage(TransferMode.Reliable, 0, 0, packets, 0, 2, size);
    const reader = new RecordReader();
    for (const broken of [message.subarray(0, size - 1), new Uint8Array([0xff, 0xff, 0xff, 0xff]), new Uint8Array([5, 1]), new Uint8Array([])]) {
      expect(reader.start(message, 0)).toBe(2);
      expect(reader.start(broken, 0)).toBe(0);
      expect(reader.remaining).toBe(0);
    }
    expect(readHeader(TransferMode.UnreliableOrdered, new Uint8Array(7), { sentAt: 0, sequence: 0 })).toBe(false);
  });

  it('finds where each record it wrote ends, whatever the size of its length prefix', () => {
    const sizes = [0, 1, 127, 128, 16383, 16384, 70000];
    const records = new Uint8Array(sizes.reduce((sum, size) => sum + recordSize(size), 0));
    const ends: number[] = [];
    let offset = 0;
    for (const size of sizes) ends.push((offset = writeRecord(records, offset, new Uint8Array(size))));
    let at = 0;
    for (const end of ends) expect((at = recordEnd(records, at))).toBe(end);
  });

  it('reads a length in any form of up to 3 bytes, not only the shortest the sender writes', () => {
    // 3 as 83 00 and 83 80 00; 2 as 82 00; then 0 bytes as 80 80 00: four records, 3 + 3 + 2 + 0 bytes.
    const message = Uint8Array.of(0x83, 0x00, 1, 2, 3, 0x83, 0x80, 0x00, 4, 5, 6, 0x82, 0x00, 7, 8, 0x80, 0x80, 0x00);
    expect(readAllRecords(message, 0)!.map((record) => [...record])).toEqual([[1, 2, 3], [4, 5, 6], [7, 8], []]);
    expect(readAllRecords(Uint8Array.of(0x80, 0x80, 0x80, 0x00), 0)).toBeNull();
  });

  it('reads views on the message, and resumes at any record start it named', () => {
    const packets = [Uint8Array.of(1), new Uint8Array(300).fill(2), Uint8Array.of(3, 3)];
    const size = 4 + packets.reduce((sum, p) => sum + recordSize(p.byteLength), 0);
    const message = encodeMessage(TransferMode.Unreliable, 9, 0, packets, 0, 3, size).subarray(0);
    const reader = new RecordReader();
    expect(reader.start(message, 4)).toBe(3);
    expect([...reader.next()]).toEqual([1]);
    const second = reader.position;
    const record = reader.next();
    expect(record.buffer).toBe(message.buffer);
    message[second + 2] = 9;
    expect(record[0]).toBe(9);
    expect(reader.remaining).toBe(1);
    expect(reader.start(message, second)).toBe(2);
    expect(reader.next().byteLength).toBe(300);
    expect([...reader.next()]).toEqual([3, 3]);
    expect(reader.remaining).toBe(0);
  });

  it('survives 10,000 random byte strings without throwing', () => {
    const next = seededRandom(7);
    for (let n = 0; n < 10_000; n++) {
      const bytes = Uint8Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256));
      const records = readAllRecords(bytes, 0);
      if (records) {
        expect(records.reduce((sum, r) => sum + recordSize(r.byteLength), 0)).toBe(bytes.byteLength);
      }
      expect(decodeSystemMessage(bytes, 1) === null || bytes.byteLength === 21 || bytes.byteLength === 25).toBe(true);
    }
  });

  it('orders sequence numbers across the 32-bit wrap', () => {
    expect(sequenceAfter(1, 0)).toBe(true);
    expect(sequenceAfter(0, 1)).toBe(false);
    expect(sequenceAfter(5, 5)).toBe(false);
    expect(sequenceAfter(0, 2 ** 32 - 1)).toBe(true);
    expect(sequenceAfter(2 ** 32 - 1, 0)).toBe(false);
  });
});

describe('keepalive messages and the clock estimate', () => {
  it('round-trips pings and pongs and rejects anything else', () => {
    expect(decodeSystemMessage(encodePing(123.5, 0, [7]), 1)).toEqual({ kind: 'ping', stamp: 123.5, received: 0, counts: [7] });
    expect(decodeSystemMessage(encodePing(1, 2, [0, 7, 0xffff_ffff]), 3)).toEqual({ kind: 'ping', stamp: 1, received: 2, counts: [0, 7, 0xffff_ffff] });
    expect(decodeSystemMessage(encodePong(1, 2, 2 ** 53 - 1), 1)).toEqual({ kind: 'pong', stamp: 1, remoteTime: 2, received: 2 ** 53 - 1 });
    expect(decodeSystemMessage(new Uint8Array(21), 1)).toBeNull();
    // A ping carries one count per reliable channel of the layout, no more, no fewer.
    expect(decodeSystemMessage(encodePing(1, 2, [0, 7]), 1)).toBeNull();
    expect(decodeSystemMessage(encodePing(1, 2, [0, 7]), 3)).toBeNull();
    expect(decodeSystemMessage(encodePing(1, 2, [0]).subarray(0, 9), 1)).toBeNull();
    expect(decodeSystemMessage(encodePing(Number.NaN, 0, [0]), 1)).toBeNull();
    expect(decodeSystemMessage(encodePong(1, Number.POSITIVE_INFINITY, 0), 1)).toBeNull();
    // A byte count is a whole number a float64 holds exactly.
    for (const received of [-1, 0.5, Number.NaN, 2 ** 53]) {
      expect(decodeSystemMessage(encodePing(1, received, [0]), 1)).toBeNull();
      expect(decodeSystemMessage(encodePong(1, 2, received), 1)).toBeNull();
    }
  });

  it('encodes the example of docs/wire-format.md', () => {
    const hex = (message: Uint8Array): string => Buffer.from(message).toString('hex').replace(/(..)(?!$)/g, '$1 ');
    expect(hex(encodePing(1700000000000.5, 4096, [7, 65536]))).toBe('01 42 78 bc fe 56 80 08 00 40 b0 00 00 00 00 00 00 00 00 00 07 00 01 00 00');
    expect(hex(encodePong(1700000000000.5, 1700000000040.25, 1000))).toBe(
      '02 42 78 bc fe 56 80 08 00 42 78 bc fe 56 82 84 00 40 8f 40 00 00 00 00 00',
    );
  });

  it('estimates the offset from the sample with the shortest round trip', () => {
    const clock = new ClockEstimator();
    // Remote clock is 1000 ms ahead; one sample suffers a 40 ms one-way delay on the way back.
    expect(clock.addSample(0, 1005, 10)).toBe(true);
    expect(clock.addSample(100, 1105, 150)).toBe(true);
    expect(clock.offsetMs).toBe(1000);
    expect(clock.rttMs).toBeGreaterThan(10);
    expect(clock.addSample(200, 0, 100)).toBe(false);
  });
});
