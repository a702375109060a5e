// TURN through a real coturn: the signaling server hands each admitted member credentials of the
// TURN REST API, the client puts them into its connections, and two peers held to relay
// candidates only connect through coturn; credentials that are wrong or expired get no relay.
import { describe, expect, it } from 'vitest';
import {
  GatheringState,
  PeerConnection,
  SignalingClient,
  SignalingServer,
  type SignalingServerOptions,
  TransferMode,
  WebRTCMultiplayerPeer,
} from '../../src/index.js';
import { turnCredentials } from '../../src/signaling/turn-credentials.js';
import { closeAfterEach } from '../support/close-after-each.js';
import { expectRtcError } from '../support/errors.js';
import { drain } from '../support/mesh.js';
import { pollUntil } from '../support/poll.js';
import { LOOPBACK_CONFIG } from '../support/transport-pair.js';
import { TurnServer } from '../support/turn-server.js';
import { RawClient } from '../support/ws-client.js';

const SECRET = 'a-test-secret-for-coturn-only';
const TIMEOUT_MS = 20_000;
const RELAY_ONLY = { ...LOOPBACK_CONFIG, iceTransportPolicy: 'relay' as const };

const track = closeAfterEach();
track({ close: () => RawClient.closeAll() });

interface RelayMember {
  client: SignalingClient;
  peer: WebRTCMultiplayerPeer;
  failures: Array<[number, string]>;
}

async function signaling(options: SignalingServerOptions): Promise<string> {
  const server = track(new SignalingServer({ host: '127.0.0.1', port: 0, ...options }));
  return (await server.listen()).url;
}

function relayMember(url: string, lobby: string, negotiationTimeoutMs = 10_000): RelayMember {
  const peer = new WebRTCMultiplayerPeer();
  const client = new SignalingClient({ url, lobby, multiplayerPeer: peer, peerConfig: RELAY_ONLY, negotiationTimeoutMs });
  const seen: RelayMember = { client, peer, failures: [] };
  client.on('negotiationFailed', (id, reason) => seen.failures.push([id, reason]));
  track({ close: () => (client.close(), peer.close()) });
  client.connect();
  return seen;
}

/**
 * Local candidates a relay-only pair gathers with `iceServers`, once their descriptions are
 * exchanged (an offerer gives its candidates away only after the answer) and gathering completes.
 */
async function gatheredCandidates(iceServers: PeerConnectionConfigServers): Promise<string[]> {
  const [offerer, answerer] = [track(new PeerConnection()), track(new PeerConnection())];
  const candidates: string[] = [];
  for (const [connection, other] of [[offerer, answerer], [answerer, offerer]] as const) {
    connection.initialize({ ...RELAY_ONLY, iceServers });
    connection.on('iceCandidateCreated', (_mid, _index, sdp) => candidates.push(sdp));
    connection.on('sessionDescriptionCreated', (type, sdp) => {
      connection.setLocalDescription(type, sdp);
      other.setRemoteDescription(type, sdp);
    });
  }
  offerer.createDataChannel('probe');
  offerer.createOffer();
  const done = (): boolean => [offerer, answerer].every((c) => c.getGatheringState() === GatheringState.Complete);
  await pollUntil([offerer, answerer], done, 'gathering', TIMEOUT_MS);
  return candidates;
}
type PeerConnectionConfigServers = Array<{ urls: string; username: string; credential: string }>;

describe('TURN options', () => {
  it('refuses a secret without URLs, URLs without a secret, and URLs that are not TURN', () => {
    expectRtcError(() => new SignalingServer({ turnSecret: SECRET }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => new SignalingServer({ turnUrl: 'turn:127.0.0.1:3478' }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => new SignalingServer({ turnSecret: SECRET, turnUrl: 'stun:127.0.0.1:3478' }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => new SignalingServer({ turnSecret: SECRET, turnUrl: 'turn:not a host' }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => new SignalingServer({ turnSecret: SECRET, turnUrl: 'turn:127.0.0.1', turnTtl: 10 }), 'ERR_INVALID_PARAMETER');
    expect(() => new SignalingServer({ turnSecret: SECRET, turnUrl: 'turn:127.0.0.1:3478?transport=udp, turns:127.0.0.1:443?transport=tcp' })).not.toThrow();
  });
});

describe('TURN credentials through coturn', () => {
  it('hands credentials to admitted members only, and relay-only peers connect through coturn', async () => {
    const turn = track(await TurnServer.start(SECRET));
    const url = await signaling({ turnSecret: SECRET, turnUrl: turn.url, turnTtl: 600 });

    // A socket that has not joined gets nothing; one refused gets nothing either.
    const refused = await RawClient.connect(url);
    refused.send({ type: 0, id: 0, data: 'no-such-lobby' });
    await expect(refused.next()).rejects.toThrow(/closed instead/);

    const host = relayMember(url, '');
    await pollUntil([host.peer], () => host.client.getLobby() !== '', 'the lobby', TIMEOUT_MS);
    const raw = await RawClient.connect(url);
    raw.send({ type: 0, id: 0, data: host.client.getLobby() });
    const id = (await raw.next()) as { type: number; id: number; turn: { urls: string[]; username: string; credential: string } };
    expect(id.type).toBe(1);
    expect(id.turn.urls).toEqual([turn.url]);
    expect(id.turn.username).toMatch(new RegExp(`^\\d+:${id.id}$`));
    expect(id.turn).toEqual(turnCredentials({ secret: SECRET, urls: [turn.url], ttlSeconds: 600 }, id.id, (Number(id.turn.username.split(':')[0]) - 600) * 1000));
    await raw.close();

    const guest = relayMember(url, host.client.getLobby());
    const members = [host, guest];
    await pollUntil(
      members.map((m) => m.peer),
      () => members.every((m) => [...m.peer.getPeers().values()].some((info) => info.connected)),
      'the link through coturn',
      TIMEOUT_MS,
    );
    host.peer.setTargetPeer(guest.client.getUniqueId());
    host.peer.transferMode = TransferMode.Reliable;
    host.peer.putPacket(Uint8Array.of(1));
    host.peer.transferMode = TransferMode.Unreliable;
    host.peer.putPacket(Uint8Array.of(2));
    const received: number[] = [];
    await pollUntil(members.map((m) => m.peer), () => (received.push(...drain(guest.peer).map((p) => p.data[0]!)), received.length === 2), 'both packets', TIMEOUT_MS);
    expect(received.sort()).toEqual([1, 2]);
    // Only relays could carry it (relay-only policy on both sides): coturn allocated one for each
    // member under its own credentials, and let each relay reach the other's.
    // coturn logs through a pipe: a line may be read after the packets it let through arrived.
    for (const member of members) {
      const user = new RegExp(`user <\\d+:${member.client.getUniqueId()}>: incoming packet (\\w+) processed, success`);
      const granted = (): Array<string | undefined> => turn.log.map((line) => user.exec(line)?.[1]).filter((packet) => packet !== undefined);
      await expect.poll(granted).toContain('ALLOCATE');
      await expect.poll(granted).toContain('CREATE_PERMISSION');
    }
    expect(members.flatMap((m) => m.failures)).toEqual([]);
  });

  it('gets no allocation with an expired or a wrong credential, and the client says so', async () => {
    const turn = track(await TurnServer.start(SECRET));
    const valid = turnCredentials({ secret: SECRET, urls: [turn.url], ttlSeconds: 600 }, 2, Date.now());
    const expired = turnCredentials({ secret: SECRET, urls: [turn.url], ttlSeconds: 600 }, 2, Date.now() - 3_600_000);
    const wrong = turnCredentials({ secret: 'not-the-secret-of-this-server', urls: [turn.url], ttlSeconds: 600 }, 2, Date.now());
    const asServer = (c: typeof valid) => [{ urls: turn.url, username: c.username, credential: c.credential }];
    expect((await gatheredCandidates(asServer(valid))).every((c) => / typ relay /.test(c))).toBe(true);
    expect(await gatheredCandidates(asServer(valid))).not.toEqual([]);
    expect(await gatheredCandidates(asServer(expired))).toEqual([]);
    expect(await gatheredCandidates(asServer(wrong))).toEqual([]);

    // Through signaling: a server with the wrong secret hands credentials coturn refuses.
    const url = await signaling({ turnSecret: 'not-the-secret-of-this-server', turnUrl: turn.url });
    const host = relayMember(url, '', 3000);
    await pollUntil([host.peer], () => host.client.getLobby() !== '', 'the lobby', TIMEOUT_MS);
    const guest = relayMember(url, host.client.getLobby(), 3000);
    await pollUntil([host.peer, guest.peer], () => guest.failures.length > 0, 'the failure report', TIMEOUT_MS);
    expect(guest.failures[0]).toEqual([1, 'no relay candidate: the TURN server gave no allocation (wrong or expired credentials, or unreachable)']);
  });
});
