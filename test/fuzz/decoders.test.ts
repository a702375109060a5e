import { describe, expect, it } from 'vitest';
import { TransferMode } from '../../src/index.js';
import { decodeSystemMessage, encodePing, encodePong } from '../../src/mesh/system-messages.js';
import { type MessageHeader, headerSize, readHeader, writeHeader, writeRecord } from '../../src/mesh/framing.js';
import { RpcCodec, PathStatus } from '../../src/rpc/codec.js';
import { checkArguments } from '../../src/rpc/msgpack-check.js';
import { DEFAULT_RPC_LIMITS } from '../../src/rpc/rpc-limits.js';
import { encodeAck, encodeDespawn, fragment, packSync, readAck, readFragment, readSpawnHeader, readSyncHeader } from '../../src/replication/replication-packets.js';
import { mutate } from '../support/mutate.js';
import { readAllRecords } from '../support/records.js';
import { seededRandom } from '../support/seeded-random.js';

// The decoders of everything that arrives from the network, fed random and mutated bytes in
// process, where a run is fast enough to be long: none may throw, and each answers a value or a
// named refusal. The same decoders meet fuzz on real connections in test/rpc and test/replication.
const RUNS = 20_000;

/** Random bytes or a mutation of one of `valid`, as a fuzzer would send. */
function inputs(seed: number, valid: readonly Uint8Array[]): Uint8Array[] {
  const next = seededRandom(seed);
  return Array.from({ length: RUNS }, () =>
    next() < 0.3 ? Uint8Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256)) : mutate(next, valid[Math.floor(next() * valid.length)]!),
  );
}

describe('decoders under in-process fuzz', () => {
  it('the RPC codec decodes or names a drop reason, and never throws', () => {
    const codec = new RpcCodec();
    const valid = [
      codec.encodeCall(1, 2, [1, 'two', { three: [3] }, new Uint8Array(4), new Date(0), 2n ** 40n]),
      codec.encodeEntityCall(3, 70000, 1, [true, null, undefined, -1.5]),
      codec.encodeAnnounce(5, 0xdeadbeef, '/players/7'),
      codec.encodeConfirm(5, PathStatus.TooManyPaths),
      codec.encodeRelease(5, 3),
      codec.encodeRelay(-4, codec.encodeCall(1, 0, [[1, [2, [3]]]])),
      codec.encodeRaw(Uint8Array.of(1, 2, 3)),
    ];
    let accepted = 0;
    for (const bytes of inputs(1, valid)) {
      const result = codec.decode(bytes);
      if (result.ok) accepted++;
      else expect(typeof result.reason).toBe('string');
    }
    expect(accepted).toBeGreaterThan(100);
  });

  it('the msgpack check answers undefined or a reason for any bytes', () => {
    const codec = new RpcCodec();
    const valid = [codec.encodeCall(0, 0, [{ a: [1, 2, { b: 'c' }] }, Float32Array.of(1, 2), 'x'.repeat(300)])];
    for (const bytes of inputs(2, valid)) {
      const reason = checkArguments(bytes, Math.min(3, bytes.length), bytes.length, DEFAULT_RPC_LIMITS);
      expect(reason === undefined || typeof reason === 'string').toBe(true);
    }
  });

  it('the mesh framing and the keepalive messages parse or refuse any bytes', () => {
    const message = new Uint8Array(64);
    writeHeader(message, TransferMode.UnreliableOrdered, 123456, 7);
    let end = writeRecord(message, 8, Uint8Array.of(1, 2, 3));
    end = writeRecord(message, end, new Uint8Array(20));
    const valid = [message.subarray(0, end), encodePing(1e12, 5, [3, 4]), encodePong(1e12, 2e12, 9)];
    const header: MessageHeader = { sentAt: 0, sequence: 0 };
    for (const bytes of inputs(3, valid)) {
      for (const mode of [TransferMode.Reliable, TransferMode.Unreliable, TransferMode.UnreliableOrdered]) {
        const records = readHeader(mode, bytes, header) ? readAllRecords(bytes, headerSize(mode)) : null;
        if (records?.some((record) => record.byteLength > bytes.byteLength)) throw new Error('a record larger than its message');
      }
      for (const reliableChannels of [0, 1, 2]) decodeSystemMessage(bytes, reliableChannels);
    }
  });

  it('the replication readers parse or refuse any bytes', () => {
    const valid = [
      ...packSync(9, { tick: 40, baseline: 38, time: 123456 }, [{ netId: 5, mask: 3, body: Uint8Array.of(1, 2, 3) }, { netId: 900, mask: 1, body: Uint8Array.of(4) }], 2),
      encodeDespawn(9, 70000),
      encodeAck([[9, 40], [10, 2]]),
      ...fragment(3, new Uint8Array(2500).fill(7)),
    ];
    const broken: string[] = [];
    for (const bytes of inputs(4, valid)) {
      const header = readSyncHeader(bytes, { offset: 2 });
      if (header && header.part >= header.parts) broken.push('a SYNC part past its count');
      readSpawnHeader(bytes, { offset: 2 });
      const part = readFragment(bytes);
      if (part && part.index >= part.count) broken.push('a fragment past its count');
      if (readAck(bytes)?.some(([, tick]) => tick < 1)) broken.push('an ACK of tick 0');
    }
    expect(broken).toEqual([]);
  });
});
