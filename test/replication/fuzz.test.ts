import { describe, expect, it } from 'vitest';
import { type MultiplayerAPI, ReplicationMode, TransferMode } from '../../src/index.js';
import { RpcCodec } from '../../src/rpc/codec.js';
import { RpcCommand } from '../../src/rpc/codec.js';
import { encodeAck, encodeDeltaEntry, encodeDespawn, encodeSpawn, fragment, packDeltas, packSync } from '../../src/replication/replication-packets.js';
import { closeAfterEach } from '../support/close-after-each.js';
import { makeApiGroup } from '../support/rpc.js';
import { mutate } from '../support/mutate.js';
import { seededRandom } from '../support/seeded-random.js';

const track = closeAfterEach();

const PROPERTIES = {
  x: { type: { type: 'quantized', min: 0, max: 100, precision: 0.5 } },
  hp: { type: 'u8', mode: ReplicationMode.OnChange },
  tag: { type: { type: 'string', maxLength: 16 } },
  extra: { type: 'any', mode: ReplicationMode.Never },
} as const;

function addSpawner(api: MultiplayerAPI, path: string, authority: number) {
  const spawner = api.addSpawner(path, {
    spawnFunction: (data: { n: number }) => ({ n: data.n, x: 0, hp: 0, tag: '', extra: null as unknown }),
    properties: PROPERTIES,
  });
  spawner.setMultiplayerAuthority(authority);
  return spawner;
}

describe('replication decoding under fuzz, on real connections', () => {
  it('survives 10,000 random and mutated replication packets from an authority: nothing escapes poll(), memory bounded, real state arrives', async () => {
    const g = track(await makeApiGroup(3, { api: { maxEntitiesPerPeer: 300 } }));
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    // Peer 3 is the authority of /fuzzed everywhere, so its packets get past the authority check
    // into every decoder; peer 2 honestly runs /honest throughout.
    const fuzzedAt1 = addSpawner(g.api(1), '/fuzzed', 3);
    const fuzzer = addSpawner(g.api(3), '/fuzzed', 3);
    addSpawner(g.api(2), '/fuzzed', 3);
    const honestAt1 = addSpawner(g.api(1), '/honest', 2);
    const honest = addSpawner(g.api(2), '/honest', 2);
    addSpawner(g.api(3), '/honest', 2);
    const errors: Error[] = [];
    g.api(1).on('error', (error) => errors.push(error));
    const real = honest.spawn({ n: 1 });
    fuzzer.spawn({ n: 0 });
    await g.pollUntil(() => fuzzedAt1.getEntities().length === 1 && honestAt1.getEntities().length === 1, 'both spawners to be known');

    const pathId = fuzzer.pathId;
    const layout = fuzzer.layout;
    const spawnValues = [{ a: [1, 2] }, 0, 'tag', 50];
    const codec = new RpcCodec();
    const valid = [
      encodeSpawn(pathId, 5, 3, Uint8Array.of(0x91, 0x81, 0xa1, 0x6e, 0x05), layout.spawnProperties, spawnValues),
      encodeDespawn(pathId, 5),
      ...packSync(pathId, { tick: 9, baseline: 0, time: 1234 }, [{ netId: 1, mask: 3, body: Uint8Array.of(1, 0x74, 25) }, { netId: 5, mask: 2, body: Uint8Array.of(200) }], 2),
      ...packSync(pathId, { tick: 12, baseline: 9, time: 1300 }, [{ netId: 1, mask: 1, body: Uint8Array.of(0) }], 2),
      ...packDeltas(pathId, [encodeDeltaEntry(1, 1, layout.watchedProperties, [7])]),
      ...fragment(3, new Uint8Array(3000).fill(RpcCommand.Sync)),
      encodeAck([[fuzzer.pathId, 3]]),
      codec.encodeRelay(3, codec.encodeCall(1, 0, [1])),
    ];
    const next = seededRandom(77);
    const sender = g.group.byId(3).peer;
    const modes = [TransferMode.Reliable, TransferMode.Unreliable, TransferMode.UnreliableOrdered];
    let sent = 0;
    let step = 0;
    await g.pollUntil(() => {
      for (let n = 0; n < 200 && sent < 10_000; n++, sent++) {
        const packet =
          next() < 0.2
            ? Uint8Array.of(RpcCommand.Spawn + Math.floor(next() * 5), ...Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256)))
            : mutate(next, valid[Math.floor(next() * valid.length)]!);
        // The API on peer 3 puts its own packets between polls: set the whole target each time.
        sender.setTargetPeer(1);
        sender.transferChannel = 0;
        sender.transferMode = modes[sent % 3]!;
        sender.putPacket(packet);
      }
      real.target.x = step++ % 100;
      return sent >= 10_000;
    }, 'the fuzz to be sent', 60_000);
    // Every reliable fuzz packet arrives (the unreliable ones travel beside them).
    const reliableSent = Math.ceil(10_000 / 3);
    const reliableIn = (): number => g.api(1).getPeerStats(3).transport!.channels.find((channel) => channel.mode === TransferMode.Reliable)!.packetsReceived;
    await g.pollUntil(() => reliableIn() >= reliableSent, 'the reliable fuzz to arrive', 20_000);
    real.target.hp = 77;
    await g.pollUntil(() => honestAt1.getEntity(real.netId)?.target.hp === 77, 'the honest state after the fuzz', 20_000);

    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>).n).toBeUndefined();
    const stats = g.api(1).getPeerStats(3);
    const drops = Object.values(stats.replicationDropped).reduce((sum, count) => sum + count, 0) + Object.values(stats.dropped).reduce((sum, count) => sum + count, 0);
    expect(drops).toBeGreaterThan(1000);
    expect(stats.replicationDropped.malformed + stats.replicationDropped.badValue).toBeGreaterThan(100);
    expect(fuzzedAt1.getEntities().length).toBeLessThanOrEqual(300);
    for (const entity of fuzzedAt1.getEntities()) {
      expect(entity.target.x).toBeGreaterThanOrEqual(0);
      expect(entity.target.x).toBeLessThanOrEqual(100);
      expect(entity.target.tag.length).toBeLessThanOrEqual(16);
    }
    expect(g.api(1).getPeers().sort()).toEqual([2, 3]);
    // From the honest peer, nothing is dropped but state that overtook its spawn, as unreliable
    // state may (docs/replication.md).
    expect(Object.entries(g.api(1).getPeerStats(2).replicationDropped).filter(([reason, count]) => count > 0 && reason !== 'stateBeforeSpawn')).toEqual([]);
  });
});
