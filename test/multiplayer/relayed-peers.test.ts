import { describe, expect, it } from 'vitest';
import { type MultiplayerAPI, TransferMode, type WebRTCMultiplayerPeer } from '../../src/index.js';
import { RpcCommand } from '../../src/rpc/codec.js';
import { closeAfterEach } from '../support/close-after-each.js';
import { pollFor } from '../support/poll.js';
import { type ApiGroup, type ApiGroupOptions, makeApiGroup } from '../support/rpc.js';

const track = closeAfterEach();

/** A registered object that records each call as `method sender`. */
function registerEcho(api: MultiplayerAPI): string[] {
  const calls: string[] = [];
  const record = (method: string) => () => calls.push(`${method} ${api.getRemoteSenderId()}`);
  api.register('/echo', { hello: record('hello'), shout: record('shout') }, { hello: { mode: 'anyPeer' }, shout: { mode: 'anyPeer' } });
  return calls;
}

/** Who connected and disconnected, in order, as `+3` and `-3`. */
function journal(api: MultiplayerAPI): string[] {
  const events: string[] = [];
  api.on('peerConnected', (id) => events.push(`+${id}`));
  api.on('peerDisconnected', (id) => events.push(`-${id}`));
  api.on('serverDisconnected', () => events.push('server gone'));
  return events;
}

async function server(count: number, options: ApiGroupOptions = {}): Promise<ApiGroup> {
  return track(await makeApiGroup(count, { topology: 'server', channels: [TransferMode.Reliable], ...options }));
}

function craft(peer: WebRTCMultiplayerPeer, to: number, packet: Uint8Array): void {
  peer.setTargetPeer(to);
  peer.transferMode = TransferMode.Reliable;
  peer.transferChannel = 0;
  peer.putPacket(packet);
}

describe('clients that see each other through the server', () => {
  it('tells each client of the others, and carries rpcId, broadcasts and bytes between them', async () => {
    const journals: string[][] = [];
    const g = await server(4, { prepare: (api, id) => (journals[id - 1] = journal(api)) });
    const calls = g.apis.map(registerEcho);
    expect(g.apis.map((api) => api.getPeers().sort())).toEqual([
      [2, 3, 4],
      [1, 3, 4],
      [1, 2, 4],
      [1, 2, 3],
    ]);
    expect(journals[1]![0]).toBe('+1');
    expect(journals[1]!.slice(1).sort()).toEqual(['+3', '+4']);
    g.api(2).rpcId(3, '/echo', 'hello');
    g.api(3).rpc('/echo', 'shout');
    await g.pollUntil(() => calls[2]!.length === 1 && calls.filter((_, index) => index !== 2).every((list) => list.includes('shout 3')), 'the calls');
    expect(calls[2]).toEqual(['hello 2']);
    expect(calls[3]).toEqual(['shout 3']);
    const bytes: Array<[number, number]> = [];
    g.api(4).on('peerPacket', (id, data) => bytes.push([id, data[0]!]));
    g.api(2).sendBytes(Uint8Array.of(7), 4);
    await g.pollUntil(() => bytes.length === 1, 'the bytes');
    expect(bytes).toEqual([[2, 7]]);
    const stats = g.api(2).getPeerStats(3);
    expect(stats.via).toBe(1);
    expect(stats.transport).toBeUndefined();
    expect(stats.dropped).toEqual(g.api(2).getPeerStats(1).dropped);
    expect(g.api(2).getPeerStats(1).via).toBe(1);
    expect(g.api(2).getPeerStats(1).transport).toBeDefined();
  });

  it('tells the others when a client leaves, and every relayed peer goes before the server', async () => {
    const journals: string[][] = [];
    const g = await server(4, { prepare: (api, id) => (journals[id - 1] = journal(api)) });
    g.group.byId(4).peer.close();
    await g.pollUntil(() => journals[1]!.includes('-4') && journals[2]!.includes('-4'), 'clients 2 and 3 to hear that 4 left');
    expect(g.api(2).getPeers()).toEqual([1, 3]);
    g.group.byId(1).peer.close();
    await g.pollUntil(() => journals[1]!.includes('server gone'), 'client 2 to lose the server', 20_000);
    expect(journals[1]!.slice(-3)).toEqual(['-3', '-1', 'server gone']);
    expect(g.api(2).getPeers()).toEqual([]);
  });

  it('with serverRelay false on the server: clients see only the server, and relayed calls are refused', async () => {
    const g = await server(3, { prepare: (api, id) => id === 1 && (api.serverRelay = false) });
    const calls = g.apis.map(registerEcho);
    await pollFor(g.apis, 300);
    expect(g.api(2).getPeers()).toEqual([1]);
    expect(g.api(2).rpcId(3, '/echo', 'hello')).toBe(false);
    expect(g.api(2).sendBytes(Uint8Array.of(1), 3)).toBe(false);
    g.api(2).rpcId(1, '/echo', 'shout');
    // A client that relays anyway (RELAY to peer 3 of a RAW) is refused.
    craft(g.group.byId(2).peer, 1, Uint8Array.of(RpcCommand.Relay, 6, RpcCommand.Raw, 1));
    await g.pollUntil(() => calls[0]!.length === 1 && g.api(1).getPeerStats(2).dropped.badRelay === 1, 'the refusal');
    expect(calls[2]).toEqual([]);
  });

  it('with serverRelay false on a client: it keeps to the server and refuses the notices', async () => {
    const g = await server(3, { prepare: (api, id) => id === 2 && (api.serverRelay = false) });
    await g.pollUntil(() => g.api(2).getPeerStats(1).dropped.badPeerNotice === 1, 'the notice of client 3 to be refused');
    expect(g.api(2).getPeers()).toEqual([1]);
    expect(g.api(3).getPeers().sort()).toEqual([1, 2]);
  });

  it('cannot be made to announce a peer that does not exist, nor to pass on calls from one', async () => {
    const g = await server(3);
    const calls = g.apis.map(registerEcho);
    const journals = g.apis.map(journal);
    // A client sends the server a notice of its own, and a call for a peer that is not there.
    craft(g.group.byId(2).peer, 1, Uint8Array.of(RpcCommand.PeerAdd, 99));
    expect(g.api(2).rpcId(99, '/echo', 'hello')).toBe(false);
    // Sent anyway, as a RELAY to peer 60: the server has no such client and forwards nothing.
    craft(g.group.byId(2).peer, 1, Uint8Array.of(RpcCommand.Relay, 2 * 60, RpcCommand.Raw, 1));
    await g.pollUntil(() => g.api(1).getPeerStats(2).dropped.badPeerNotice === 1, 'the forged notice to be refused');
    // The server's own notices, checked at a client: itself, one known already, one unknown gone.
    const server1 = g.group.byId(1).peer;
    craft(server1, 2, Uint8Array.of(RpcCommand.PeerAdd, 2));
    craft(server1, 2, Uint8Array.of(RpcCommand.PeerAdd, 3));
    craft(server1, 2, Uint8Array.of(RpcCommand.PeerRemove, 50));
    await g.pollUntil(() => g.api(2).getPeerStats(1).dropped.badPeerNotice === 3, 'the bad notices to be counted');
    // A relayed call naming a sender the server never announced: dropped.
    g.api(1).rpcId(2, '/echo', 'hello');
    await g.pollUntil(() => calls[1]!.length === 1, 'a call from the server, announcing its path');
    const pathId = g.api(1).getNode('/echo')!.pathId;
    craft(server1, 2, Uint8Array.of(RpcCommand.Relay, 2 * 50, RpcCommand.Call, pathId, 0, 0x90));
    await g.pollUntil(() => g.api(2).getPeerStats(1).dropped.unknownSender === 1, 'the unknown sender to be refused');
    await pollFor(g.apis, 200);
    expect(calls[1]).toEqual(['hello 1']);
    expect(journals.flat()).toEqual([]);
    expect(g.api(3).getPeers().sort()).toEqual([1, 2]);
  });

  it('carries an entity call between clients through the server, with the spawner on the server', async () => {
    const g = await server(3);
    const hits = new Map<number, number[]>();
    const spawners = g.apis.map((api, index) =>
      api.addSpawner('/units', {
        spawnFunction: (name: string) => ({ name, poke: () => hits.set(index + 1, [...(hits.get(index + 1) ?? []), api.getRemoteSenderId()]) }),
        rpc: { poke: { mode: 'anyPeer' } },
      }),
    );
    const unit = spawners[0]!.spawn('scout', 2);
    await g.pollUntil(() => spawners[1]!.getEntities().length === 1 && spawners[2]!.getEntities().length === 1, 'the spawn at both clients');
    spawners[1]!.getEntity(unit.netId)!.rpcId(3, 'poke');
    await g.pollUntil(() => hits.get(3)?.length === 1, 'the relayed entity call');
    expect(hits.get(3)).toEqual([2]);
    expect(hits.get(1)).toBeUndefined();
  });
});
