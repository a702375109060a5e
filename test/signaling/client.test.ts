import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { type WebSocket as RawSocket, WebSocketServer } from 'ws';
import {
  ConnectionStatus,
  MessageType,
  NODE_WEBSOCKET_MAX_PAYLOAD,
  SignalingClient,
  type SignalingClientOptions,
  SignalingServer,
  type SignalingServerOptions,
  TransferMode,
  WebRTCMultiplayerPeer,
  cleanup,
} from '../../src/index.js';
import { expectRtcError } from '../support/errors.js';
import { drain } from '../support/mesh.js';
import { pollFor, pollUntil } from '../support/poll.js';
import { LOOPBACK_CONFIG } from '../support/transport-pair.js';

// Generous: a mesh of four over loopback forms in well under a second, but one DTLS hello in
// four may wait for its 1 s retransmit (docs/design.md), and CI machines are slow.
const MESH_TIMEOUT_MS = 20_000;

interface Closable {
  close(): Promise<void>;
}
const servers: Closable[] = [];
const members: Member[] = [];

afterEach(async () => {
  for (const member of members.splice(0)) {
    member.client.close();
    member.peer.close();
  }
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(() => cleanup());

/** A signaling client and everything it and its multiplayer peer emitted. */
interface Member {
  client: SignalingClient;
  peer: WebRTCMultiplayerPeer;
  connected: Array<[id: number, mesh: boolean]>;
  lobby: string | null;
  sealed: number;
  disconnects: Array<[code: number, reason: string]>;
  peersConnected: number[];
}

async function startServer(options: SignalingServerOptions = {}): Promise<{ server: SignalingServer; url: string }> {
  const server = new SignalingServer({ host: '127.0.0.1', port: 0, ...options });
  servers.push(server);
  const { url } = await server.listen();
  return { server, url };
}

/** A client on loopback, connected, with its events recorded; closed after the test. */
function member(url: string, options: Partial<SignalingClientOptions> = {}): Member {
  const client = new SignalingClient({ url, peerConfig: LOOPBACK_CONFIG, ...options });
  const made: Member = {
    client,
    peer: client.multiplayerPeer,
    connected: [],
    lobby: null,
    sealed: 0,
    disconnects: [],
    peersConnected: [],
  };
  members.push(made);
  client.on('connected', (id, mesh) => made.connected.push([id, mesh]));
  client.on('lobbyJoined', (lobby) => (made.lobby = lobby));
  client.on('lobbySealed', () => made.sealed++);
  client.on('disconnected', (code, reason) => made.disconnects.push([code, reason]));
  made.peer.on('peerConnected', (id) => made.peersConnected.push(id));
  client.connect();
  return made;
}

/** Only the multiplayer peers are polled: they drive their signaling clients. */
function peersOf(group: readonly Member[]): WebRTCMultiplayerPeer[] {
  return group.map((one) => one.peer);
}

/** A host that creates a lobby, and `count - 1` members that join it. */
async function lobbyOf(url: string, count: number, options: Partial<SignalingClientOptions> = {}): Promise<Member[]> {
  const host = member(url, options);
  await pollUntil([host.peer], () => host.lobby !== null, 'the host to create a lobby');
  const group = [host];
  for (let i = 1; i < count; i++) group.push(member(url, { ...options, lobby: host.lobby! }));
  await pollUntil(peersOf(group), () => group.every((one) => one.lobby === host.lobby), 'every member to join');
  return group;
}

/** Each member sends its own id, once, to `target`. */
function sendIds(group: readonly Member[], target = 0): void {
  for (const one of group) {
    one.peer.setTargetPeer(target);
    one.peer.putPacket(idPacket(one.client.getUniqueId()));
  }
}

function idPacket(id: number): Uint8Array {
  const packet = new Uint8Array(4);
  new DataView(packet.buffer).setUint32(0, id);
  return packet;
}

/** A packet as read: who getPacketPeer() said sent it, the id it carries, its transfer channel. */
interface Received {
  from: number;
  id: number;
  channel: number;
}

/** Polls the group until each of `receivers` has read `count` packets, and returns what each read. */
async function receive(group: readonly Member[], receivers: readonly Member[], count: number, what: string): Promise<Map<Member, Received[]>> {
  const received = new Map(receivers.map((one) => [one, [] as Received[]]));
  const readAll = (): boolean =>
    receivers.every((one) => {
      const packets = received.get(one)!;
      for (const { from, channel, data } of drain(one.peer)) packets.push({ from, id: new DataView(data.buffer, data.byteOffset).getUint32(0), channel });
      return packets.length >= count;
    });
  await pollUntil(peersOf(group), readAll, what, MESH_TIMEOUT_MS);
  return received;
}

function otherIds(group: readonly Member[], self: Member): number[] {
  return sorted(group.filter((one) => one !== self).map((one) => one.client.getUniqueId()));
}

function sorted(ids: Iterable<number>): number[] {
  return [...ids].sort((a, b) => a - b);
}

describe('SignalingClient with a SignalingServer', () => {
  it('forms a full mesh of four that carries packets, driven by the multiplayer peers poll() alone', async () => {
    const { url } = await startServer();
    const group = await lobbyOf(url, 4, { channelsConfig: [{ mode: TransferMode.Reliable, priority: 5, weight: 2 }] });
    await pollUntil(peersOf(group), () => group.every((one) => one.peersConnected.length === 3), 'a full mesh', MESH_TIMEOUT_MS);

    const ids = group.map((one) => one.client.getUniqueId());
    expect(ids[0]).toBe(1);
    expect(new Set(ids).size).toBe(4);
    for (const one of group) {
      expect(one.connected).toEqual([[one.client.getUniqueId(), true]]);
      expect(one.peer.getUniqueId()).toBe(one.client.getUniqueId());
      expect(sorted(one.peersConnected)).toEqual(otherIds(group, one));
      one.peer.transferChannel = 1;
    }
    sendIds(group);
    const received = await receive(group, group, 3, 'every broadcast');
    for (const one of group) {
      const packets = received.get(one)!;
      expect(packets.every(({ from, id, channel }) => from === id && channel === 1)).toBe(true);
      expect(sorted(packets.map(({ from }) => from))).toEqual(otherIds(group, one));
      expect(one.client.getDroppedMessageCount()).toBe(0);
    }
  });

  it('in server mode connects each client to the host only', async () => {
    const { url } = await startServer();
    const group = await lobbyOf(url, 4, { mesh: false });
    const [host, ...clients] = group as [Member, ...Member[]];
    await pollUntil(
      peersOf(group),
      () => host.peersConnected.length === 3 && clients.every((one) => one.peersConnected.length === 1),
      'every client to reach the host',
      MESH_TIMEOUT_MS,
    );
    expect(host.connected).toEqual([[1, false]]);
    expect(host.peer.isServerRelaySupported()).toBe(true);
    expect(sorted(host.peer.getPeers().keys())).toEqual(otherIds(group, host));
    for (const client of clients) {
      expect(client.client.getUniqueId()).toBeGreaterThan(1);
      expect([...client.peer.getPeers().keys()]).toEqual([1]);
      expect(client.peersConnected).toEqual([1]);
      expect(client.peer.getConnectionStatus()).toBe(ConnectionStatus.Connected);
    }
    sendIds(clients, 1);
    const received = (await receive(group, [host], 3, 'a packet from every client')).get(host)!;
    expect(received.every(({ from, id }) => from === id)).toBe(true);
    expect(sorted(received.map(({ from }) => from))).toEqual(otherIds(group, host));
  });

  it("follows the lobby's mode when it asked for the other, and refuses it with requireMode", async () => {
    const { url } = await startServer();
    const [host, meshMember] = (await lobbyOf(url, 2)) as [Member, Member];
    const follower = member(url, { lobby: host.lobby!, mesh: false });
    const group = [host, meshMember, follower];
    await pollUntil(peersOf(group), () => group.every((one) => one.peersConnected.length === 2), 'a full mesh', MESH_TIMEOUT_MS);
    expect(follower.connected).toEqual([[follower.client.getUniqueId(), true]]);
    const strict = member(url, { lobby: host.lobby!, mesh: false, requireMode: true });
    await pollUntil(peersOf([...group, strict]), () => strict.disconnects.length > 0, 'the refusal');
    expect(strict.disconnects).toEqual([[4000, 'the lobby is in mesh mode, and requireMode asked for the other']]);
  });

  it('ends the lobby for every member, with the server reason, when the host leaves', async () => {
    const { url } = await startServer();
    const [host, ...others] = (await lobbyOf(url, 3)) as [Member, ...Member[]];
    host.client.close();
    await pollUntil(peersOf([host, ...others]), () => others.every((one) => one.disconnects.length > 0), 'the lobby to end');
    await pollFor(peersOf([host, ...others]), 100);
    for (const one of others) expect(one.disconnects).toEqual([[4000, 'lobby host has left']]);
    expect(host.disconnects).toEqual([]);
  });

  it('reports a join to an unknown lobby as disconnected with 4000 and the server reason', async () => {
    const { url } = await startServer();
    const lost = member(url, { lobby: 'NoSuchLobby' });
    await pollUntil([lost.peer], () => lost.disconnects.length > 0, 'the refusal');
    expect(lost.disconnects).toEqual([[4000, 'no lobby named NoSuchLobby']]);
    expect(lost.client.getUniqueId()).toBe(0);
    expect(lost.peer.getConnectionStatus()).toBe(ConnectionStatus.Disconnected);
  });

  it('seals: every member gets lobbySealed, only the host may seal, and a later join is refused', async () => {
    const { url } = await startServer();
    const group = await lobbyOf(url, 3);
    const [host, joiner] = group as [Member, Member];
    expectRtcError(() => joiner.client.seal(), 'ERR_UNAUTHORIZED');
    host.client.seal();
    await pollUntil(peersOf(group), () => group.every((one) => one.sealed === 1), 'every member to learn of the seal');
    expect(group.every((one) => one.client.isSealed())).toBe(true);
    const late = member(url, { lobby: host.lobby! });
    await pollUntil([late.peer], () => late.disconnects.length > 0, 'the late join to be refused');
    expect(late.disconnects).toEqual([[4000, `lobby ${host.lobby} is sealed`]]);
  });

  it('treats the close that ends a seal as a normal disconnected (1000), and the mesh lives on', async () => {
    const { url } = await startServer({ sealCloseMs: 200 });
    const group = await lobbyOf(url, 3);
    await pollUntil(peersOf(group), () => group.every((one) => one.peersConnected.length === 2), 'a full mesh', MESH_TIMEOUT_MS);
    group[0]!.client.seal();
    await pollUntil(peersOf(group), () => group.every((one) => one.disconnects.length > 0), 'the seal to complete');
    for (const one of group) expect(one.disconnects).toEqual([[1000, 'Seal complete']]);
    sendIds(group);
    await receive(group, group, 2, 'packets after signaling closed');
  });

  it('keeps the link to a member that leaves signaling after the seal', async () => {
    const { server, url } = await startServer();
    const group = await lobbyOf(url, 3);
    await pollUntil(peersOf(group), () => group.every((one) => one.peersConnected.length === 2), 'a full mesh', MESH_TIMEOUT_MS);
    group[0]!.client.seal();
    await pollUntil(peersOf(group), () => group.every((one) => one.sealed === 1), 'the seal');
    const leaver = group[2]!;
    const left = new Promise<void>((resolve) => server.once('peerLeft', () => resolve()));
    leaver.client.close();
    await left;
    // The others now receive PEER_DISCONNECT for the leaver, which must not cut the link.
    await pollFor(peersOf(group), 200);
    for (const one of group.slice(0, 2)) expect(one.peer.hasPeer(leaver.client.getUniqueId())).toBe(true);
    sendIds([leaver]);
    await receive(group, group.slice(0, 2), 1, 'a packet from the leaver');
  });

  it('reports a server that cannot be reached as one disconnected, with the error', async () => {
    const { server, url } = await startServer();
    await server.close();
    const lost = member(url);
    await pollUntil([lost.peer], () => lost.disconnects.length > 0, 'the failure');
    await pollFor([lost.peer], 100);
    expect(lost.disconnects).toHaveLength(1);
    expect(lost.disconnects[0]![0]).toBe(1006);
    expect(lost.disconnects[0]![1]).toMatch(/ECONNREFUSED/);
  });

  it('emits nothing after close(), whether connecting or joined', async () => {
    const { url } = await startServer();
    const connecting = member(url);
    connecting.client.close();
    const [host] = (await lobbyOf(url, 1)) as [Member];
    host.client.close();
    await pollFor(peersOf([connecting, host]), 200);
    expect(connecting.connected).toEqual([]);
    expect(connecting.disconnects).toEqual([]);
    expect(host.disconnects).toEqual([]);
  });
});

interface Wire {
  type: number;
  id: number;
  data?: string;
}

interface HostileServer {
  url: string;
  /** How the client's sockets closed, as the server saw it. */
  closes: Array<{ code: number; reason: string }>;
}

/** A raw WebSocket server on loopback that answers a JOIN with `script`. */
async function hostileServer(script: (socket: RawSocket) => void): Promise<HostileServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const closes: HostileServer['closes'] = [];
  wss.on('connection', (socket) => {
    socket.on('error', () => undefined);
    socket.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
    socket.once('message', () => script(socket));
  });
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of wss.clients) socket.terminate();
        wss.close(() => resolve());
      }),
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, closes };
}

function sendAll(socket: RawSocket, frames: readonly Wire[]): void {
  for (const frame of frames) socket.send(JSON.stringify({ data: '', ...frame }));
}

const MESH_ID_2: Wire = { type: MessageType.Id, id: 2, data: 'true' };
const JOINED: Wire = { type: MessageType.Join, id: 0, data: 'Hostile' };

describe('SignalingClient facing a hostile server', () => {
  it.each([
    ['JSON that does not parse', (socket: RawSocket) => socket.send('{"type": 1,'), /not valid JSON/],
    ['a binary frame', (socket: RawSocket) => socket.send(Uint8Array.of(1, 2, 3)), /binary frame/],
    ['a frame over maxFrameBytes', (socket: RawSocket) => sendAll(socket, [{ ...MESH_ID_2, data: 'x'.repeat(2000) }]), /over 1024 bytes/],
    ['an unknown message type', (socket: RawSocket) => sendAll(socket, [{ type: 99, id: 0 }]), /unknown message type 99/],
    ['an ID of 0', (socket: RawSocket) => sendAll(socket, [{ ...MESH_ID_2, id: 0 }]), /invalid peer id 0/],
    ['an ID in the other mode', (socket: RawSocket) => sendAll(socket, [{ ...MESH_ID_2, data: '' }]), /server mode/],
  ])('ends the session on %s, closing with 4000 and a reason', async (_what, script, reason) => {
    const hostile = await hostileServer(script);
    const victim = member(hostile.url, { maxFrameBytes: 1024, requireMode: true });
    await pollUntil([victim.peer], () => victim.disconnects.length > 0, 'the fault');
    expect(victim.disconnects).toHaveLength(1);
    expect(victim.disconnects[0]![0]).toBe(4000);
    expect(victim.disconnects[0]![1]).toMatch(reason);
    await pollUntil([], () => hostile.closes.length > 0, 'the server to see the close');
    expect(hostile.closes[0]!.code).toBe(4000);
    expect(hostile.closes[0]!.reason).toMatch(reason);
  });

  it('refuses, in Node, a frame too large to buffer before the client checks it', async () => {
    const hostile = await hostileServer((socket) => socket.send('x'.repeat(NODE_WEBSOCKET_MAX_PAYLOAD + 1)));
    const victim = member(hostile.url, { maxFrameBytes: 4 * NODE_WEBSOCKET_MAX_PAYLOAD, maxQueuedBytes: 4 * NODE_WEBSOCKET_MAX_PAYLOAD });
    await pollUntil([victim.peer], () => victim.disconnects.length > 0, 'the refusal');
    expect(victim.disconnects).toHaveLength(1);
    expect(victim.disconnects[0]![1]).toMatch(/Max payload size exceeded/);
  });

  it('drops and counts garbage descriptions, candidates and unknown peers, and stays joined', async () => {
    const hostile = await hostileServer((socket) =>
      sendAll(socket, [
        { type: MessageType.Offer, id: 3, data: 'v=0 before any ID' },
        MESH_ID_2,
        JOINED,
        { type: MessageType.PeerConnect, id: 3 },
        { type: MessageType.Offer, id: 3, data: 'garbage' },
        { type: MessageType.Answer, id: 3, data: '\u0000\u0001' },
        { type: MessageType.Candidate, id: 3, data: 'garbage' },
        { type: MessageType.Candidate, id: 3, data: '\n0\n0\ncandidate:not one at all' },
        { type: MessageType.Offer, id: 99, data: 'v=0' },
        { type: MessageType.Candidate, id: 99, data: '\n0\n0\ncandidate:1 1 udp 1 127.0.0.1 1 typ host' },
        { type: MessageType.PeerDisconnect, id: 98 },
        { ...MESH_ID_2, id: 5 },
        JOINED,
      ]),
    );
    const victim = member(hostile.url);
    await pollUntil([victim.peer], () => victim.client.getDroppedMessageCount() === 10, 'every message to be dropped');
    await pollFor([victim.peer], 100);
    expect(victim.client.getDroppedMessageCounts()).toEqual({
      unexpected: 2,
      peerNotAllowed: 0,
      tooManyPeers: 0,
      refused: 0,
      unknownPeer: 4,
      badDescription: 2,
      badCandidate: 2,
    });
    expect(victim.disconnects).toEqual([]);
    expect(victim.lobby).toBe('Hostile');
    expect(victim.client.getUniqueId()).toBe(2);
    expect(victim.peer.hasPeer(3)).toBe(true);
  });

  it('bounds a flood of introductions by maxPeers, and drops the ones the mesh forbids', async () => {
    const flood: Wire[] = [];
    for (let id = 3; id < 203; id++) flood.push({ type: MessageType.PeerConnect, id });
    const forbidden = [3, 2, 0, 2 ** 31].map((id) => ({ type: MessageType.PeerConnect, id }));
    const hostile = await hostileServer((socket) => sendAll(socket, [MESH_ID_2, JOINED, ...flood, ...forbidden]));
    const victim = member(hostile.url, { maxPeers: 8 });
    await pollUntil([victim.peer], () => victim.client.getDroppedMessageCount() === 196, 'the flood to be handled');
    expect(victim.client.getDroppedMessageCounts()).toMatchObject({ tooManyPeers: 192, peerNotAllowed: 4 });
    expect(sorted(victim.peer.getPeers().keys())).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(victim.disconnects).toEqual([]);
  });

  it('as a client in server mode, ignores and counts introductions to anyone but the host', async () => {
    const hostile = await hostileServer((socket) =>
      sendAll(socket, [
        { type: MessageType.Id, id: 7, data: '' },
        JOINED,
        ...[3, 4, 5, 1].map((id) => ({ type: MessageType.PeerConnect, id })),
      ]),
    );
    const victim = member(hostile.url, { mesh: false });
    await pollUntil([victim.peer], () => victim.peer.hasPeer(1), 'the introduction to the host');
    expect(victim.client.getDroppedMessageCounts().peerNotAllowed).toBe(3);
    expect([...victim.peer.getPeers().keys()]).toEqual([1]);
  });

  it('drops and counts an introduction the multiplayer peer refuses', async () => {
    const hostile = await hostileServer((socket) => sendAll(socket, [MESH_ID_2, JOINED, { type: MessageType.PeerConnect, id: 3 }]));
    const peer = new WebRTCMultiplayerPeer();
    peer.refuseNewConnections = true;
    const victim = member(hostile.url, { multiplayerPeer: peer });
    await pollUntil([peer], () => victim.client.getDroppedMessageCount() === 1, 'the refusal');
    expect(victim.client.getDroppedMessageCounts().refused).toBe(1);
    expect(peer.hasPeer(3)).toBe(false);
  });

  it.each([
    ['frames', { maxQueuedMessages: 50 }],
    ['characters', { maxQueuedBytes: 8192 }],
  ])('closes the socket when more %s than the limit arrive between two polls', async (_what, limit) => {
    const departures: Wire[] = [];
    for (let i = 0; i < 200; i++) departures.push({ type: MessageType.PeerDisconnect, id: 9, data: 'x'.repeat(100) });
    const hostile = await hostileServer((socket) => sendAll(socket, departures));
    const victim = member(hostile.url, limit);
    // No poll until the client has refused the flood from its socket callback.
    await pollUntil([], () => hostile.closes.length > 0, 'the client to close the socket');
    expect(hostile.closes[0]).toMatchObject({ code: 4000, reason: expect.stringMatching(/queued between two polls/) });
    victim.peer.poll();
    expect(victim.disconnects).toHaveLength(1);
    expect(victim.disconnects[0]![1]).toMatch(/queued between two polls/);
    expect(victim.client.getDroppedMessageCounts().unknownPeer).toBeGreaterThan(0);
  });
});

describe('SignalingClient misuse', () => {
  it('attaches itself to the multiplayer peer it drives', () => {
    const peer = new WebRTCMultiplayerPeer();
    const client = new SignalingClient({ url: 'ws://127.0.0.1:1', multiplayerPeer: peer });
    expect(peer.signaling).toBe(client);
    expect(client.multiplayerPeer).toBe(peer);
  });

  it('throws ERR_UNCONFIGURED without a WebSocket, and ERR_INVALID_PARAMETER for bad options', () => {
    const saved = SignalingClient.getDefaultWebSocket();
    vi.stubGlobal('WebSocket', undefined);
    try {
      SignalingClient.setDefaultWebSocket(null);
      expectRtcError(() => new SignalingClient({ url: 'ws://127.0.0.1:1' }), 'ERR_UNCONFIGURED');
    } finally {
      SignalingClient.setDefaultWebSocket(saved ?? null);
      vi.unstubAllGlobals();
    }
    const url = 'ws://127.0.0.1:1';
    const bad: unknown[] = [
      { url: '' },
      { url, mesh: 'yes' },
      { url, peerConfig: { bindAddress: '' } },
      { url, channelsConfig: [7] },
      { url, channelsConfig: [{ mode: TransferMode.Reliable, weight: 0 }] },
      { url, maxPeers: 0 },
      { url, unreliableLifetime: -1 },
      { url, multiplayerPeer: {} },
    ];
    for (const options of bad) expectRtcError(() => new SignalingClient(options as SignalingClientOptions), 'ERR_INVALID_PARAMETER');
  });

  it('refuses a second connect(), an active multiplayer peer, and a seal before joining', async () => {
    const { url } = await startServer();
    const first = member(url);
    expectRtcError(() => first.client.connect(), 'ERR_ALREADY_IN_USE');
    expectRtcError(() => first.client.seal(), 'ERR_UNCONFIGURED');
    const active = new WebRTCMultiplayerPeer();
    active.createMesh(5);
    try {
      expectRtcError(() => new SignalingClient({ url, multiplayerPeer: active }).connect(), 'ERR_ALREADY_IN_USE');
    } finally {
      active.close();
    }
  });
});
