import { type Backend, type ChannelConfig, PeerConnection, type PeerConnectionConfig, TransferMode, WebRTCMultiplayerPeer, type MeshOptions } from '../../src/index.js';
import { pollUntil } from './poll.js';
import { LOOPBACK_CONFIG } from './transport-pair.js';

/** One member of an in-memory-brokered group of WebRTCMultiplayerPeers. */
export interface Member {
  id: number;
  peer: WebRTCMultiplayerPeer;
  /** Ids seen in peerConnected / peerDisconnected, in order. */
  connected: number[];
  disconnected: number[];
}

/** A group of peers whose signaling is brokered in memory, the way a signaling server would. */
export interface Group {
  members: Member[];
  byId(id: number): Member;
  /** Polls every member until `done()`. */
  pollUntil(done: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Connects `a` and `b` (ids): a PeerConnection on each side, the higher id offers. */
  link(a: number, b: number, lifetime?: number): void;
  close(): void;
}

export interface GroupOptions {
  topology?: 'mesh' | 'server';
  channels?: ChannelConfig[];
  meshOptions?: MeshOptions;
  peerConfig?: PeerConnectionConfig;
  /** The engine every connection runs on. Default: the default backend. */
  backend?: Backend;
  /** Leave the links to the test (default: every pair the topology has, linked at once). */
  manualLinks?: boolean;
}

/**
 * Makes `count` WebRTCMultiplayerPeers with ids 1..count. In a mesh every pair is linked; in a
 * server topology 1 is the server and every other id a client linked to it only.
 */
export function makeGroup(count: number, options: GroupOptions = {}): Group {
  const topology = options.topology ?? 'mesh';
  const members: Member[] = [];
  for (let id = 1; id <= count; id++) {
    const peer = new WebRTCMultiplayerPeer(options.meshOptions);
    if (topology === 'mesh') peer.createMesh(id, options.channels);
    else if (id === 1) peer.createServer(options.channels);
    else peer.createClient(id, options.channels);
    const member: Member = { id, peer, connected: [], disconnected: [] };
    peer.on('peerConnected', (other) => member.connected.push(other));
    peer.on('peerDisconnected', (other) => member.disconnected.push(other));
    members.push(member);
  }
  const byId = (id: number): Member => members.find((member) => member.id === id)!;
  const link = (a: number, b: number, lifetime?: number): void => {
    const pcs = new Map<number, PeerConnection>();
    for (const [self, other] of [[a, b], [b, a]] as const) {
      const pc = new PeerConnection(options.backend);
      pc.initialize({ ...LOOPBACK_CONFIG, ...options.peerConfig });
      pcs.set(self, pc);
      byId(self).peer.addPeer(pc, other, lifetime);
    }
    for (const [self, other] of [[a, b], [b, a]] as const) {
      const local = pcs.get(self)!;
      const remote = pcs.get(other)!;
      local.on('sessionDescriptionCreated', (type, sdp) => {
        local.setLocalDescription(type, sdp);
        remote.setRemoteDescription(type, sdp);
      });
      local.on('iceCandidateCreated', (media, index, name) => remote.addIceCandidate(media, index, name));
    }
    pcs.get(Math.max(a, b))!.createOffer();
  };
  if (!options.manualLinks) {
    for (let a = 1; a <= count; a++) {
      for (let b = a + 1; b <= count; b++) if (topology === 'mesh' || a === 1) link(a, b);
    }
  }
  return {
    members,
    byId,
    link,
    pollUntil: (done, what, timeoutMs) => pollUntil(members.map((member) => member.peer), done, what, timeoutMs),
    close() {
      for (const member of members) member.peer.close();
    },
  };
}

/** Reads every packet a peer has, with what getPacketPeer/Channel/Mode said before each. */
export function drain(peer: WebRTCMultiplayerPeer): Array<{ from: number; channel: number; mode: TransferMode; data: Uint8Array }> {
  const packets = [];
  while (peer.getAvailablePacketCount() > 0) {
    const from = peer.getPacketPeer();
    const channel = peer.getPacketChannel();
    const mode = peer.getPacketMode();
    packets.push({ from, channel, mode, data: peer.getPacket()! });
  }
  return packets;
}
