import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  NetworkConditioner,
  SignalingClient,
  SignalingServer,
  type SignalingServerOptions,
  WebRTCMultiplayerPeer,
  cleanup,
} from '../../src/index.js';
import { pollUntil } from '../support/poll.js';
import { LOOPBACK_CONFIG } from '../support/transport-pair.js';
import { type TcpProxy, startTcpProxy } from '../support/tcp-proxy.js';

const TIMEOUT_MS = 20_000;
const PACKETS = 10_000;

interface Closable {
  close(): unknown;
}
const opened: Closable[] = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});
afterAll(() => cleanup());

/** A lobby member and what it saw. */
interface Member {
  client: SignalingClient;
  peer: WebRTCMultiplayerPeer;
  disconnected: number[];
  reconnecting: number[];
  reconnected: number[];
  ended: Array<[number, string]>;
}

interface MemberOptions {
  grace?: number;
  conditioner?: NetworkConditioner;
  token?: string;
}

function member(url: string, lobby: string, mesh: boolean, extra: MemberOptions = {}): Member {
  const peer = new WebRTCMultiplayerPeer({ reconnectGraceMs: extra.grace ?? 10_000, keepaliveTimeoutMs: 2000 });
  const client = new SignalingClient({
    url,
    lobby,
    mesh,
    multiplayerPeer: peer,
    peerConfig: LOOPBACK_CONFIG,
    ...(extra.conditioner ? { backend: extra.conditioner.backend } : {}),
    ...(extra.token ? { token: extra.token } : {}),
  });
  const seen: Member = { client, peer, disconnected: [], reconnecting: [], reconnected: [], ended: [] };
  peer.on('peerDisconnected', (id) => seen.disconnected.push(id));
  peer.on('peerReconnecting', (id) => seen.reconnecting.push(id));
  peer.on('peerReconnected', (id) => seen.reconnected.push(id));
  client.on('disconnected', (code, reason) => seen.ended.push([code, reason]));
  opened.push({ close: () => (client.close(), peer.close()) });
  client.connect();
  return seen;
}

async function startServer(options: SignalingServerOptions): Promise<string> {
  const server = new SignalingServer({ host: '127.0.0.1', port: 0, ...options });
  const { url } = await server.listen();
  opened.push(server);
  return url;
}

interface CutLobby {
  members: Member[];
  /** The last member: its signaling goes through `proxy`, its WebRTC through `conditioner`. */
  cut: Member;
  conditioner: NetworkConditioner;
  proxy: TcpProxy;
}

function connectedPeers(m: Member): number[] {
  return [...m.peer.getPeers()].filter(([, info]) => info.connected).map(([id]) => id);
}

/** A lobby of `count` members, the host first, the last one on a link the test can cut. */
async function lobbyWithCutMember(count: number, mesh: boolean, grace: number): Promise<CutLobby> {
  const url = await startServer({ reconnectGraceMs: grace });
  const host = member(url, '', mesh, { grace });
  await pollUntil([host.peer], () => host.client.getLobby() !== '', 'the lobby', TIMEOUT_MS);
  const lobby = host.client.getLobby();
  const members = [host];
  for (let n = 2; n < count; n++) members.push(member(url, lobby, mesh, { grace }));
  const conditioner = new NetworkConditioner({ seed: 31 });
  opened.push(conditioner);
  const proxy = await startTcpProxy(Number(new URL(url).port));
  opened.push(proxy);
  const cut = member(`ws://127.0.0.1:${proxy.port}`, lobby, mesh, { grace, conditioner });
  members.push(cut);
  const expected = (m: Member): number => (mesh || m === host ? count - 1 : 1);
  await pollUntil(
    members.map((m) => m.peer),
    () => members.every((m) => connectedPeers(m).length === expected(m)),
    'every link',
    TIMEOUT_MS,
  );
  return { members, cut, conditioner, proxy };
}

/** Numbered reliable streams between members, each checked for order, loss and doubling. */
class Streams {
  private readonly sent = new Map<string, number>();
  private readonly next = new Map<string, number>();
  wrong = 0;

  constructor(private readonly pairs: ReadonlyArray<readonly [from: Member, to: Member]>) {}

  pump(budget: number): void {
    for (const [from, to] of this.pairs) {
      const key = streamKey(from.client.getUniqueId(), to.client.getUniqueId());
      let sent = this.sent.get(key) ?? 0;
      const limit = Math.min(PACKETS, sent + budget);
      from.peer.setTargetPeer(to.client.getUniqueId());
      while (sent < limit && from.peer.putPacket(numbered(sent))) sent++;
      this.sent.set(key, sent);
    }
    for (const to of new Set(this.pairs.map(([, receiver]) => receiver))) {
      while (to.peer.getAvailablePacketCount() > 0) {
        const key = streamKey(to.peer.getPacketPeer(), to.client.getUniqueId());
        const packet = to.peer.getPacket()!;
        const expected = this.next.get(key) ?? 0;
        if (new DataView(packet.buffer, packet.byteOffset).getUint32(0) !== expected) this.wrong++;
        this.next.set(key, expected + 1);
      }
    }
  }

  /** Packets read so far on each stream, in the order of the pairs. */
  received(): number[] {
    return this.pairs.map(([from, to]) => this.next.get(streamKey(from.client.getUniqueId(), to.client.getUniqueId())) ?? 0);
  }

  done(): boolean {
    return this.received().every((count) => count >= PACKETS);
  }
}

function streamKey(from: number, to: number): string {
  return `${from}>${to}`;
}

function numbered(n: number): Uint8Array {
  const packet = new Uint8Array(48);
  new DataView(packet.buffer).setUint32(0, n);
  return packet;
}

describe.each([
  ['a four-peer mesh', 4, true],
  ['a server with three clients', 4, false],
] as const)('resumption in %s, through the signaling server', (_name, count, mesh) => {
  it('a member cut for 5 s comes back with the same id, linked to every peer it had, and 10,000 reliable packets each way arrive exactly once, in order', async () => {
    const { members, cut, conditioner, proxy } = await lobbyWithCutMember(count, mesh, 10_000);
    const id = cut.client.getUniqueId();
    const peersBefore = connectedPeers(cut).sort();
    const others = members.filter((m) => m !== cut && peersBefore.includes(m.client.getUniqueId()));
    const streams = new Streams(others.flatMap((other) => [[cut, other] as const, [other, cut] as const]));
    const polled = members.map((m) => m.peer);
    await pollUntil(polled, () => (streams.pump(10), streams.received().every((n) => n >= 1000)), 'traffic before the cut', TIMEOUT_MS);
    conditioner.cut();
    proxy.cut();
    const cutAt = Date.now();
    await pollUntil(polled, () => (streams.pump(3), Date.now() - cutAt >= 5000), 'the 5 s cut', TIMEOUT_MS);
    expect(cut.peer.isPeerReconnecting(peersBefore[0]!)).toBe(true);
    conditioner.restore();
    proxy.restore();
    await pollUntil(
      polled,
      () => (streams.pump(10), peersBefore.every((p) => cut.peer.hasPeer(p) && !cut.peer.isPeerReconnecting(p))),
      'the member to resume with every peer',
      TIMEOUT_MS,
    );
    expect(cut.client.getUniqueId()).toBe(id);
    await pollUntil(polled, () => (streams.pump(50), streams.done()), 'every stream', 60_000);
    expect(streams.received()).toEqual(streams.received().map(() => PACKETS));
    expect(streams.wrong).toBe(0);
    expect(connectedPeers(cut).sort()).toEqual(peersBefore);
    for (const m of members) expect(m.disconnected).toEqual([]);
    expect(cut.reconnected.sort()).toEqual(peersBefore);
    expect(cut.ended).toEqual([]);
  }, 120_000);
});

describe('the end of the grace', () => {
  it('drops a member cut for longer than the grace once, and refuses its late token', async () => {
    const grace = 3000;
    const { members, cut, conditioner, proxy } = await lobbyWithCutMember(3, true, grace);
    const id = cut.client.getUniqueId();
    const polled = members.map((m) => m.peer);
    conditioner.cut();
    proxy.cut();
    const others = members.filter((m) => m !== cut);
    await pollUntil(polled, () => others.every((m) => m.disconnected.length > 0) && cut.ended.length > 0, 'the end of the grace', TIMEOUT_MS);
    conditioner.restore();
    proxy.restore();
    // The client gave up at the end of its grace; a fresh one presents the token it held.
    const late = member(`ws://127.0.0.1:${proxy.port}`, '', true, { grace, token: cut.client.getSessionToken() });
    await pollUntil([...polled, late.peer], () => late.ended.length > 0, 'the refusal', TIMEOUT_MS);
    expect(late.ended[0]).toEqual([4000, `the session of peer ${id} has ended`]);
    for (const m of others) expect(m.disconnected).toEqual([id]);
  }, 60_000);
});
