import {
  type MeshOptions,
  NetworkConditioner,
  type NetworkConditionerOptions,
  PeerConnection,
  type TransferMode,
  WebRTCMultiplayerPeer,
} from '../../src/index.js';
import { pollUntil } from './poll.js';
import { LOOPBACK_CONFIG, type TransportPair, wirePair } from './transport-pair.js';

/** Two rtcmesh peers whose every datagram crosses a NetworkConditioner on peer 2's connection. */
export interface ProxiedMesh {
  /** Peer 2: it offers, and its connection is the conditioned one ('outgoing' is a → b). */
  a: WebRTCMultiplayerPeer;
  /** Peer 1. */
  b: WebRTCMultiplayerPeer;
  conditioner: NetworkConditioner;
  /** Ids each side saw leave, in order. */
  disconnected: { a: number[]; b: number[] };
  pollUntil(done: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ProxiedMeshOptions {
  conditioner?: NetworkConditionerOptions;
  meshOptions?: MeshOptions;
  channels?: TransferMode[];
  unreliableLifetime?: number;
  /** Runs on the two peers before they connect: to put a MultiplayerAPI on each, say. */
  beforeConnect?: (peers: { a: WebRTCMultiplayerPeer; b: WebRTCMultiplayerPeer }) => void;
}

/**
 * Connects two WebRTCMultiplayerPeers (ids 2 and 1) on a clean link, peer 2's connection made on
 * a NetworkConditioner's backend, so no direct path exists. Set the conditions once this resolves.
 */
export async function connectThroughProxy(options: ProxiedMeshOptions = {}): Promise<ProxiedMesh> {
  const conditioner = new NetworkConditioner(options.conditioner);
  const peers = { a: new WebRTCMultiplayerPeer(options.meshOptions), b: new WebRTCMultiplayerPeer(options.meshOptions) };
  peers.a.createMesh(2, options.channels);
  peers.b.createMesh(1, options.channels);
  options.beforeConnect?.(peers);
  const connections = { a: new PeerConnection(conditioner.backend), b: new PeerConnection() };
  const disconnected = { a: [] as number[], b: [] as number[] };
  for (const side of ['a', 'b'] as const) {
    connections[side].initialize(LOOPBACK_CONFIG);
    peers[side].addPeer(connections[side], side === 'a' ? 1 : 2, options.unreliableLifetime);
    peers[side].on('peerDisconnected', (id) => disconnected[side].push(id));
  }
  for (const [local, remote] of [
    [connections.a, connections.b],
    [connections.b, connections.a],
  ] as const) {
    local.on('sessionDescriptionCreated', (type, sdp) => {
      local.setLocalDescription(type, sdp);
      remote.setRemoteDescription(type, sdp);
    });
    local.on('iceCandidateCreated', (media, index, name) => remote.addIceCandidate(media, index, name));
  }
  connections.a.createOffer();
  const poll = (done: () => boolean, what: string, timeoutMs?: number): Promise<void> =>
    pollUntil([peers.a, peers.b], done, what, timeoutMs);
  const close = async (): Promise<void> => {
    peers.a.close();
    peers.b.close();
    await conditioner.close();
  };
  try {
    await poll(() => peers.a.getPeers().get(1)?.connected === true && peers.b.getPeers().get(2)?.connected === true, 'the proxied pair', 15_000);
  } catch (error) {
    await close();
    throw error;
  }
  return { ...peers, conditioner, disconnected, pollUntil: poll, close };
}

/**
 * Resumes the pair's sessions on new connections (peer 2's through the conditioner again): each
 * side replaces its connection, and peer 2 offers. Close the pair returned when done.
 */
export function resumeThroughProxy(mesh: ProxiedMesh): TransportPair {
  const pair = wirePair({}, mesh.conditioner.backend);
  mesh.a.replacePeerConnection(1, pair.a);
  mesh.b.replacePeerConnection(2, pair.b);
  pair.a.createOffer();
  return pair;
}
