// Several signaling nodes sharing their lobbies through a real redis-server: members of one lobby
// on different nodes, a node killed mid-match (a child process), Redis stopped and restarted.
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { SignalingServer, type SignalingServerOptions, TransferMode } from '../../src/index.js';
import { CLUSTER_SLOW_REASON } from '../../src/signaling/cluster/cluster-link.js';
import { MessageType } from '../../src/signaling/protocol.js';
import { type Track, cleanupAfterAll, closeWithTest } from '../support/close-after-each.js';
import { expectRtcError } from '../support/errors.js';
import { Daemon } from '../../bench/daemon.js';
import { drain } from '../support/mesh.js';
import { pollFor, pollUntil } from '../support/poll.js';
import { RedisServer } from '../../bench/redis-server.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { connectedPeers, type Member, member } from '../support/resumable-lobby.js';
import { RawClient } from '../support/ws-client.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const MESH_TIMEOUT_MS = 20_000;
// The documented bound on telling a dead node's lobbies is 5 s; the wait allows a loaded machine more.
const NODE_LOSS_WAIT_MS = 12_000;

cleanupAfterAll();
// The tests run side by side, each on its own Redis: raw clients are closed once all have ended.
afterAll(() => RawClient.closeAll());

async function redis(track: Track): Promise<RedisServer> {
  return track(await RedisServer.start());
}

const TOKEN_SECRET = 'one-secret-for-every-node';
// A node stops a socket's JOIN deadline once Redis has placed the join (the default is 1 s), and
// the Redis of a loaded machine answers late; the deadline itself is server.test.ts's subject.
const JOIN_TIMEOUT_MS = 5000;
const GRACE_MS = 15_000;

async function node(track: Track, redisUrl: string, options: SignalingServerOptions = {}): Promise<{ server: SignalingServer; url: string }> {
  const server = track(new SignalingServer({ host: '127.0.0.1', port: 0, redis: redisUrl, joinTimeoutMs: JOIN_TIMEOUT_MS, ...options }));
  const { url } = await server.listen();
  await waitFor(() => server.clusterAvailable, 'the node to reach Redis');
  return { server, url };
}

/** A Redis, two nodes on it, and a lobby whose host is on the first. */
async function lobbyOnTwoNodes(track: Track): Promise<{ store: RedisServer; a: Awaited<ReturnType<typeof node>>; b: Awaited<ReturnType<typeof node>>; host: Member; lobby: string }> {
  const store = await redis(track);
  const a = await node(track, store.url);
  const b = await node(track, store.url);
  const host = member(track, a.url, '', true);
  return { store, a, b, host, lobby: await lobbyOf(host) };
}

/** A node in a child process, to be killed as a crash would. */
async function childNode(track: Track, redisUrl: string, args: string[] = []): Promise<{ daemon: Daemon; url: string }> {
  const env = { RTCMESH_TOKEN_SECRET: TOKEN_SECRET };
  const daemon = track(await Daemon.start(process.execPath, [CLI, 'signal', '--port', '0', '--redis', redisUrl, '--join-timeout-ms', String(JOIN_TIMEOUT_MS), ...args], /cluster node \S+ joined/, env));
  return { daemon, url: daemon.find(/listening on (ws:\S+)/)![1]! };
}

/** The next message of `type` the client receives. */
async function messageOfType(client: RawClient, type: number): Promise<{ type: number; id: number; data: string }> {
  for (;;) {
    const message = (await client.next()) as { type: number; id: number; data: string };
    if (message.type === type) return message;
  }
}

async function waitFor(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  await pollUntil([], done, what, timeoutMs);
}

async function lobbyOf(host: Member): Promise<string> {
  await pollUntil([host.peer], () => host.client.getLobby() !== '', 'the lobby', MESH_TIMEOUT_MS);
  return host.client.getLobby();
}

async function meshFormed(members: Member[]): Promise<void> {
  await pollUntil(
    members.map((m) => m.peer),
    () => members.every((m) => connectedPeers(m).length === members.length - 1),
    'every link',
    MESH_TIMEOUT_MS,
  );
}

/** Every member sends a reliable and an unreliable packet to every other; each must arrive. */
async function exchange(members: Member[]): Promise<void> {
  for (const from of members) {
    for (const to of members) {
      if (from === to) continue;
      from.peer.setTargetPeer(to.client.getUniqueId());
      from.peer.transferMode = TransferMode.Reliable;
      from.peer.putPacket(Uint8Array.of(1, from.client.getUniqueId() & 0xff));
      from.peer.transferMode = TransferMode.Unreliable;
      from.peer.putPacket(Uint8Array.of(2, from.client.getUniqueId() & 0xff));
    }
  }
  const got = new Map<Member, Set<string>>(members.map((m) => [m, new Set()]));
  await pollUntil(
    members.map((m) => m.peer),
    () => {
      for (const m of members) for (const packet of drain(m.peer)) got.get(m)!.add(`${packet.from}:${packet.data[0]}`);
      return members.every((m) => got.get(m)!.size === 2 * (members.length - 1));
    },
    'every packet',
    MESH_TIMEOUT_MS,
  );
}

// Each test has a Redis and nodes of its own, and mostly waits on them: they run side by side.
describe.concurrent('signaling nodes sharing lobbies through Redis', () => {
  it('refuses a redis option that is not a Redis URL', () => {
    expectRtcError(() => new SignalingServer({ redis: 'http://127.0.0.1:6379' }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => new SignalingServer({ redis: '' }), 'ERR_INVALID_PARAMETER');
  });

  it('connects the members of one lobby spread over two nodes', async (context) => {
    const track = closeWithTest(context);
    const { a, b, host, lobby } = await lobbyOnTwoNodes(track);
    const members = [host, member(track, b.url, lobby, true), member(track, a.url, lobby, true), member(track, b.url, lobby, true)];
    await meshFormed(members);
    await exchange(members);
    expect(new Set(members.map((m) => m.client.getUniqueId())).size).toBe(4);
  });

  it('connects a lobby spread over three nodes, in server mode too', async (context) => {
    const track = closeWithTest(context);
    const store = await redis(track);
    const nodes = [await node(track, store.url), await node(track, store.url), await node(track, store.url)];
    const host = member(track, nodes[0]!.url, '', true);
    const lobby = await lobbyOf(host);
    const mesh = [host, member(track, nodes[1]!.url, lobby, true), member(track, nodes[2]!.url, lobby, true)];
    await meshFormed(mesh);
    await exchange(mesh);

    const server = member(track, nodes[2]!.url, '', false);
    const serverLobby = await lobbyOf(server);
    const clients = [member(track, nodes[0]!.url, serverLobby, false), member(track, nodes[1]!.url, serverLobby, false)];
    await pollUntil(
      [server, ...clients].map((m) => m.peer),
      () => connectedPeers(server).length === 2 && clients.every((c) => connectedPeers(c).length === 1),
      'the server and its clients',
      MESH_TIMEOUT_MS,
    );
  });

  it('keeps lobby names unique and their count bounded across the cluster', async (context) => {
    const track = closeWithTest(context);
    const store = await redis(track);
    const a = await node(track, store.url, { maxLobbies: 2 });
    const b = await node(track, store.url, { maxLobbies: 2 });
    const first = await RawClient.connect(a.url);
    first.send({ type: 0, id: 0, data: '' });
    const second = await RawClient.connect(b.url);
    second.send({ type: 0, id: 0, data: '' });
    const names = [(await messageOfType(first, 0)).data, (await messageOfType(second, 0)).data];
    expect(names[0]).not.toBe(names[1]);
    const third = await RawClient.connect(a.url);
    third.send({ type: 0, id: 0, data: '' });
    expect(await third.closed).toEqual({ code: 4000, reason: 'too many lobbies (limit 2 across the cluster)' });
    // A lobby of one node is found from the other, and a name nobody holds is refused.
    const joiner = await RawClient.connect(a.url);
    joiner.send({ type: 0, id: 0, data: names[1] });
    expect((await messageOfType(joiner, 1)).id).toBeGreaterThan(1);
    const lost = await RawClient.connect(b.url);
    lost.send({ type: 0, id: 0, data: 'nobody-here' });
    expect(await lost.closed).toEqual({ code: 4000, reason: 'no lobby named nobody-here' });
  });

  it('tells the others when a node holding a member is killed, and ends the lobbies of a killed host node', async (context) => {
    const track = closeWithTest(context);
    const store = await redis(track);
    const a = await node(track, store.url);
    const b = await node(track, store.url);
    const doomed = await childNode(track, store.url);
    const host = member(track, a.url, '', true);
    const lobby = await lobbyOf(host);
    const onDoomed = member(track, doomed.url, lobby, true);
    const onB = member(track, b.url, lobby, true);
    await meshFormed([host, onDoomed, onB]);
    const lostId = onDoomed.client.getUniqueId();

    // A second lobby whose host is on the doomed node.
    const doomedHost = member(track, doomed.url, '', true);
    const doomedLobby = await lobbyOf(doomedHost);
    const stranded = member(track, a.url, doomedLobby, true);
    await meshFormed([doomedHost, stranded]);

    await doomed.daemon.kill();
    await pollUntil(
      [host, onB, stranded].map((m) => m.peer),
      () => host.disconnected.includes(lostId) && onB.disconnected.includes(lostId) && stranded.ended.length > 0,
      'the dead node to be noticed',
      NODE_LOSS_WAIT_MS,
    );
    expect(stranded.ended[0]).toEqual([4000, 'lobby host has left: its signaling node stopped']);
    expect(host.ended).toEqual([]);
    expect(connectedPeers(host)).toEqual([onB.client.getUniqueId()]);

    // A node started in its place comes back clean; the dead node's lobby names are free again.
    const restarted = await childNode(track, store.url);
    const late = await RawClient.connect(restarted.url);
    late.send({ type: 0, id: 0, data: doomedLobby });
    expect(await late.closed).toEqual({ code: 4000, reason: `no lobby named ${doomedLobby}` });
    expect(await (await fetch(`${restarted.url.replace('ws:', 'http:')}/health`)).json()).toMatchObject({ lobbies: 0 });
  }, 60_000);

  it('lets a member of a killed node take its seat back through another node, its links kept', async (context) => {
    const track = closeWithTest(context);
    const store = await redis(track);
    const resumable = { reconnectGraceMs: GRACE_MS, tokenSecret: TOKEN_SECRET };
    const a = await node(track, store.url, resumable);
    const b = await node(track, store.url, resumable);
    const doomed = await childNode(track, store.url, ['--reconnect-grace-ms', String(GRACE_MS)]);
    // A load balancer in front of the doomed node, which takes it out once it is dead.
    const balancer = track(await startTcpProxy(Number(new URL(doomed.url).port)));
    const host = member(track, a.url, '', true, { grace: GRACE_MS });
    const lobby = await lobbyOf(host);
    const moving = member(track, `ws://127.0.0.1:${balancer.port}`, lobby, true, { grace: GRACE_MS });
    const other = member(track, b.url, lobby, true, { grace: GRACE_MS });
    const members = [host, moving, other];
    await meshFormed(members);

    let rejoined = 0;
    moving.client.on('rejoined', () => rejoined++);
    balancer.retarget(Number(new URL(b.url).port));
    await doomed.daemon.kill();
    await pollUntil(members.map((m) => m.peer), () => rejoined === 1, 'the rejoin', NODE_LOSS_WAIT_MS);
    // The node's death, noticed within 5 s, must not undo the seat taken back.
    await pollFor(members.map((m) => m.peer), NODE_LOSS_WAIT_MS / 2);
    await exchange(members);
    expect(moving.client.getLobby()).toBe(lobby);
    expect(members.flatMap((m) => m.disconnected)).toEqual([]);
    expect(members.flatMap((m) => m.ended)).toEqual([]);
  }, 60_000);

  it('drops and counts whatever else is published on a node\'s channel, and goes on relaying', async (context) => {
    const track = closeWithTest(context);
    const { store, a, b, host, lobby } = await lobbyOnTwoNodes(track);
    const intruder = new Redis(store.url);
    track({ close: () => intruder.quit() });
    const nodes = await intruder.smembers('rtcmesh:nodes');
    expect(nodes).toHaveLength(2);
    const junk = [
      'not json',
      '[]',
      JSON.stringify({ op: 'frame', from: nodes[1], serial: 1 }),
      JSON.stringify({ op: 'send', from: 'x'.repeat(36), serial: 1, text: '{}' }),
      JSON.stringify({ op: 'close', from: nodes[1], serial: 1, code: 4000, reason: 'x', cause: 'no such cause' }),
      JSON.stringify({ op: 'frame', from: nodes[1], serial: 424242, text: '{"type":4,"id":1,"data":"x"}' }),
      JSON.stringify({ op: 'join', from: nodes[1], serial: 1.5, text: '{}' }),
      'x'.repeat(300_000),
    ];
    for (const node of nodes) for (const text of junk) await intruder.publish(`rtcmesh:to:${node}`, text);
    const metrics = async (url: string): Promise<string> => (await fetch(url)).text();
    await expect
      .poll(async () => /^rtcmesh_signaling_cluster_dropped_total (\d+)$/m.exec(await metrics(a.server.metricsUrl!))?.[1], { timeout: 10_000 })
      .toBe(String(junk.length));
    expect(await metrics(a.server.metricsUrl!)).toMatch(/^rtcmesh_signaling_cluster_reachable 1$/m);
    const joiner = member(track, b.url, lobby, true);
    await meshFormed([host, joiner]);
  });

  it("relays to a lobby's node the data of an OFFER as its sender on another node wrote it, as within one node", async (context) => {
    const track = closeWithTest(context);
    const store = await redis(track);
    const a = await node(track, store.url);
    const b = await node(track, store.url);
    const host = await RawClient.connect(a.url);
    host.send({ type: MessageType.Join, id: 0, data: '' });
    const lobby = (await messageOfType(host, MessageType.Join)).data;
    const joiner = await RawClient.connect(b.url);
    joiner.send({ type: MessageType.Join, id: 0, data: lobby });
    const joinerId = (await messageOfType(joiner, MessageType.Id)).id;
    await messageOfType(joiner, MessageType.Join);
    await messageOfType(host, MessageType.PeerConnect);
    const atHost: string[] = [];
    host.socket.on('message', (data) => atHost.push(String(data)));
    // Escapes that a re-encoding would change: they pass as they came, and read back the same.
    const literal = String.raw`"\u0041\/ \ud83d\ude00"`;
    joiner.send(`{"type":${MessageType.Offer},"id":1,"data":${literal}}`);
    expect(await messageOfType(host, MessageType.Offer)).toEqual({ type: MessageType.Offer, id: joinerId, data: 'A/ \u{1F600}' });
    expect(atHost).toEqual([`{"type":${MessageType.Offer},"id":${joinerId},"data":${literal}}`]);
    host.send(`{"type":${MessageType.Candidate},"id":${joinerId},"data":${literal}}`);
    // The way back is read on the socket's node, which checks what another node sends it.
    expect(await messageOfType(joiner, MessageType.Candidate)).toEqual({ type: MessageType.Candidate, id: 1, data: 'A/ \u{1F600}' });
  });

  it('closes a socket whose JOIN came in time but that Redis did not place within joinTimeoutMs with 1013, not as a client that never joined', async (context) => {
    const track = closeWithTest(context);
    const store = await redis(track);
    const joinTimeoutMs = 300;
    const a = await node(track, store.url, { joinTimeoutMs });
    const b = await node(track, store.url);
    const causes: string[] = [];
    a.server.on('socketClosed', (info) => causes.push(info.cause));
    const errors: unknown[] = [];
    a.server.on('error', (error) => errors.push(error));
    // On the other node: only Redis can tell this one where the lobby is.
    const host = member(track, b.url, '', true);
    const lobby = await lobbyOf(host);
    const admin = new Redis(store.port, '127.0.0.1', { lazyConnect: true });
    await admin.connect();
    try {
      // Every client of Redis waits: the node's placement of the JOIN with them.
      await admin.call('CLIENT', 'PAUSE', String(6 * joinTimeoutMs), 'ALL');
      const slow = await RawClient.connect(a.url);
      slow.send({ type: 0, id: 0, data: lobby });
      expect(await slow.closed).toEqual({ code: 1013, reason: CLUSTER_SLOW_REASON });
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
      admin.disconnect();
    }
    // The placement that Redis answered late finds its socket gone; the node goes on admitting.
    const joiner = member(track, a.url, lobby, true);
    await meshFormed([host, joiner]);
    expect(causes).toEqual(['cluster_unavailable']);
    expect(errors).toEqual([]);
  });

  it('refuses joins while Redis is down, without crashing, and recovers when it returns', async (context) => {
    const track = closeWithTest(context);
    const store = await redis(track);
    const a = await node(track, store.url);
    const b = await node(track, store.url);
    const errors: unknown[] = [];
    for (const { server } of [a, b]) server.on('error', (error) => errors.push(error));
    const host = member(track, a.url, '', true);
    const lobby = await lobbyOf(host);
    const early = member(track, b.url, lobby, true);
    await meshFormed([host, early]);

    await store.stop();
    await waitFor(() => !a.server.clusterAvailable, 'the node to notice Redis is gone');
    const refused = await RawClient.connect(b.url);
    refused.send({ type: 0, id: 0, data: lobby });
    expect(await refused.closed).toEqual({ code: 1013, reason: 'signaling cluster unavailable (Redis unreachable): try again later' });

    await store.restart();
    await waitFor(() => a.server.clusterAvailable && b.server.clusterAvailable, 'both nodes to reach Redis again', 15_000);
    // The lobby of a node outlives Redis's restart, with its members on other nodes: the node
    // registers its lobbies again, and a Redis that lost everything declared no node dead.
    const joiner = member(track, b.url, lobby, true);
    await meshFormed([host, early, joiner]);
    await exchange([host, early, joiner]);
    expect([host, early, joiner].flatMap((m) => [...m.disconnected, ...m.ended])).toEqual([]);
    expect(errors).toEqual([]);
  }, 60_000);

  it('ends the cross-node memberships of a node cut off from Redis long enough to be taken for dead', async (context) => {
    const track = closeWithTest(context);
    const store = await redis(track);
    const path = track(await startTcpProxy(store.port));
    const a = await node(track, `redis://127.0.0.1:${path.port}`);
    const b = await node(track, store.url);
    const host = member(track, a.url, '', true);
    const lobby = await lobbyOf(host);
    const away = member(track, b.url, lobby, true);
    await meshFormed([host, away]);
    const awayId = away.client.getUniqueId();

    path.cut();
    await waitFor(() => !a.server.clusterAvailable, 'the node to lose Redis');
    // B takes A for dead: the lobby that lived on A ends for B's member.
    await pollUntil([host.peer, away.peer], () => away.ended.length > 0, 'B to end the lobby of A', NODE_LOSS_WAIT_MS);
    expect(away.ended[0]).toEqual([4000, 'lobby host has left: its signaling node stopped']);
    path.restore();
    // A, back, drops B's member from its lobby too, and admits joins again.
    await pollUntil([host.peer], () => host.disconnected.includes(awayId), 'A to drop the member of B', NODE_LOSS_WAIT_MS);
    const joiner = member(track, b.url, lobby, true);
    await meshFormed([host, joiner]);
  }, 60_000);
});
