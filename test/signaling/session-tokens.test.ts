import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, encodeMessage, parseFrame } from '../../src/signaling/protocol.js';
import { SignalingServer } from '../../src/signaling/server.js';
import { SessionTokens } from '../../src/signaling/session-token.js';
import { RawClient } from '../support/ws-client.js';
import { expectRtcError } from '../support/errors.js';

const servers: SignalingServer[] = [];
afterEach(async () => {
  await RawClient.closeAll();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

interface Wire {
  type: number;
  id: number;
  data: string;
  token?: string;
  resume?: boolean;
}

async function startServer(reconnectGraceMs: number, tokenSecret?: string): Promise<string> {
  const server = new SignalingServer({ port: 0, reconnectGraceMs, sealCloseMs: 200, ...(tokenSecret ? { tokenSecret } : {}) });
  servers.push(server);
  return (await server.listen()).url;
}

/** Joins (or creates, with lobby '') a mesh lobby; returns the client and the ID message. */
async function join(url: string, lobby: string, token?: string, resume?: boolean): Promise<{ client: RawClient; id: Wire }> {
  const client = await RawClient.connect(url);
  client.send({ type: MessageType.Join, id: 0, data: lobby, ...(token ? { token } : {}), ...(resume ? { resume } : {}) });
  return { client, id: (await client.next()) as Wire };
}

/** A host and one member, every introduction read. */
async function lobbyOfTwo(url: string): Promise<{ host: { client: RawClient; id: Wire }; member: { client: RawClient; id: Wire }; lobbyName: string }> {
  const host = await join(url, '');
  await untilJoined(host.client);
  const lobbyName = host.id.token!.split('.')[1]!;
  const member = await join(url, lobbyName);
  await untilJoined(member.client);
  await host.client.next();
  return { host, member, lobbyName };
}

/** A JOIN the server refuses: how it closed the socket. */
async function refusedJoin(url: string, lobby: string, token?: string, resume?: boolean): Promise<unknown> {
  const client = await RawClient.connect(url);
  client.send({ type: MessageType.Join, id: 0, data: lobby, ...(token ? { token } : {}), ...(resume ? { resume } : {}) });
  return client.closed;
}

/** Reads messages until the JOIN confirmation; returns them all, the confirmation last. */
async function untilJoined(client: RawClient): Promise<Wire[]> {
  const seen: Wire[] = [];
  for (;;) {
    const message = (await client.next()) as Wire;
    seen.push(message);
    if (message.type === MessageType.Join) return seen;
  }
}

describe('session tokens', () => {
  it('are signed with the secret, carry their claims, and are refused when forged, malformed or expired', () => {
    const tokens = new SessionTokens('a secret of sixteen+ characters');
    const token = tokens.issue({ lobby: 'Lobby_1', peerId: 42, generation: 3, expiresAt: 2000 });
    expect(tokens.verify(token, 1000)).toEqual({ ok: true, claims: { lobby: 'Lobby_1', peerId: 42, generation: 3, expiresAt: 2000 } });
    expect(new SessionTokens('a secret of sixteen+ characters').verify(token, 1000).ok).toBe(true);
    expect(new SessionTokens('another secret, just as long').verify(token, 1000)).toEqual({ ok: false, reason: 'forged session token' });
    expect(tokens.verify(token.replace('.42.', '.43.'), 1000)).toEqual({ ok: false, reason: 'forged session token' });
    expect(tokens.verify(token, 2000)).toEqual({ ok: false, reason: 'expired session token' });
    expect(tokens.verify('v1.x.1', 0)).toEqual({ ok: false, reason: 'malformed session token' });
    expect(tokens.verify(`${token}${'A'.repeat(200)}`, 0)).toEqual({ ok: false, reason: 'malformed session token' });
  });

  it('ride in fields of their own, which the protocol reads only when well-typed', () => {
    const text = encodeMessage({ type: MessageType.Join, id: 0, data: 'L', token: 't', resume: true });
    expect(JSON.parse(text)).toEqual({ type: 0, id: 0, data: 'L', token: 't', resume: true });
    expect(encodeMessage({ type: MessageType.Id, id: 2, data: '' })).toBe('{"type":1,"id":2,"data":""}');
    const parsed = parseFrame('{"type":0,"id":0,"data":"L","token":5,"resume":"yes"}', 1000);
    expect(parsed.ok && parsed.message).toEqual({ type: 0, id: 0, data: 'L' });
  });

  it('are not issued with resumption off (the default), where a JOIN with one is refused', async () => {
    const url = await startServer(0);
    const { id } = await join(url, '');
    expect(id.token).toBeUndefined();
    expect(await refusedJoin(url, '', 'v1.x')).toEqual({ code: 4000, reason: 'session tokens are not accepted: resumption is off' });
  });

  it('give a lost member its id back once: the new token works, the old one is refused as used, a forged one as forged', async () => {
    const url = await startServer(5000);
    const host = await join(url, '');
    await untilJoined(host.client);
    const confirmation = host.id;
    expect(confirmation.token).toMatch(/^v1\./);
    const lobbyName = confirmation.token!.split('.')[1]!;
    const member = await join(url, lobbyName);
    const memberId = member.id.id;
    await untilJoined(member.client);
    expect(await host.client.next()).toEqual({ type: MessageType.PeerConnect, id: memberId, data: '' });
    // The member's socket is lost (not closed by it): its seat is held, and nobody is told.
    member.client.socket.terminate();
    const back = await join(url, lobbyName, member.id.token, true);
    expect(back.id).toMatchObject({ type: MessageType.Id, id: memberId, data: 'true' });
    expect(back.id.token).not.toBe(member.id.token);
    expect(await untilJoined(back.client)).toEqual([
      { type: MessageType.PeerConnect, id: 1, data: '', resume: true },
      { type: MessageType.Join, id: 0, data: lobbyName },
    ]);
    expect(await host.client.next()).toEqual({ type: MessageType.PeerConnect, id: memberId, data: '', resume: true });
    expect(await refusedJoin(url, lobbyName, member.id.token, true)).toEqual({ code: 4000, reason: 'session token already used' });
    const forgedToken = back.id.token!.slice(0, -2) + (back.id.token!.endsWith('AA') ? 'BB' : 'AA');
    expect(await refusedJoin(url, lobbyName, forgedToken)).toEqual({ code: 4000, reason: 'forged session token' });
    // A token whose socket is still open takes the seat over: the old socket is the same member's, lost.
    const again = await join(url, lobbyName, back.id.token, true);
    expect(again.id.id).toBe(memberId);
    expect(await back.client.closed).toEqual({ code: 4000, reason: 'replaced by a resumed session' });
  });

  it('from a restarted process: its peers see it leave and join again', async () => {
    const url = await startServer(5000);
    const { host, member, lobbyName } = await lobbyOfTwo(url);
    member.client.socket.terminate();
    const restarted = await join(url, lobbyName, member.id.token);
    expect(restarted.id.id).toBe(member.id.id);
    expect(await host.client.nextMessages(2)).toEqual([
      { type: MessageType.PeerDisconnect, id: member.id.id, data: '' },
      { type: MessageType.PeerConnect, id: member.id.id, data: '' },
    ]);
  });

  it('keep every member on signaling after a seal, and a sealed lobby admits token holders only', async () => {
    const url = await startServer(5000);
    const { host, member, lobbyName } = await lobbyOfTwo(url);
    host.client.send({ type: MessageType.Seal, id: 0, data: '' });
    expect(await member.client.next()).toMatchObject({ type: MessageType.Seal });
    expect(await refusedJoin(url, lobbyName)).toEqual({ code: 4000, reason: `lobby ${lobbyName} is sealed` });
    // Well past sealCloseMs: the sockets are still open.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(member.client.socket.readyState).toBe(1);
    member.client.socket.terminate();
    const back = await join(url, lobbyName, member.id.token, true);
    expect(back.id.id).toBe(member.id.id);
  });

  it('end with the grace: the departure is announced then, and the token is refused', async () => {
    const url = await startServer(300);
    const { host, member, lobbyName } = await lobbyOfTwo(url);
    member.client.socket.terminate();
    expect(await host.client.next()).toEqual({ type: MessageType.PeerDisconnect, id: member.id.id, data: '' });
    expect(await refusedJoin(url, lobbyName, member.id.token, true)).toEqual({ code: 4000, reason: `the session of peer ${member.id.id} has ended` });
  });

  it('are checked as options', () => {
    expectRtcError(() => new SignalingServer({ tokenSecret: 'short' }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => new SignalingServer({ reconnectGraceMs: -1 }), 'ERR_INVALID_PARAMETER');
  });
});
