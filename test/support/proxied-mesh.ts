import { type MeshOptions, PeerConnection, type TransferMode, WebRTCMultiplayerPeer } from '../../src/index.js';
import { LossyProxy, type LossyProxyOptions, type Side, parseCandidate, rewriteCandidate } from './lossy-proxy.js';
import { pollUntil } from './poll.js';
import { LOOPBACK_CONFIG } from './transport-pair.js';

/** Two rtcmesh peers whose every datagram crosses a lossy proxy. */
export interface ProxiedMesh {
  /** Peer 2: it offers. */
  a: WebRTCMultiplayerPeer;
  /** Peer 1. */
  b: WebRTCMultiplayerPeer;
  proxy: LossyProxy;
  /** Ids each side saw leave, in order. */
  disconnected: { a: number[]; b: number[] };
  pollUntil(done: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ProxiedMeshOptions {
  proxy?: LossyProxyOptions;
  meshOptions?: MeshOptions;
  channels?: TransferMode[];
  unreliableLifetime?: number;
}

/**
 * Connects two WebRTCMultiplayerPeers (ids 2 and 1) through a LossyProxy on a clean link:
 * each side's candidates are rewritten to the proxy port that stands for it, so no direct path
 * exists. Set the proxy's conditions once this resolves.
 */
export async function connectThroughProxy(options: ProxiedMeshOptions = {}): Promise<ProxiedMesh> {
  const proxy = await LossyProxy.create(options.proxy);
  const peers = { a: new WebRTCMultiplayerPeer(options.meshOptions), b: new WebRTCMultiplayerPeer(options.meshOptions) };
  peers.a.createMesh(2, options.channels);
  peers.b.createMesh(1, options.channels);
  const connections = { a: new PeerConnection(), b: new PeerConnection() };
  const disconnected = { a: [] as number[], b: [] as number[] };
  for (const side of ['a', 'b'] as const) {
    connections[side].initialize(LOOPBACK_CONFIG);
    peers[side].addPeer(connections[side], side === 'a' ? 1 : 2, options.unreliableLifetime);
    peers[side].on('peerDisconnected', (id) => disconnected[side].push(id));
  }
  for (const side of ['a', 'b'] as const) {
    const other: Side = side === 'a' ? 'b' : 'a';
    const local = connections[side];
    const remote = connections[other];
    local.on('sessionDescriptionCreated', (type, sdp) => {
      local.setLocalDescription(type, sdp);
      remote.setRemoteDescription(type, sdp);
    });
    local.on('iceCandidateCreated', (media, index, name) => {
      const parsed = parseCandidate(name);
      if (!parsed || parsed.transport !== 'udp' || parsed.address !== '127.0.0.1') return;
      proxy.registerPeer(side, parsed);
      remote.addIceCandidate(media, index, rewriteCandidate(name, proxy.portFor(side)));
    });
  }
  connections.a.createOffer();
  const poll = (done: () => boolean, what: string, timeoutMs?: number): Promise<void> =>
    pollUntil([peers.a, peers.b], done, what, timeoutMs);
  const close = async (): Promise<void> => {
    peers.a.close();
    peers.b.close();
    await proxy.close();
  };
  try {
    await poll(() => peers.a.getPeers().get(1)?.connected === true && peers.b.getPeers().get(2)?.connected === true, 'the proxied pair', 15_000);
  } catch (error) {
    await close();
    throw error;
  }
  return { ...peers, proxy, disconnected, pollUntil: poll, close };
}
