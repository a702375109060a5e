import { describe, expect, it } from 'vitest';
import { MultiplayerAPI, TransferMode, type WebRTCMultiplayerPeer } from '../../src/index.js';
import { RpcCommand } from '../../src/rpc/codec.js';
import { type Track, cleanupAfterAll, closeWithTest } from '../support/close-after-each.js';
import { expectRtcError } from '../support/errors.js';
import { pollFor } from '../support/poll.js';
import { type ApiGroup, type ApiGroupOptions, makeApiGroup } from '../support/rpc.js';

cleanupAfterAll();
const text = new TextEncoder();
const read = new TextDecoder();

type Topology = 'mesh' | 'server';

/** What one API heard, in order: `connected 2`, `authenticating 2`, `failed 2`, `call 2`, ... */
function journal(api: MultiplayerAPI): string[] {
  const events: string[] = [];
  api.on('peerAuthenticating', (id) => events.push(`authenticating ${id}`));
  api.on('peerAuthenticationFailed', (id) => events.push(`failed ${id}`));
  api.on('peerConnected', (id) => events.push(`connected ${id}`));
  api.on('peerDisconnected', (id) => events.push(`disconnected ${id}`));
  api.on('peerPacket', (id) => events.push(`bytes ${id}`));
  return events;
}

/** Password authentication both ways: each side sends its password and accepts the right one. */
function passwords(password: (id: number) => string, expected = 'open sesame'): ApiGroupOptions['prepare'] {
  return (api, id) => {
    api.authCallback = (peerId, data) => {
      if (read.decode(data) === expected) api.completeAuth(peerId);
      else api.disconnectPeer(peerId);
    };
    api.on('peerAuthenticating', (peerId) => api.sendAuth(peerId, text.encode(password(id))));
  };
}

/** A registered object that records who called it. */
function registerEcho(api: MultiplayerAPI): number[] {
  const callers: number[] = [];
  api.register('/echo', { hello: () => callers.push(api.getRemoteSenderId()) }, { hello: { mode: 'anyPeer' } });
  return callers;
}

async function group(track: Track, count: number, topology: Topology, options: ApiGroupOptions = {}): Promise<ApiGroup> {
  return track(await makeApiGroup(count, { topology, channels: [TransferMode.Reliable], ...options }));
}

function craft(peer: WebRTCMultiplayerPeer, to: number, packet: Uint8Array): void {
  peer.setTargetPeer(to);
  peer.transferMode = TransferMode.Reliable;
  peer.transferChannel = 0;
  peer.putPacket(packet);
}

// Each test has peers of its own and mostly waits on their timers and links: they run side by side.
describe.concurrent.each<Topology>(['mesh', 'server'])('authentication in the %s topology', (topology) => {
  it('admits peers once both sides completed: events in order, RPCs after', async (context) => {
    const track = closeWithTest(context);
    const journals: string[][] = [];
    const g = await group(track, 3, topology, {
      prepare: (api, id) => {
        journals[id - 1] = journal(api);
        passwords(() => 'open sesame')!(api, id);
      },
    });
    const callers = g.apis.map(registerEcho);
    for (const api of g.apis) expect(api.getAuthenticatingPeers()).toEqual([]);
    const server = journals[0]!;
    for (const id of [2, 3]) expect(server.indexOf(`authenticating ${id}`)).toBeLessThan(server.indexOf(`connected ${id}`));
    expect(server.filter((event) => event.startsWith('failed'))).toEqual([]);
    g.api(2).rpc('/echo', 'hello');
    await g.pollUntil(() => callers[0]!.length === 1 && callers[2]!.length === 1, 'the call after authentication');
    expect(callers[2]).toEqual([2]);
  });

  it('fails a peer with the wrong password on both sides; the others never see it', async (context) => {
    const track = closeWithTest(context);
    const journals: string[][] = [];
    const failures: number[] = [];
    const g = await group(track, 3, topology, {
      wait: false,
      prepare: (api, id) => {
        journals[id - 1] = journal(api);
        passwords((self) => (self === 3 ? 'guess' : 'open sesame'))!(api, id);
        if (id === 3) api.on('connectionFailed', () => failures.push(id));
      },
    });
    await g.pollUntil(
      () => journals[0]!.includes('failed 3') && journals[2]!.includes('failed 1') && g.api(2).getPeers().includes(1),
      'the refusal of peer 3',
    );
    await pollFor(g.apis, 300);
    expect(g.api(1).getPeers()).toEqual([2]);
    expect(g.api(2).getPeers()).toEqual([1]);
    expect(g.api(3).getPeers()).toEqual([]);
    expect(journals[1]!.some((event) => event.endsWith(' 3') && !event.startsWith('authenticating') && !event.startsWith('failed'))).toBe(false);
    expect(journals[2]!.filter((event) => event.startsWith('connected'))).toEqual([]);
    if (topology === 'server') expect(failures).toEqual([3]);
  });

  it('lets nothing of a peer reach the game before it completes: calls, bytes and spawns wait', async (context) => {
    const track = closeWithTest(context);
    let release = false;
    const waiting: number[] = [];
    const journals: string[][] = [];
    const g = await group(track, 2, topology, {
      wait: false,
      prepare: (api, id) => {
        journals[id - 1] = journal(api);
        api.authCallback = (peerId) => {
          if (id === 2 || release) api.completeAuth(peerId);
          else waiting.push(peerId);
        };
        api.on('peerAuthenticating', (peerId) => api.sendAuth(peerId, text.encode('hi')));
      },
    });
    const callers = g.apis.map(registerEcho);
    const spawners = g.apis.map((api) => api.addSpawner('/things', { spawnFunction: (n: number) => ({ n }) }));
    spawners[0]!.spawn(7);
    await g.pollUntil(() => waiting.length === 1, 'peer 1 to hold peer 2');
    // Peer 2 has completed and talks as if admitted: peer 1 drops it all.
    expect(g.api(2).rpcId(1, '/echo', 'hello')).toBe(false);
    expect(g.api(2).sendBytes(Uint8Array.of(1), 1)).toBe(false);
    const peer2 = g.group.byId(2).peer;
    craft(peer2, 1, Uint8Array.of(RpcCommand.Raw, 1, 2));
    craft(peer2, 1, Uint8Array.of(RpcCommand.AnnouncePath, 1, 0, 0, 0, 0, 0x2f));
    await g.pollUntil(() => g.api(1).getPeerStats(2).dropped.notAuthenticated === 2, 'the drops');
    await pollFor(g.apis, 200);
    expect(journals[0]).toEqual(['authenticating 2']);
    expect(callers[0]).toEqual([]);
    expect(spawners[1]!.getEntities()).toEqual([]);
    expect(g.api(1).getAuthenticatingPeers()).toEqual([2]);
    expect(g.api(1).getPeers()).toEqual([]);
    g.api(1).completeAuth(2);
    await g.pollUntil(() => spawners[1]!.getEntities().length === 1, 'the spawn after completion');
    expect(journals[0]).toEqual(['authenticating 2', 'connected 2']);
    g.api(2).rpc('/echo', 'hello');
    await g.pollUntil(() => callers[0]!.length === 1, 'the call');
  });
});

describe.concurrent.each<Topology>(['mesh', 'server'])('authentication limits in the %s topology', (topology) => {
  it('times out a peer that never completes, on both sides', async (context) => {
    const track = closeWithTest(context);
    const g = await group(track, 2, topology, {
      wait: false,
      prepare: (api, id) => {
        api.authTimeoutMs = 400;
        // Peer 2 accepts; peer 1 reads the data and never decides.
        api.authCallback = (peerId) => {
          if (id === 2) api.completeAuth(peerId);
        };
        api.on('peerAuthenticating', (peerId) => api.sendAuth(peerId, text.encode('token')));
      },
    });
    const journals = g.apis.map(journal);
    await g.pollUntil(() => journals[0]!.includes('failed 2') && journals[1]!.includes('failed 1'), 'both to give up');
    expect(journals).toEqual([['authenticating 2', 'failed 2'], ['authenticating 1', 'failed 1']]);
    expect(g.apis.map((api) => api.getAuthenticatingPeers())).toEqual([[], []]);
  });

  it('times out a peer that never answers (it has no authCallback), dropping what it sends meanwhile', async (context) => {
    const track = closeWithTest(context);
    const g = await group(track, 2, topology, {
      wait: false,
      prepare: (api, id) => {
        if (id !== 1) return;
        api.authTimeoutMs = 2500;
        api.authCallback = (peerId) => api.completeAuth(peerId);
      },
    });
    const journals = g.apis.map(journal);
    const callers = g.apis.map(registerEcho);
    await g.pollUntil(
      () => g.api(2).getPeers().includes(1) && g.api(1).getAuthenticatingPeers().includes(2),
      'peer 2, without authentication, to admit peer 1, and peer 1 to hold peer 2',
    );
    g.api(2).rpc('/echo', 'hello');
    g.api(2).sendBytes(Uint8Array.of(1));
    // The path announcement, the call and the bytes.
    await g.pollUntil(() => g.api(1).getPeerStats(2).dropped.notAuthenticated === 3, 'what peer 2 sent to be dropped');
    await g.pollUntil(() => journals[0]!.includes('failed 2') && journals[1]!.includes('disconnected 1'), 'the timeout');
    expect(journals[0]).toEqual(['authenticating 2', 'failed 2']);
    expect(callers[0]).toEqual([]);
  });

  it('drops an AUTH flood past maxAuthPackets and data over maxAuthBytes, counted, and still admits', async (context) => {
    const track = closeWithTest(context);
    const received: number[] = [];
    const g = await group(track, 2, topology, {
      wait: false,
      api: { maxAuthBytes: 64, maxAuthPackets: 10 },
      prepare: (api, id) => {
        api.authCallback = (_peerId, data) => {
          if (id === 1) received.push(data.length);
        };
      },
    });
    await g.pollUntil(() => g.apis.every((api) => api.getAuthenticatingPeers().length === 1), 'both to authenticate');
    expectRtcError(() => g.api(2).sendAuth(1, new Uint8Array(65)), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => g.api(2).sendAuth(1, new Uint8Array(0)), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => g.api(2).sendAuth(3, Uint8Array.of(1)), 'ERR_DOES_NOT_EXIST');
    craft(g.group.byId(2).peer, 1, Uint8Array.of(RpcCommand.Auth, ...new Uint8Array(65)));
    for (let n = 0; n < 200; n++) g.api(2).sendAuth(1, Uint8Array.of(n));
    await g.pollUntil(() => g.api(1).getPeerStats(2).dropped.authFlood === 191, 'the flood to be counted');
    expect(g.api(1).getPeerStats(2).dropped.authTooLarge).toBe(1);
    expect(received).toEqual(new Array(9).fill(1));
    g.api(1).completeAuth(2);
    g.api(2).completeAuth(1);
    expectRtcError(() => g.api(1).completeAuth(2), 'ERR_ALREADY_EXISTS');
    expectRtcError(() => g.api(1).sendAuth(2, Uint8Array.of(1)), 'ERR_ALREADY_EXISTS');
    await g.pollUntil(() => g.apis.every((api) => api.getPeers().length === 1), 'the admission');
    expectRtcError(() => g.api(1).completeAuth(2), 'ERR_DOES_NOT_EXIST');
    // After admission, AUTH is not expected any more.
    craft(g.group.byId(2).peer, 1, Uint8Array.of(RpcCommand.Auth, 1));
    await g.pollUntil(() => g.api(1).getPeerStats(2).dropped.unexpectedAuth === 1, 'the late AUTH to be counted');
  });

  it('fails a peer whose authCallback throws, reporting the error', async (context) => {
    const track = closeWithTest(context);
    const errors: string[] = [];
    const g = await group(track, 2, topology, {
      wait: false,
      prepare: (api, id) => {
        api.authCallback = (peerId) => {
          if (id === 1) throw new Error('bad token');
          api.completeAuth(peerId);
        };
        api.on('peerAuthenticating', (peerId) => api.sendAuth(peerId, text.encode('x')));
        api.on('error', (error, context) => errors.push(`${error.message} ${context.peerId}`));
      },
    });
    const journals = g.apis.map(journal);
    await g.pollUntil(() => journals[0]!.includes('failed 2') && journals[1]!.includes('failed 1'), 'the failure');
    expect(errors).toEqual(['bad token 2']);
  });
});

describe.concurrent('authentication settings', () => {
  it('refuses bad settings and calls for peers that are not authenticating', () => {
    const api = new MultiplayerAPI();
    expect(api.authTimeoutMs).toBe(3000);
    expect(api.authCallback).toBe(null);
    expectRtcError(() => (api.authTimeoutMs = 0), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => (api.authTimeoutMs = Number.POSITIVE_INFINITY), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => (api.authCallback = 'yes' as never), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => api.completeAuth(2), 'ERR_DOES_NOT_EXIST');
    expectRtcError(() => api.sendAuth(2, Uint8Array.of(1)), 'ERR_DOES_NOT_EXIST');
    expectRtcError(() => api.disconnectPeer(2), 'ERR_DOES_NOT_EXIST');
    expectRtcError(() => new MultiplayerAPI({ maxAuthPackets: 0 }), 'ERR_INVALID_PARAMETER');
  });
});
