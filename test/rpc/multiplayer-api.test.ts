import { describe, expect, it } from 'vitest';
import { MultiplayerAPI, type RpcNode, TransferMode } from '../../src/index.js';
import { expectRtcError } from '../support/errors.js';
import { type ApiGroup, makeApiGroup } from '../support/rpc.js';
import { closeAfterEach } from '../support/close-after-each.js';
import { pollUntil } from '../support/poll.js';

const track = closeAfterEach();
const apiGroup = async (...args: Parameters<typeof makeApiGroup>): Promise<ApiGroup> => track(await makeApiGroup(...args));

/** A registered object that records each call with the sender the API reported. */
class Player {
  calls: Array<{ method: string; args: unknown[]; sender: number }> = [];
  constructor(private readonly api: MultiplayerAPI) {}
  move(x: number, y: number): void {
    this.record('move', [x, y]);
  }
  say(text: string, extra: unknown): void {
    this.record('say', [text, extra]);
  }
  hit(damage: number): void {
    this.record('hit', [damage]);
  }
  state(snapshot: Float32Array): void {
    this.record('state', [snapshot]);
  }
  fail(): void {
    throw new Error('handler failed');
  }
  private record(method: string, args: unknown[]): void {
    this.calls.push({ method, args, sender: this.api.getRemoteSenderId() });
  }
}

function registerPlayer(api: MultiplayerAPI) {
  const player = new Player(api);
  const node = api.register('/world/player', player, {
    move: { mode: 'anyPeer', transferMode: TransferMode.UnreliableOrdered },
    say: { mode: 'anyPeer', callLocal: true },
    hit: { mode: 'authority' },
    state: { mode: 'anyPeer', transferMode: TransferMode.Reliable, channel: 1 },
    fail: { mode: 'anyPeer' },
  });
  return { player, node };
}

type Registered = ReturnType<typeof registerPlayer>;

async function trio(topology: 'mesh' | 'server' = 'mesh'): Promise<{ g: ApiGroup; players: Registered[] }> {
  const g = await apiGroup(3, { topology, channels: [TransferMode.Reliable] });
  const players = g.apis.map(registerPlayer);
  return { g, players };
}

describe('MultiplayerAPI RPCs between three real peers', () => {
  it('delivers calls in every transfer mode and on an extra channel with their arguments intact', async () => {
    const { g, players } = await trio();
    const [, second, third] = players as [Registered, Registered, Registered];
    const nested = { name: 'ö', list: [1, -2.5, null, true, { deep: [new Uint8Array([1, 2])] }], big: 2 ** 40 };
    second.node.rpc('move', 3.25, -7);
    second.node.rpc('say', 'hello ✓', nested);
    second.node.rpc('state', Float32Array.from([0.5, 1.5, -2]));
    await g.pollUntil(() => players[0]!.player.calls.length === 3 && third.player.calls.length === 3, 'three calls on peers 1 and 3');
    for (const { player } of [players[0]!, third]) {
      const byMethod = Object.fromEntries(player.calls.map((call) => [call.method, call]));
      expect(byMethod.move).toEqual({ method: 'move', args: [3.25, -7], sender: 2 });
      expect(byMethod.say!.args).toEqual(['hello ✓', nested]);
      expect(byMethod.say!.sender).toBe(2);
      const snapshot = byMethod.state!.args[0] as Float32Array;
      expect(snapshot).toBeInstanceOf(Float32Array);
      expect([...snapshot]).toEqual([0.5, 1.5, -2]);
    }
  });

  it('runs a callLocal method once locally, with the local id as sender, and reports 0 outside calls', async () => {
    const { g, players } = await trio();
    const first = players[0]!;
    first.node.rpc('say', 'hi', 1);
    expect(first.player.calls).toEqual([{ method: 'say', args: ['hi', 1], sender: 1 }]);
    expect(g.api(1).getRemoteSenderId()).toBe(0);
    first.node.rpcId(1, 'say', 'me', 2);
    expect(first.player.calls).toHaveLength(2);
    await g.pollUntil(() => players[1]!.player.calls.length === 1, 'the remote call');
    expect(first.player.calls).toHaveLength(2);
  });

  it('sends rpcId to one peer only', async () => {
    const { g, players } = await trio();
    players[0]!.node.rpcId(3, 'move', 1, 1);
    await g.pollUntil(() => players[2]!.player.calls.length === 1, 'the call on peer 3');
    expect(players[1]!.player.calls).toEqual([]);
  });

  it('throws RtcError for unknown paths or methods, extra arguments, and rpcId to yourself without callLocal', async () => {
    const { g, players } = await trio();
    const api = g.api(1);
    expectRtcError(() => api.rpc('/nowhere', 'move'), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => api.rpc('/world/player', 'jump'), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => api.rpc('/world/player', 'hit', 1, 2), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => players[0]!.node.rpcId(1, 'move', 1, 2), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => api.rpc('/world/player', 'move', () => 1, 2), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => api.register('/world/player', {}, {}), 'ERR_ALREADY_EXISTS');
    expectRtcError(() => api.register('/x', { a: 1 }, { a: {} } as never), 'ERR_INVALID_PARAMETER');
  });

  it('reports a handler that throws through the error event and goes on with the next call', async () => {
    const { g, players } = await trio();
    const errors: string[] = [];
    g.api(1).on('error', (error, context) => errors.push(`${error.message} ${context.path} ${context.method} ${context.peerId}`));
    players[1]!.node.rpc('fail');
    players[1]!.node.rpc('move', 1, 2);
    await g.pollUntil(() => players[0]!.player.calls.length === 1, 'the call after the failing one');
    expect(errors).toEqual(['handler failed /world/player fail 2']);
  });

  it('delivers sendBytes as peerPacket', async () => {
    const { g } = await trio();
    const got: Array<[number, number[]]> = [];
    g.api(3).on('peerPacket', (id, bytes) => got.push([id, [...bytes]]));
    g.api(2).sendBytes(new Uint8Array([9, 8]), 3, TransferMode.Unreliable);
    await g.pollUntil(() => got.length === 1, 'the bytes');
    expect(got).toEqual([[2, [9, 8]]]);
  });
});

describe('authority', () => {
  it("runs the authority's call, rejects and counts anyone else's, and follows a change of authority", async () => {
    const { g, players } = await trio();
    players[0]!.node.rpc('hit', 5);
    players[1]!.node.rpc('hit', 6);
    await g.pollUntil(
      () => players[2]!.player.calls.length === 1 && g.api(3).getPeerStats(2).dropped.notAuthority === 1,
      'the authority call and the refusal',
    );
    expect(players[2]!.player.calls).toEqual([{ method: 'hit', args: [5], sender: 1 }]);
    expect(g.api(3).getPeerStats(2).authorityViolations).toBe(1);
    for (const { node } of players) node.setMultiplayerAuthority(2);
    expect(players[1]!.node.isMultiplayerAuthority()).toBe(true);
    players[1]!.node.rpc('hit', 7);
    players[0]!.node.rpc('hit', 8);
    await g.pollUntil(() => players[2]!.player.calls.length === 2 && g.api(3).getPeerStats(1).dropped.notAuthority === 1, 'the new authority');
    expect(players[2]!.player.calls[1]).toEqual({ method: 'hit', args: [7], sender: 2 });
  });

  it('the server disconnects a peer past the violation limit', async () => {
    const g = await apiGroup(3, { topology: 'server', api: { maxAuthorityViolations: 3 } });
    const players = g.apis.map(registerPlayer);
    for (let n = 0; n < 3; n++) players[2]!.node.rpcId(1, 'hit', n);
    await g.pollUntil(() => !g.api(1).getPeers().includes(3), 'the offender to be dropped');
    expect(players[0]!.player.calls).toEqual([]);
    expect(g.api(1).getPeers()).toEqual([2]);
  });
});

describe('server relay', () => {
  it("carries a client's call to another client with the true sender id", async () => {
    const { g, players } = await trio('server');
    expect(g.api(2).getPeers()).toEqual([1, 3]);
    players[1]!.node.rpcId(3, 'move', 4, 5);
    players[1]!.node.rpc('say', 'all', null);
    await g.pollUntil(() => players[2]!.player.calls.length === 2 && players[0]!.player.calls.length === 1, 'relayed calls');
    // Two channels, so no order between the two calls.
    expect(players[2]!.player.calls.sort((a, b) => a.method.localeCompare(b.method))).toEqual([
      { method: 'move', args: [4, 5], sender: 2 },
      { method: 'say', args: ['all', null], sender: 2 },
    ]);
    expect(players[0]!.player.calls).toEqual([{ method: 'say', args: ['all', null], sender: 2 }]);
    expect(players[1]!.player.calls).toEqual([{ method: 'say', args: ['all', null], sender: 2 }]);
  });

  it('relays sendBytes with the true sender id', async () => {
    const { g } = await trio('server');
    const got: number[] = [];
    g.api(3).on('peerPacket', (id) => got.push(id));
    g.api(2).sendBytes(new Uint8Array([1]), 3);
    await g.pollUntil(() => got.length === 1, 'relayed bytes');
    expect(got).toEqual([2]);
  });

  it('refuses a crafted relay packet that claims another sender', async () => {
    const { g, players } = await trio();
    // In a mesh there is no server relay: a RELAY naming peer 3 as sender, sent by peer 2, is refused.
    const peer2 = g.group.byId(2).peer;
    const node = players[1]!.node as RpcNode<object, string>;
    players[1]!.node.rpcId(1, 'move', 0, 0);
    await g.pollUntil(() => players[0]!.player.calls.length === 1, 'the path to be announced');
    const crafted = new Uint8Array([4, 6, 1, node.pathId, 0, 0x92, 1, 1]);
    peer2.setTargetPeer(1);
    peer2.transferMode = TransferMode.Reliable;
    peer2.transferChannel = 0;
    peer2.putPacket(crafted);
    await g.pollUntil(() => g.api(1).getPeerStats(2).dropped.badRelay === 1, 'the refusal');
    expect(players[0]!.player.calls).toHaveLength(1);
  });

  it('refuses, on a client, a relay that did not come from the server', async () => {
    const { g, players } = await trio('server');
    players[1]!.node.rpcId(1, 'move', 0, 0);
    await g.pollUntil(() => players[0]!.player.calls.length === 1, 'a call to the server');
    // The server (peer 1) talking as a client would: RELAY with a target, not a sender.
    const peer1 = g.group.byId(1).peer;
    peer1.setTargetPeer(2);
    peer1.transferMode = TransferMode.Reliable;
    peer1.transferChannel = 0;
    peer1.putPacket(new Uint8Array([4, 0, 0, 1]));
    await g.pollUntil(() => g.api(2).getPeerStats(1).dropped.badRelay === 1, 'the refusal');
  });
});

describe('method tables', () => {
  it('mismatched method tables produce the error event, not a wrong call', async () => {
    const g = await apiGroup(2);
    const calls: string[] = [];
    const errors: string[] = [];
    g.api(1).register('/door', { open: () => calls.push('open'), lock: () => calls.push('lock') }, { open: { mode: 'anyPeer' }, lock: { mode: 'anyPeer' } });
    const other = g.api(2).register('/door', { open: () => calls.push('remote open') }, { open: { mode: 'anyPeer' } });
    for (const api of g.apis) api.on('error', (error) => errors.push(error.message));
    other.rpc('open');
    await g.pollUntil(() => errors.length === 2, 'both sides to report');
    expect(calls).toEqual([]);
    expect(errors.every((message) => message.includes('/door'))).toBe(true);
    expect(g.api(1).getPeerStats(2).dropped.unknownPath).toBe(1);
  });
});

describe('lifecycle and paths', () => {
  it('drops every peer, with peerDisconnected, once the multiplayer peer is closed', async () => {
    const { g } = await trio();
    const gone: number[] = [];
    g.api(1).on('peerDisconnected', (id) => gone.push(id));
    g.group.byId(1).peer.close();
    g.api(1).poll();
    expect(gone.sort()).toEqual([2, 3]);
    expect(g.api(1).getPeers()).toEqual([]);
  });

  it('refuses a path that cannot travel (a lone surrogate) at register()', () => {
    expectRtcError(() => new MultiplayerAPI().register('/bad\ud800', { a() {} }, { a: {} }), 'ERR_INVALID_PARAMETER');
  });

  it("forwards a relayed call's arguments byte for byte, even ones this side could not encode", async () => {
    const { g, players } = await trio('server');
    players[1]!.node.rpcId(3, 'say', 'first', 1);
    await g.pollUntil(() => players[2]!.player.calls.length === 1, 'a relayed call');
    // A msgpack timestamp far past what a JavaScript Date holds: decodes to an Invalid Date.
    const timestamp = [0xc7, 12, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0];
    const say = (players[1]!.node as RpcNode<object, string>).methods.get('say');
    const call = [1, players[1]!.node.pathId, say.id, 0x92, 0xa1, 0x78, ...timestamp];
    const peer2 = g.group.byId(2).peer;
    peer2.setTargetPeer(1);
    peer2.transferMode = TransferMode.Reliable;
    peer2.transferChannel = 0;
    peer2.putPacket(Uint8Array.from([4, 6, ...call]));
    await g.pollUntil(() => players[2]!.player.calls.length === 2, 'the forwarded call');
    expect(players[2]!.player.calls[1]!.args[0]).toBe('x');
    expect(players[2]!.player.calls[1]!.sender).toBe(2);
  });
});

describe('a MultiplayerAPI set on a multiplayer peer that is connected already', () => {
  it('adopts its connected peers at the next poll, with peerConnected, and calls reach them', async () => {
    const g = await apiGroup(2);
    const late = new MultiplayerAPI();
    const joined: number[] = [];
    late.on('peerConnected', (id) => joined.push(id));
    g.api(1).multiplayerPeer = null;
    late.multiplayerPeer = g.group.byId(1).peer;
    expect(late.getPeers()).toEqual([]);
    late.poll();
    expect(joined).toEqual([2]);
    expect(late.getPeers()).toEqual([2]);
    const received: number[] = [];
    g.api(2).register('/late', { hit: (n: number) => received.push(n) }, { hit: { mode: 'anyPeer' } });
    late.register('/late', { hit: (_n: number) => undefined }, { hit: { mode: 'anyPeer' } }).rpcId(2, 'hit', 5);
    await pollUntil([late, g.api(2)], () => received.length === 1, 'the call from the late API');
    expect(received).toEqual([5]);
  });
});
