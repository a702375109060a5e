// A relayed message may be lost (across signaling nodes, Redis pub/sub delivers at most once): the
// client offers again when a connection is not up in time. Here a relay in front of a real server
// drops the first offer; the TURN refresh request and the client's schedule for it are checked too.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { SignalingClient, SignalingServer, WebRTCMultiplayerPeer } from '../../src/index.js';
import { TurnGrant } from '../../src/signaling/turn-grant.js';
import { closeAfterEach } from '../support/close-after-each.js';
import { pollUntil } from '../support/poll.js';
import { LOOPBACK_CONFIG } from '../support/transport-pair.js';
import { RawClient } from '../support/ws-client.js';

const TIMEOUT_MS = 20_000;
const OFFER = 4;
const track = closeAfterEach();
track({ close: () => RawClient.closeAll() });

/** A WebSocket relay to `target` that swallows the first OFFER a client sends. */
async function lossyRelay(target: string): Promise<{ url: string; dropped: () => number }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  let dropped = 0;
  server.on('connection', (client) => {
    const upstream = new WebSocket(target);
    const early: string[] = [];
    upstream.on('open', () => early.splice(0).forEach((frame) => upstream.send(frame)));
    upstream.on('message', (data) => client.send(String(data)));
    upstream.on('close', () => client.close());
    client.on('close', () => upstream.close());
    client.on('message', (data) => {
      const text = String(data);
      if ((JSON.parse(text) as { type: number }).type === OFFER && dropped === 0) {
        dropped++;
        return;
      }
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else early.push(text);
    });
  });
  track({ close: () => new Promise((resolve) => server.close(resolve)) });
  return { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`, dropped: () => dropped };
}

describe('offering again after a lost message', () => {
  it('connects two members although the first offer was lost', async () => {
    const server = track(new SignalingServer({ host: '127.0.0.1', port: 0 }));
    const { url } = await server.listen();
    const relay = await lossyRelay(url);
    const members = ['', null].map(() => new WebRTCMultiplayerPeer());
    const host = new SignalingClient({ url, multiplayerPeer: members[0]!, peerConfig: LOOPBACK_CONFIG, negotiationTimeoutMs: 1500 });
    track({ close: () => (host.close(), members[0]!.close()) });
    host.connect();
    await pollUntil([members[0]!], () => host.getLobby() !== '', 'the lobby', TIMEOUT_MS);
    const guest = new SignalingClient({ url: relay.url, lobby: host.getLobby(), multiplayerPeer: members[1]!, peerConfig: LOOPBACK_CONFIG, negotiationTimeoutMs: 1500 });
    track({ close: () => (guest.close(), members[1]!.close()) });
    const failures: string[] = [];
    guest.on('negotiationFailed', (_id, reason) => failures.push(reason));
    guest.connect();
    await pollUntil(members, () => members.every((peer) => [...peer.getPeers().values()].some((info) => info.connected)), 'the link', TIMEOUT_MS);
    expect(relay.dropped()).toBe(1);
    expect(failures).toEqual(['no answer within 1500 ms']);
  });
});

describe('fresh TURN credentials', () => {
  it('are answered to members only', async () => {
    const server = track(new SignalingServer({ host: '127.0.0.1', port: 0, turnSecret: 'sixteen-chars-secret', turnUrl: 'turn:127.0.0.1:3478' }));
    const { url } = await server.listen();
    const member = await RawClient.connect(url);
    member.send({ type: 0, id: 0, data: '' });
    const [id] = (await member.nextMessages(2)) as Array<{ id: number; turn: { username: string } }>;
    member.send({ type: 1, id: 0, data: 'turn' });
    const fresh = (await member.next()) as { type: number; id: number; turn: { username: string } };
    expect(fresh.type).toBe(1);
    expect(fresh.id).toBe(id!.id);
    expect(fresh.turn.username).toMatch(/^\d+:1$/);
    const stranger = await RawClient.connect(url);
    stranger.send({ type: 1, id: 0, data: 'turn' });
    expect((await stranger.closed).code).toBe(4000);
  });

  it('are asked for at half their validity, then every few seconds until they come', () => {
    const grant = new TurnGrant();
    const now = 1_000_000_000_000;
    expect(grant.take({ urls: ['turn:127.0.0.1:3478'], username: `${now / 1000 + 600}:2`, credential: 'x' }, now)).toBe(true);
    expect(grant.apply({}).iceServers).toHaveLength(1);
    expect(grant.due(now + 299_000)).toBe(false);
    expect(grant.due(now + 300_000)).toBe(true);
    expect(grant.due(now + 301_000)).toBe(false);
    expect(grant.due(now + 305_000)).toBe(true);
    expect(grant.take({ urls: ['http://example'], username: `${now / 1000 + 600}:2`, credential: 'x' }, now)).toBe(false);
  });
});
