import { afterEach, describe, expect, it } from 'vitest';
import { RtcError } from '../../src/transport/errors.js';
import { MAX_PEER_ID, MessageType } from '../../src/signaling/protocol.js';
import {
  SignalingServer,
  type SignalingServerOptions,
  type SocketClosedInfo,
} from '../../src/signaling/server.js';
import { RawClient, type CloseEvent } from '../support/ws-client.js';

interface Wire {
  type: number;
  id: number;
  data: string;
}

const MESH = 0;
const SERVER_MODE = 1;
const servers: SignalingServer[] = [];

afterEach(async () => {
  await RawClient.closeAll();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

interface Started {
  server: SignalingServer;
  url: string;
}

async function startServer(options: SignalingServerOptions = {}): Promise<Started> {
  const server = new SignalingServer({ host: '127.0.0.1', port: 0, ...options });
  servers.push(server);
  const { url } = await server.listen();
  return { server, url };
}

function wire(type: number, id: number, data = ''): Wire {
  return { type, id, data };
}

/** Sends a JOIN and reads every reply up to the JOIN confirmation. */
async function join(client: RawClient, lobby: string, mode = MESH): Promise<Wire[]> {
  client.send(wire(MessageType.Join, mode, lobby));
  const replies: Wire[] = [];
  for (;;) {
    const message = (await client.next()) as Wire;
    replies.push(message);
    if (message.type === MessageType.Join) return replies;
  }
}

async function createLobby(url: string, mode = MESH): Promise<{ host: RawClient; lobby: string }> {
  const host = await RawClient.connect(url);
  const replies = await join(host, '', mode);
  return { host, lobby: replies.at(-1)?.data ?? '' };
}

interface Member {
  client: RawClient;
  id: number;
  replies: Wire[];
}

async function joinLobby(url: string, lobby: string, mode = MESH): Promise<Member> {
  const client = await RawClient.connect(url);
  const replies = await join(client, lobby, mode);
  return { client, id: replies[0]?.id ?? 0, replies };
}

async function expectProtocolClose(client: RawClient, reason: RegExp | string): Promise<void> {
  const close = await client.closeEventWithin();
  expect(close.code).toBe(4000);
  if (typeof reason === 'string') expect(close.reason).toBe(reason);
  else expect(close.reason).toMatch(reason);
}

/** A refused socket never affects anyone else: a new client can still create a lobby. */
async function expectStillServes(url: string): Promise<void> {
  const { host, lobby } = await createLobby(url);
  expect(lobby).toMatch(/^[A-Za-z0-9]{16}$/);
  await host.close();
}

async function health(url: string, path = '/health'): Promise<Response> {
  return fetch(url.replace(/^ws:/, 'http:') + path);
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('SignalingServer: serving', () => {
  it('listens on 127.0.0.1, reads back the port it was given and reports a ws:// url', async () => {
    const { server, url } = await startServer();
    const address = server.address;
    expect(address?.host).toBe('127.0.0.1');
    expect(address?.port).toBeGreaterThan(0);
    expect(url).toBe(`ws://127.0.0.1:${address?.port}`);
  });

  it('refuses a second listen() with ERR_ALREADY_IN_USE', async () => {
    const { server } = await startServer();
    await expect(server.listen()).rejects.toMatchObject({ name: 'RtcError', code: 'ERR_ALREADY_IN_USE' });
  });

  it('refuses options out of range with ERR_INVALID_PARAMETER', () => {
    const bad: SignalingServerOptions[] = [
      { host: '' },
      { port: -1 },
      { port: 65_536 },
      { maxSockets: 0 },
      { maxLobbySize: 1.5 },
      { maxFrameBytes: 0 },
      { joinTimeoutMs: 2 ** 31 },
      { messagesPerSecond: Number.NaN },
      { messageBurst: 0 },
    ];
    for (const options of bad) {
      const error = thrownBy(() => new SignalingServer(options));
      expect(error, JSON.stringify(options)).toBeInstanceOf(RtcError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_PARAMETER' });
    }
  });

  it('answers GET /health with the number of sockets and lobbies', async () => {
    const { url } = await startServer();
    expect(await (await health(url)).json()).toEqual({ sockets: 0, lobbies: 0 });
    await createLobby(url);
    await RawClient.connect(url);
    const response = await health(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ sockets: 2, lobbies: 1 });
  });

  it('answers 404 on any other HTTP path', async () => {
    const { url } = await startServer();
    for (const path of ['/', '/healthz', '/health/x']) {
      const response = await health(url, path);
      expect(response.status).toBe(404);
      await response.body?.cancel();
    }
  });

  it('closes every socket with 1001 on close(), reports no address, and resolves', async () => {
    const { server, url } = await startServer();
    const { host } = await createLobby(url);
    const idle = await RawClient.connect(url);
    await server.close();
    expect(await host.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect((await idle.closed).code).toBe(1001);
    expect(server.address).toBeNull();
  });

  it('emits what a command line logs: sockets, lobbies, members', async () => {
    const { server, url } = await startServer();
    const log: string[] = [];
    server.on('socketOpened', (socket) => log.push(`open ${socket}`));
    server.on('lobbyCreated', (_, mesh) => log.push(`created mesh=${mesh}`));
    const role = (peerId: number): string => (peerId === 1 ? 'host' : 'member');
    server.on('peerJoined', (_, peerId, socket) => log.push(`joined ${role(peerId)} ${socket}`));
    server.on('peerLeft', (_, peerId) => log.push(`left ${role(peerId)}`));
    server.on('lobbyClosed', (_, reason) => log.push(`lobby closed: ${reason}`));
    const closes: SocketClosedInfo[] = [];
    const allClosed = new Promise<void>((resolve) =>
      server.on('socketClosed', (info) => closes.push(info) === 2 && resolve()),
    );
    const { host, lobby } = await createLobby(url);
    await joinLobby(url, lobby);
    await host.close();
    await allClosed;
    expect(log).toEqual([
      'open 1',
      'created mesh=true',
      'joined host 1',
      'open 2',
      'joined member 2',
      'left host',
      'lobby closed: lobby host has left',
    ]);
    expect(closes).toContainEqual(expect.objectContaining({ socket: 1, code: 1005, byServer: false }));
    expect(closes).toContainEqual(
      expect.objectContaining({ socket: 2, code: 4000, reason: 'lobby host has left', byServer: true }),
    );
  });
});

describe('SignalingServer: joining', () => {
  it('creates a lobby named with 16 random letters and digits and makes its creator host 1', async () => {
    const { url } = await startServer();
    const host = await RawClient.connect(url);
    const replies = await join(host, '');
    expect(replies).toEqual([wire(MessageType.Id, 1, 'true'), wire(MessageType.Join, 0, replies[1]?.data)]);
    expect(replies[1]?.data).toMatch(/^[A-Za-z0-9]{16}$/);
    const other = await createLobby(url);
    expect(other.lobby).not.toBe(replies[1]?.data);
  });

  it('introduces a joiner to every member in mesh mode: ID, then PEER_CONNECT pairs, then JOIN', async () => {
    const { url } = await startServer();
    const { host, lobby } = await createLobby(url);
    const first = await joinLobby(url, lobby);
    expect(await host.next()).toEqual(wire(MessageType.PeerConnect, first.id));
    const second = await RawClient.connect(url);
    const replies = await join(second, lobby);
    const secondId = replies[0]?.id ?? 0;
    expect(replies).toEqual([
      wire(MessageType.Id, secondId, 'true'),
      wire(MessageType.PeerConnect, 1),
      wire(MessageType.PeerConnect, first.id),
      wire(MessageType.Join, 0, lobby),
    ]);
    expect(await host.next()).toEqual(wire(MessageType.PeerConnect, secondId));
    expect(await first.client.next()).toEqual(wire(MessageType.PeerConnect, secondId));
  });

  it('gives every member an id of its own in 2 … 2^31−1', async () => {
    const { url } = await startServer();
    const { lobby } = await createLobby(url);
    const ids = new Set<number>();
    for (let i = 0; i < 12; i++) ids.add((await joinLobby(url, lobby)).id);
    expect(ids.size).toBe(12);
    for (const id of ids) {
      expect(Number.isInteger(id)).toBe(true);
      expect(id).toBeGreaterThanOrEqual(2);
      expect(id).toBeLessThanOrEqual(MAX_PEER_ID);
    }
  });

  it('introduces clients only to the host in server mode', async () => {
    const { url } = await startServer();
    const { host, lobby } = await createLobby(url, SERVER_MODE);
    const first = await joinLobby(url, lobby, SERVER_MODE);
    expect(await host.next()).toEqual(wire(MessageType.PeerConnect, first.id));
    const second = await RawClient.connect(url);
    const replies = await join(second, lobby, SERVER_MODE);
    const secondId = replies[0]?.id ?? 0;
    expect(replies).toEqual([
      wire(MessageType.Id, secondId, ''),
      wire(MessageType.PeerConnect, 1),
      wire(MessageType.Join, 0, lobby),
    ]);
    expect(await host.next()).toEqual(wire(MessageType.PeerConnect, secondId));
    // The first client hears neither the second's arrival nor its departure: its next message
    // is the host's offer.
    await second.close();
    expect(await host.next()).toEqual(wire(MessageType.PeerDisconnect, secondId));
    host.send(wire(MessageType.Offer, first.id, 'sdp'));
    expect(await first.client.next()).toEqual(wire(MessageType.Offer, 1, 'sdp'));
  });

  it("admits a joiner that asked for the other mode into the lobby's, and says so in its ID", async () => {
    const { url } = await startServer();
    const mesh = await createLobby(url, MESH);
    const serverModeJoiner = await joinLobby(url, mesh.lobby, SERVER_MODE);
    expect(serverModeJoiner.replies[0]).toEqual(wire(MessageType.Id, serverModeJoiner.id, 'true'));
    const serverMode = await createLobby(url, SERVER_MODE);
    const meshJoiner = await joinLobby(url, serverMode.lobby, MESH);
    expect(meshJoiner.replies[0]).toEqual(wire(MessageType.Id, meshJoiner.id, ''));
    const second = await joinLobby(url, serverMode.lobby, MESH);
    // Server mode: the second client is introduced to the host only.
    expect(second.replies.map((reply) => reply.type)).toEqual([MessageType.Id, MessageType.PeerConnect, MessageType.Join]);
  });

  it('refuses an unknown lobby with 4000, "__proto__" and "constructor" included', async () => {
    const { url } = await startServer();
    for (const name of ['NoSuchLobby', '__proto__', 'constructor', 'hasOwnProperty']) {
      const client = await RawClient.connect(url);
      client.send(wire(MessageType.Join, MESH, name));
      await expectProtocolClose(client, `no lobby named ${name}`);
    }
    await expectStillServes(url);
  });

  it('refuses a lobby name that is too long or holds other characters with 4000', async () => {
    const { url } = await startServer();
    for (const name of ['x'.repeat(65), 'a b', 'a/b', 'lobby\n', 'ü']) {
      const client = await RawClient.connect(url);
      client.send(wire(MessageType.Join, MESH, name));
      await expectProtocolClose(client, /lobby name must be 1 to 64 letters/);
    }
    await expectStillServes(url);
  });

  it('closes a member that sends a second JOIN with 4000', async () => {
    const { url } = await startServer();
    const { host, lobby } = await createLobby(url);
    host.send(wire(MessageType.Join, MESH, ''));
    await expectProtocolClose(host, `already in lobby ${lobby}`);
    await expectStillServes(url);
  });

  it('closes a socket that has not joined within joinTimeoutMs with 4000', async () => {
    const { url } = await startServer({ joinTimeoutMs: 100 });
    const idle = await RawClient.connect(url);
    await expectProtocolClose(idle, 'no JOIN within 100 ms');
    await expectStillServes(url);
  });

  it('refuses a joiner beyond maxLobbySize with 4000', async () => {
    const { url } = await startServer({ maxLobbySize: 2 });
    const { lobby } = await createLobby(url);
    await joinLobby(url, lobby);
    const third = await RawClient.connect(url);
    third.send(wire(MessageType.Join, MESH, lobby));
    await expectProtocolClose(third, `lobby ${lobby} is full (limit 2)`);
    await expectStillServes(url);
  });

  it('refuses a lobby beyond maxLobbies with 4000', async () => {
    const { url } = await startServer({ maxLobbies: 1 });
    const { host } = await createLobby(url);
    const creator = await RawClient.connect(url);
    creator.send(wire(MessageType.Join, MESH, ''));
    await expectProtocolClose(creator, 'too many lobbies (limit 1)');
    await host.close();
    await expectStillServes(url);
  });

  it('refuses a socket beyond maxSockets with 4000', async () => {
    const { url } = await startServer({ maxSockets: 1 });
    const first = await RawClient.connect(url);
    const second = await RawClient.connect(url);
    await expectProtocolClose(second, 'too many sockets (limit 1)');
    await first.close();
    // The client may see its close before the server has let go of the socket, the only one allowed.
    await expect.poll(async () => ((await (await health(url)).json()) as { sockets: number }).sockets).toBe(0);
    await expectStillServes(url);
  });
});

describe('SignalingServer: relaying', () => {
  it('relays OFFER, ANSWER and CANDIDATE to the destination with id rewritten to the sender', async () => {
    const { url } = await startServer();
    const { host, lobby } = await createLobby(url);
    const first = await joinLobby(url, lobby);
    const second = await joinLobby(url, lobby);
    await host.nextMessages(2);
    await first.client.next();
    second.client.send(wire(MessageType.Offer, first.id, 'offer sdp'));
    expect(await first.client.next()).toEqual(wire(MessageType.Offer, second.id, 'offer sdp'));
    first.client.send(wire(MessageType.Answer, second.id, 'answer sdp'));
    expect(await second.client.next()).toEqual(wire(MessageType.Answer, first.id, 'answer sdp'));
    const candidate = '\n0\n0\ncandidate:1 1 UDP 1 127.0.0.1 5000 typ host';
    first.client.send(wire(MessageType.Candidate, 1, candidate));
    expect(await host.next()).toEqual(wire(MessageType.Candidate, first.id, candidate));
    host.send(wire(MessageType.Candidate, second.id, candidate));
    expect(await second.client.next()).toEqual(wire(MessageType.Candidate, 1, candidate));
  });

  it("relays Godot's sorted keys, escapes, non-ASCII text, spaces and extra fields, as JSON that reads back the same", async () => {
    const { url } = await startServer();
    const { host, lobby } = await createLobby(url);
    const member = await joinLobby(url, lobby);
    await host.next();
    const payloads = ['0\n0\ncandidate:1 1 UDP 1 127.0.0.1 5000 typ host', 'quote " backslash \\ tab \t \u2603 \ud83d\ude00', 'é', ''];
    for (const data of payloads) {
      member.client.send(`{"data":${JSON.stringify(data)},"id":1,"type":6}`);
      expect(await host.next()).toEqual(wire(MessageType.Candidate, member.id, data));
    }
    member.client.send('{"data":"\u0041\/","id":1,"type":4}');
    expect(await host.next()).toEqual(wire(MessageType.Offer, member.id, 'A/'));
    member.client.send('{ "type": 5, "id": 1.7, "data": "spaced", "extra": [1] }');
    expect(await host.next()).toEqual(wire(MessageType.Answer, member.id, 'spaced'));
    member.client.send('{"type":6,"id":1,"data":42}');
    expect(await host.next()).toEqual(wire(MessageType.Candidate, member.id, ''));
    member.client.send('{"type":6,"id":1,"id":' + member.id + ',"data":"last id wins"}');
    await expectProtocolClose(member.client, 'destination is the sender itself');
  });

  it('closes a sender whose destination is in another lobby with 4000; that lobby hears nothing', async () => {
    const { url } = await startServer();
    const mine = await createLobby(url);
    const theirs = await createLobby(url);
    const stranger = await joinLobby(url, theirs.lobby);
    await theirs.host.next();
    mine.host.send(wire(MessageType.Offer, stranger.id, 'sdp'));
    await expectProtocolClose(mine.host, `destination ${stranger.id} is not in your lobby`);
    theirs.host.send(wire(MessageType.Offer, stranger.id, 'probe'));
    expect(await stranger.client.next()).toEqual(wire(MessageType.Offer, 1, 'probe'));
    await expectStillServes(url);
  });

  it('closes a sender that names itself as the destination with 4000', async () => {
    const { url } = await startServer();
    const { host } = await createLobby(url);
    host.send(wire(MessageType.Candidate, 1, ''));
    await expectProtocolClose(host, 'destination is the sender itself');
    await expectStillServes(url);
  });

  it('closes a client that relays to another client in server mode with 4000', async () => {
    const { url } = await startServer();
    const { lobby } = await createLobby(url, SERVER_MODE);
    const first = await joinLobby(url, lobby, SERVER_MODE);
    const second = await joinLobby(url, lobby, SERVER_MODE);
    second.client.send(wire(MessageType.Offer, first.id, 'sdp'));
    const fault = `destination ${first.id} was not introduced to you (server mode)`;
    await expectProtocolClose(second.client, fault);
    await expectStillServes(url);
  });

  it('closes a socket that relays before joining a lobby with 4000', async () => {
    const { url } = await startServer();
    const client = await RawClient.connect(url);
    client.send(wire(MessageType.Offer, 1, 'sdp'));
    await expectProtocolClose(client, 'message type 4 before joining a lobby');
    await expectStillServes(url);
  });
});

describe('SignalingServer: sealing and leaving', () => {
  it('seals: every member receives {7, 0, ""} and a later join is refused with 4000', async () => {
    const { server, url } = await startServer();
    const { host, lobby } = await createLobby(url);
    const member = await joinLobby(url, lobby);
    await host.next();
    const sealed = new Promise<string>((resolve) => server.once('lobbySealed', resolve));
    host.send(wire(MessageType.Seal, 0));
    expect(await host.next()).toEqual(wire(MessageType.Seal, 0));
    expect(await member.client.next()).toEqual(wire(MessageType.Seal, 0));
    expect(await sealed).toBe(lobby);
    const late = await RawClient.connect(url);
    late.send(wire(MessageType.Join, MESH, lobby));
    await expectProtocolClose(late, `lobby ${lobby} is sealed`);
    await expectStillServes(url);
  });

  /** A lobby of a host and one member, sealed, with the promise of its lobbyClosed event. */
  async function sealedLobby(sealCloseMs: number) {
    const { server, url } = await startServer({ sealCloseMs });
    const { host, lobby } = await createLobby(url);
    const member = await joinLobby(url, lobby);
    const closedLobby = new Promise<string>((resolve) => server.once('lobbyClosed', resolve));
    host.send(wire(MessageType.Seal, 0));
    return { url, host, lobby, member, closedLobby };
  }

  it('closes every member with 1000 "Seal complete" sealCloseMs after the seal; the lobby is gone', async () => {
    const { url, host, lobby, member, closedLobby } = await sealedLobby(150);
    const expected: CloseEvent = { code: 1000, reason: 'Seal complete' };
    expect(await host.closeEventWithin()).toEqual(expected);
    expect(await member.client.closeEventWithin()).toEqual(expected);
    expect(await closedLobby).toBe(lobby);
    expect(await (await health(url)).json()).toMatchObject({ lobbies: 0 });
  });

  it('ignores a second SEAL from the host', async () => {
    const { url } = await startServer();
    const { host, lobby } = await createLobby(url);
    const member = await joinLobby(url, lobby);
    await host.next();
    host.send(wire(MessageType.Seal, 0));
    host.send(wire(MessageType.Seal, 0));
    host.send(wire(MessageType.Offer, member.id, 'after'));
    expect(await member.client.nextMessages(2)).toEqual([
      wire(MessageType.Seal, 0),
      wire(MessageType.Offer, 1, 'after'),
    ]);
  });

  it('closes a member other than the host that seals with 4000', async () => {
    const { url } = await startServer();
    const { host, lobby } = await createLobby(url);
    const member = await joinLobby(url, lobby);
    member.client.send(wire(MessageType.Seal, 0));
    await expectProtocolClose(member.client, 'only the lobby host may seal');
    expect(await host.nextMessages(2)).toEqual([
      wire(MessageType.PeerConnect, member.id),
      wire(MessageType.PeerDisconnect, member.id),
    ]);
    await expectStillServes(url);
  });

  it('closes a socket that seals before joining a lobby with 4000', async () => {
    const { url } = await startServer();
    const client = await RawClient.connect(url);
    client.send(wire(MessageType.Seal, 0));
    await expectProtocolClose(client, 'SEAL before joining a lobby');
  });

  it('closes every member with 4000 when the host leaves, and deletes the lobby', async () => {
    const { url } = await startServer();
    const { host, lobby } = await createLobby(url);
    const first = await joinLobby(url, lobby);
    const second = await joinLobby(url, lobby);
    await host.close();
    await expectProtocolClose(first.client, 'lobby host has left');
    await expectProtocolClose(second.client, 'lobby host has left');
    const late = await RawClient.connect(url);
    late.send(wire(MessageType.Join, MESH, lobby));
    await expectProtocolClose(late, `no lobby named ${lobby}`);
    // The client may see its close before the server has let go of the socket.
    await expect.poll(async () => (await health(url)).json()).toEqual({ sockets: 0, lobbies: 0 });
  });

  it('tells a sealed lobby nothing when a member leaves, so that no link is dropped', async () => {
    const { url } = await startServer();
    const { host, lobby } = await createLobby(url);
    const first = await joinLobby(url, lobby);
    const second = await joinLobby(url, lobby);
    host.send(wire(MessageType.Seal, 0));
    await second.client.close();
    host.send(wire(MessageType.Offer, first.id, 'after the departure'));
    expect(await host.nextMessages(3)).toEqual([
      wire(MessageType.PeerConnect, first.id),
      wire(MessageType.PeerConnect, second.id),
      wire(MessageType.Seal, 0),
    ]);
    expect(await first.client.nextMessages(3)).toEqual([
      wire(MessageType.PeerConnect, second.id),
      wire(MessageType.Seal, 0),
      wire(MessageType.Offer, 1, 'after the departure'),
    ]);
  });

  it('lets a sealed lobby live out its seal when the host leaves: members close with 1000, not 4000', async () => {
    const { host, lobby, member, closedLobby } = await sealedLobby(300);
    expect(await member.client.next()).toEqual(wire(MessageType.Seal, 0));
    await host.close();
    expect(await member.client.closeEventWithin()).toEqual({ code: 1000, reason: 'Seal complete' });
    expect(await closedLobby).toBe(lobby);
  });

  it('sends PEER_DISCONNECT to the remaining members when a member leaves', async () => {
    const { url } = await startServer();
    const { host, lobby } = await createLobby(url);
    const first = await joinLobby(url, lobby);
    const second = await joinLobby(url, lobby);
    await first.client.next();
    await second.client.close();
    expect(await host.nextMessages(3)).toEqual([
      wire(MessageType.PeerConnect, first.id),
      wire(MessageType.PeerConnect, second.id),
      wire(MessageType.PeerDisconnect, second.id),
    ]);
    expect(await first.client.next()).toEqual(wire(MessageType.PeerDisconnect, second.id));
  });
});

describe('SignalingServer: bad frames and limits', () => {
  it('closes a socket that sends a binary frame with 4000 and names the fault', async () => {
    const { url } = await startServer();
    const client = await RawClient.connect(url);
    client.sendBinary(new TextEncoder().encode('{"type":0,"id":0,"data":""}'));
    await expectProtocolClose(client, 'binary frame; frames must be JSON text');
    await expectStillServes(url);
  });

  it('closes a socket that sends JSON that does not parse with 4000 and names the fault', async () => {
    const { url } = await startServer();
    const client = await RawClient.connect(url);
    client.send('{"type":0');
    await expectProtocolClose(client, 'frame is not valid JSON');
    await expectStillServes(url);
  });

  it('closes a socket that sends an unknown message type with 4000 and names it', async () => {
    const { url } = await startServer();
    const client = await RawClient.connect(url);
    client.send(wire(42, 0));
    await expectProtocolClose(client, 'unknown message type 42');
    await expectStillServes(url);
  });

  it('closes a socket that sends a negative id with 4000 and names the fault', async () => {
    const { url } = await startServer();
    const { host } = await createLobby(url);
    host.send(wire(MessageType.Offer, -2, 'sdp'));
    await expectProtocolClose(host, 'id is negative');
    await expectStillServes(url);
  });

  it('closes a socket that sends a message only the server sends with 4000', async () => {
    const { url } = await startServer();
    const { host } = await createLobby(url);
    host.send(wire(MessageType.PeerConnect, 5));
    await expectProtocolClose(host, 'message type 2 is sent by the server only');
    await expectStillServes(url);
  });

  it('closes a socket that sends a frame over maxFrameBytes with 4000 and names the size', async () => {
    const { url } = await startServer({ maxFrameBytes: 1024 });
    const { host, lobby } = await createLobby(url);
    const member = await joinLobby(url, lobby);
    const frame = JSON.stringify(wire(MessageType.Offer, 1, 'x'.repeat(1100)));
    member.client.send(frame);
    await expectProtocolClose(member.client, `frame of ${frame.length} bytes exceeds the limit of 1024`);
    expect(await host.nextMessages(2)).toEqual([
      wire(MessageType.PeerConnect, member.id),
      wire(MessageType.PeerDisconnect, member.id),
    ]);
    await expectStillServes(url);
  });

  it('closes a socket that sends a frame far over maxFrameBytes, before buffering it', async () => {
    const { url } = await startServer({ maxFrameBytes: 1024 });
    const client = await RawClient.connect(url);
    client.send('x'.repeat(1024 * 1024));
    const close = await client.closeEventWithin();
    // ws refuses a frame beyond its maxPayload (twice the limit) with its own code.
    expect(close.code).toBe(1009);
    await expectStillServes(url);
  });

  it('closes a socket that floods past the rate limit with 4000 "rate limit exceeded"', async () => {
    const { url } = await startServer({ messagesPerSecond: 0.01, messageBurst: 5 });
    const { host, lobby } = await createLobby(url);
    const member = await joinLobby(url, lobby);
    await host.next();
    for (let i = 0; i < 50; i++) member.client.send(wire(MessageType.Candidate, 1, `${i}`));
    await expectProtocolClose(member.client, 'rate limit exceeded');
    // The burst of 5 passed (one token went on the JOIN), then the socket was refused.
    const relayed = await host.nextMessages(5);
    const passed = [0, 1, 2, 3].map((i) => wire(MessageType.Candidate, member.id, `${i}`));
    expect(relayed.slice(0, 4)).toEqual(passed);
    expect(relayed[4]).toEqual(wire(MessageType.PeerDisconnect, member.id));
    await expectStillServes(url);
  });

  it('drops a socket that does not answer pings, and keeps one that does', async () => {
    // Generous: the host's pong must never lose to the next ping round on a loaded machine.
    const { url } = await startServer({ pingIntervalMs: 500 });
    const { host, lobby } = await createLobby(url);
    const silent = await RawClient.connect(url, { autoPong: false });
    silent.send(wire(MessageType.Join, MESH, lobby));
    const close = await silent.closeEventWithin();
    expect(close.code).toBe(1006);
    const [connected, disconnected] = (await host.nextMessages(2)) as Wire[];
    expect(disconnected).toEqual(wire(MessageType.PeerDisconnect, connected?.id ?? 0));
    expect(host.socket.readyState).toBe(host.socket.OPEN);
    await expectStillServes(url);
  });
});

/** The value of one sample line of a Prometheus text exposition, or undefined. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((entry) => entry.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('SignalingServer: a destination that reads slowly', () => {
  it('stops reading its senders until it drains, then delivers everything, in order, closing nobody', async () => {
    const { server, url } = await startServer({ messagesPerSecond: 1e9, messageBurst: 1e9, maxSendQueueBytes: 64 * 1024 });
    const closed: SocketClosedInfo[] = [];
    server.on('socketClosed', (info) => closed.push(info));
    const { host, lobby } = await createLobby(url);
    const member = await joinLobby(url, lobby);
    await host.next();
    host.socket.pause();
    // Far more than the loopback's socket buffers hold, so that the server's queue fills.
    const count = 20_000;
    const padding = 'x'.repeat(1000);
    for (let i = 0; i < count; i++) member.client.send(wire(MessageType.Offer, 1, `${i} ${padding}`));
    await new Promise((resolve) => setTimeout(resolve, 500));
    host.socket.resume();
    const heard = (await host.nextMessages(count, 30_000)) as Wire[];
    expect(heard.every((message, i) => message.data === `${i} ${padding}` && message.id === member.id)).toBe(true);
    expect(closed).toEqual([]);
  }, 60_000);
});

describe('SignalingServer: metrics', () => {
  it('serves GET /metrics in the Prometheus text format: sockets, lobbies, members, messages, bytes, closes, lag', async () => {
    const { server, url } = await startServer();
    expect(server.metricsUrl).toBe(url.replace(/^ws:/, 'http:') + '/metrics');
    const { host, lobby } = await createLobby(url);
    const member = await joinLobby(url, lobby);
    await host.next();
    member.client.send(wire(MessageType.Candidate, 1, '\n0\n0\ncandidate:1 1 UDP 1 127.0.0.1 5000 typ host'));
    member.client.send(wire(MessageType.Offer, 1, 'sdp'));
    await host.nextMessages(2);
    const refused = await RawClient.connect(url);
    refused.send(wire(MessageType.Join, MESH, 'NoSuchLobby'));
    await refused.closed;
    const response = await health(url, '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(/^# TYPE rtcmesh_signaling_messages_relayed_total counter$/m);
    const expected: Record<string, number> = {
      rtcmesh_signaling_sockets: 2,
      rtcmesh_signaling_lobbies: 1,
      rtcmesh_signaling_members: 2,
      'rtcmesh_signaling_messages_received_total{type="join"}': 3,
      'rtcmesh_signaling_messages_relayed_total{type="candidate"}': 1,
      'rtcmesh_signaling_messages_relayed_total{type="offer"}': 1,
      'rtcmesh_signaling_messages_relayed_total{type="answer"}': 0,
      'rtcmesh_signaling_closes_total{cause="join_refused"}': 1,
      'rtcmesh_signaling_closes_total{cause="rate_limit"}': 0,
    };
    for (const [line, value] of Object.entries(expected)) expect(sample(text, line), line).toBe(value);
    expect(sample(text, 'rtcmesh_signaling_received_bytes_total')).toBeGreaterThan(100);
    expect(sample(text, 'rtcmesh_signaling_sent_bytes_total')).toBeGreaterThan(100);
    expect(sample(text, 'rtcmesh_signaling_event_loop_lag_seconds{stat="max"}')).toBeGreaterThanOrEqual(0);
  });

  it('serves /metrics on metricsPort alone when it is set, and nowhere when metrics is false', async () => {
    const separate = await startServer({ metricsPort: 0 });
    const metricsUrl = separate.server.metricsUrl!;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(metricsUrl).not.toBe(separate.url.replace(/^ws:/, 'http:') + '/metrics');
    expect((await fetch(metricsUrl)).status).toBe(200);
    expect((await health(separate.url, '/metrics')).status).toBe(404);
    expect((await fetch(metricsUrl.replace('/metrics', '/health'))).status).toBe(404);
    const off = await startServer({ metrics: false });
    expect(off.server.metricsUrl).toBeNull();
    expect((await health(off.url, '/metrics')).status).toBe(404);
    expect((await health(off.url)).status).toBe(200);
  });
});

describe('SignalingServer: default limits', () => {
  // A full mesh lobby of 64 where every link gathers a description and 12 candidates: the last
  // member sends 63 × 13 = 819 messages at once, every member as fast as its socket allows.
  const LOBBY_SIZE = 64;
  const CANDIDATES_PER_LINK = 12;

  it('let a full mesh lobby of 64 form when every member signals every link at once', async () => {
    const { server, url } = await startServer();
    const closedByServer: SocketClosedInfo[] = [];
    server.on('socketClosed', (info) => info.byServer && closedByServer.push(info));
    const candidate = '\n0\n0\ncandidate:1 1 UDP 2122317823 192.0.2.1 50000 typ host';
    const signal = (client: RawClient, peerId: number): void => {
      client.send(wire(MessageType.Offer, peerId, 'v=0'));
      for (let i = 0; i < CANDIDATES_PER_LINK; i++) client.send(wire(MessageType.Candidate, peerId, candidate));
    };
    const { host, lobby } = await createLobby(url);
    const members: Member[] = [];
    for (let i = 1; i < LOBBY_SIZE; i++) {
      members.push(await joinLobby(url, lobby));
    }
    // Each member signals each link once, all at the same moment.
    const everyone = [{ client: host, id: 1 }, ...members];
    for (const { client, id } of everyone) {
      for (const other of everyone) if (other.id !== id) signal(client, other.id);
    }
    const expected = (LOBBY_SIZE - 1) * (1 + CANDIDATES_PER_LINK);
    const last = members.at(-1)!;
    const heard = (await last.client.nextMessages(expected, 20_000)) as Wire[];
    expect(heard.filter((message) => message.type === MessageType.Candidate)).toHaveLength((LOBBY_SIZE - 1) * CANDIDATES_PER_LINK);
    expect(closedByServer).toEqual([]);
  }, 60_000);
});
