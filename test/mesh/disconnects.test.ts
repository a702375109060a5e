import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ConnectionStatus } from '../../src/index.js';
import { type Group, makeGroup } from '../support/mesh.js';
import { pollFor, pollUntil } from '../support/poll.js';
import { type Track, cleanupAfterAll, closeWithTest } from '../support/close-after-each.js';

cleanupAfterAll();
function group(track: Track, ...args: Parameters<typeof makeGroup>): Group {
  return track(makeGroup(...args));
}

async function connectedTrio(track: Track, options: Parameters<typeof makeGroup>[1] = {}): Promise<Group> {
  const g = group(track, 3, options);
  await g.pollUntil(() => g.members.every((m) => m.connected.length === 2), 'a full mesh');
  return g;
}

// Each test has peers of its own and mostly waits on their links: they run side by side.
describe.concurrent('WebRTCMultiplayerPeer drops peers once, at the right moment', () => {
  it('removePeer emits one peerDisconnected at once, and the remote notices the close', async (context) => {
    const track = closeWithTest(context);
    const g = await connectedTrio(track);
    g.byId(1).peer.removePeer(2);
    expect(g.byId(1).disconnected).toEqual([2]);
    expect(g.byId(1).peer.hasPeer(2)).toBe(false);
    await g.pollUntil(() => g.byId(2).disconnected.length === 1, 'peer 2 to see peer 1 go');
    expect(g.byId(2).disconnected).toEqual([1]);
    await pollFor(g.members.map((m) => m.peer), 200);
    expect(g.byId(1).disconnected).toEqual([2]);
    expect(g.byId(3).disconnected).toEqual([]);
  });

  it('disconnectPeer without force emits peerDisconnected at the next poll', async (context) => {
    const track = closeWithTest(context);
    const g = await connectedTrio(track);
    g.byId(1).peer.disconnectPeer(3);
    expect(g.byId(1).disconnected).toEqual([]);
    g.byId(1).peer.poll();
    expect(g.byId(1).disconnected).toEqual([3]);
    await g.pollUntil(() => g.byId(3).disconnected.length === 1, 'peer 3 to see peer 1 go');
  });

  it('disconnectPeer with force drops the peer at once and emits nothing', async (context) => {
    const track = closeWithTest(context);
    const g = await connectedTrio(track);
    g.byId(1).peer.disconnectPeer(3, true);
    expect(g.byId(1).peer.hasPeer(3)).toBe(false);
    await pollFor(g.members.map((m) => m.peer), 200);
    expect(g.byId(1).disconnected).toEqual([]);
  });

  it('the remote closing gives one peerDisconnected on each other peer', async (context) => {
    const track = closeWithTest(context);
    const g = await connectedTrio(track);
    g.byId(3).peer.close();
    const others = [g.byId(1), g.byId(2)];
    await pollUntil(others.map((m) => m.peer), () => others.every((m) => m.disconnected.length === 1), 'both to see peer 3 go');
    expect(others.map((m) => m.disconnected)).toEqual([[3], [3]]);
    expect(g.byId(3).disconnected).toEqual([]);
  });

  it('a remote that goes silent without closing is dropped by the keepalive timeout', async (context) => {
    const track = closeWithTest(context);
    // Long enough that peers 1 and 2, polled by a machine that stalls for a second, still hear each other.
    const timeout = 3000;
    const interval = 100;
    const g = await connectedTrio(track, { meshOptions: { keepaliveTimeoutMs: timeout, keepaliveIntervalMs: interval } });
    // Peer 3 stops polling, as a frozen process would: its connections stay open but it answers nothing.
    const alive = [g.byId(1), g.byId(2)];
    const started = Date.now();
    await pollUntil(alive.map((m) => m.peer), () => alive.every((m) => m.disconnected.length === 1), 'the keepalive timeout', 10_000);
    // Peer 3 was last heard up to one keepalive interval before it stopped polling.
    expect(Date.now() - started).toBeGreaterThanOrEqual(timeout - interval);
    expect(alive.map((m) => m.disconnected)).toEqual([[3], [3]]);
    // Peers 1 and 2 still talk to each other.
    g.byId(1).peer.putPacket(new Uint8Array([42]));
    await pollUntil(alive.map((m) => m.peer), () => g.byId(2).peer.getAvailablePacketCount() === 1, 'a packet between survivors');
    expect(g.byId(2).peer.getPacketPeer()).toBe(1);
  });

  it('drops at close() what was queued before it: no event, no packet', async (context) => {
    const track = closeWithTest(context);
    const g = await connectedTrio(track);
    const peer = g.byId(1).peer;
    // Packets from 2 and 2's departure reach peer 1's engine while peer 1 is not polled: the
    // engine's reports wait in peer 1's queues, for a poll that close() must make deliver nothing.
    const sender = g.byId(2).peer;
    sender.setTargetPeer(1);
    for (let n = 0; n < 10; n++) sender.putPacket(Uint8Array.of(n));
    sender.flush();
    await pollFor([sender], 200);
    sender.close();
    await sleep(300);
    peer.close();
    g.byId(3).peer.close();
    await pollFor([peer], 100);
    expect(g.byId(1).disconnected).toEqual([]);
    expect(peer.getConnectionStatus()).toBe(ConnectionStatus.Disconnected);
    expect(peer.getAvailablePacketCount()).toBe(0);
  });

  it('a client whose server goes away reaches Disconnected', async (context) => {
    const track = closeWithTest(context);
    const g = group(track, 3, { topology: 'server' });
    const clients = [g.byId(2), g.byId(3)];
    await g.pollUntil(
      () => clients.every((m) => m.peer.getConnectionStatus() === ConnectionStatus.Connected) && g.byId(1).connected.length === 2,
      'both clients, on both sides',
    );
    expect(g.byId(1).connected.sort()).toEqual([2, 3]);
    expect(clients.map((m) => m.connected)).toEqual([[1], [1]]);
    g.byId(1).peer.close();
    await pollUntil(clients.map((m) => m.peer), () => clients.every((m) => m.peer.getConnectionStatus() === ConnectionStatus.Disconnected), 'clients to lose the server');
    expect(clients.map((m) => m.disconnected)).toEqual([[1], [1]]);
  });
});
