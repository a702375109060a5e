import {
  NetworkConditioner,
  SignalingClient,
  SignalingServer,
  type SignalingServerOptions,
  WebRTCMultiplayerPeer,
} from '../../src/index.js';
import type { Track } from './close-after-each.js';
import { pollUntil } from './poll.js';
import { LOOPBACK_CONFIG } from './transport-pair.js';
import { type TcpProxy, startTcpProxy } from './tcp-proxy.js';
import { LOOPBACK_HOST } from '../../src/cli/loopback.js';

const TIMEOUT_MS = 20_000;
/** Packets of each stream in {@link Streams}. */
export const PACKETS = 10_000;


/** A lobby member and what it saw. */
export interface Member {
  client: SignalingClient;
  peer: WebRTCMultiplayerPeer;
  disconnected: number[];
  reconnecting: number[];
  reconnected: number[];
  ended: Array<[number, string]>;
}

export interface MemberOptions {
  grace?: number;
  conditioner?: NetworkConditioner;
  token?: string;
}

export function member(track: Track, url: string, lobby: string, mesh: boolean, extra: MemberOptions = {}): Member {
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
  track({ close: () => (client.close(), peer.close()) });
  client.connect();
  return seen;
}

export async function startServer(track: Track, options: SignalingServerOptions): Promise<string> {
  const server = new SignalingServer({ host: LOOPBACK_HOST, port: 0, ...options });
  const { url } = await server.listen();
  track(server);
  return url;
}

export interface CutLobby {
  members: Member[];
  /** The last member: its signaling goes through `proxy`, its WebRTC through `conditioner`. */
  cut: Member;
  conditioner: NetworkConditioner;
  proxy: TcpProxy;
}

export function connectedPeers(m: Member): number[] {
  return [...m.peer.getPeers()].filter(([, info]) => info.connected).map(([id]) => id);
}

/** A lobby of `count` members, the host first, the last one on a link the test can cut. */
export async function lobbyWithCutMember(track: Track, count: number, mesh: boolean, grace: number): Promise<CutLobby> {
  const url = await startServer(track, { reconnectGraceMs: grace });
  const host = member(track, url, '', mesh, { grace });
  await pollUntil([host.peer], () => host.client.getLobby() !== '', 'the lobby', TIMEOUT_MS);
  const lobby = host.client.getLobby();
  const members = [host];
  for (let n = 2; n < count; n++) members.push(member(track, url, lobby, mesh, { grace }));
  const conditioner = new NetworkConditioner({ seed: 31 });
  track(conditioner);
  const proxy = await startTcpProxy(Number(new URL(url).port));
  track(proxy);
  const cut = member(track, `ws://127.0.0.1:${proxy.port}`, lobby, mesh, { grace, conditioner });
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
export class Streams {
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

