import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TransferMode, cleanup } from '../../src/index.js';
import { PathStatus, RpcCodec } from '../../src/rpc/codec.js';
import { type ApiGroup, makeApiGroup } from '../support/rpc.js';
import { mutate } from '../support/mutate.js';
import { seededRandom } from '../support/seeded-random.js';


const groups: ApiGroup[] = [];
afterEach(() => {
  for (const made of groups.splice(0)) made.close();
});
afterAll(() => cleanup());

describe('RPC decoding under fuzz, on real connections', () => {
  it('survives 10,000 random and mutated packets: nothing escapes poll(), no prototype changes, drops counted, real calls arrive', async () => {
    // Peer 3 is hostile and fuzzes peer 1; peer 2 is honest and calls peer 1 throughout. A hostile
    // peer is dropped after 10 calls without authority; this one must stay to be fuzzed.
    const g = await makeApiGroup(3, { api: { maxAuthorityViolations: 1_000_000 } });
    groups.push(g);
    const received: unknown[][] = [];
    const target = {
      echo: (...args: unknown[]) => received.push(args),
      guarded: () => received.push(['guarded']),
    };
    const config = { echo: { mode: 'anyPeer', maxArguments: 8 }, guarded: { mode: 'authority' } } as const;
    g.api(1).register('/fuzz', target, config);
    const node2 = g.api(2).register('/fuzz', { ...target }, config);
    g.api(3).register('/fuzz', { ...target }, config).rpcId(1, 'echo', 'from the fuzzer');
    const errors: Error[] = [];
    g.api(1).on('error', (error) => errors.push(error));

    const codec = new RpcCodec();
    const valid = [
      codec.encodeCall(1, 0, [1, 'two', { three: [3] }]),
      codec.encodeCall(1, 1, []),
      codec.encodeAnnounce(1, 0x12345678, '/fuzz'),
      codec.encodeAnnounce(7, 0, '/__proto__'),
      codec.encodeConfirm(1, PathStatus.Ok),
      codec.encodeRelay(3, codec.encodeCall(1, 0, [true])),
      codec.encodeRaw(new Uint8Array([1, 2, 3])),
      Uint8Array.from([1, 1, 0, 0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0x81, 0xa1, 0x78, 1]),
      Uint8Array.from([1, 1, 0, 0x91, 0xdd, 0xff, 0xff, 0xff, 0xff]),
    ];
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const next = seededRandom(2024);
    const sender = g.group.byId(3).peer;
    sender.setTargetPeer(1);
    let sent = 0;
    const modes = [TransferMode.Reliable, TransferMode.Unreliable, TransferMode.UnreliableOrdered];
    await g.pollUntil(() => {
      for (let n = 0; n < 200 && sent < 10_000; n++, sent++) {
        const pick = next();
        const packet =
          pick < 0.3
            ? Uint8Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256))
            : mutate(next, valid[Math.floor(next() * valid.length)]!);
        sender.transferMode = modes[sent % 3]!;
        sender.putPacket(packet);
      }
      node2.rpcId(1, 'echo', 'real', sent);
      return sent >= 10_000;
    }, 'the fuzz to be sent', 60_000);
    node2.rpcId(1, 'echo', 'last');
    await g.pollUntil(() => received.some((args) => args[0] === 'last'), 'the last real call', 20_000);

    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    const stats = g.api(1).getPeerStats(3);
    const drops = Object.values(stats.dropped).reduce((sum, count) => sum + count, 0);
    expect(drops).toBeGreaterThan(1000);
    expect(received.filter((args) => args[0] === 'real').length).toBeGreaterThan(10);
    expect(g.api(1).getPeers().sort()).toEqual([2, 3]);
  });
});
