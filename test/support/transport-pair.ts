import { type Backend, PeerConnection, type PeerConnectionConfig } from '../../src/index.js';
import { ConnectionState } from '../../src/transport/states.js';
import { LOOPBACK_HOST } from '../../src/cli/loopback.js';
import { pollUntil } from './poll.js';

/** Every test connection stays on loopback. */
export const LOOPBACK_CONFIG: PeerConnectionConfig = { bindAddress: LOOPBACK_HOST };

/** Two connections whose signaling is wired to each other in memory. */
export interface TransportPair {
  a: PeerConnection;
  b: PeerConnection;
  /** Polls both until `done()`. */
  pollUntil(done: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

/**
 * Makes two loopback PeerConnections and relays descriptions and candidates between them
 * through their events only, as a signaling server would. `a` is the side that offers, on
 * `backendOfA` when given (a conditioner's), else on the default backend; `b` on `backendOfB`
 * when given, else on the default backend.
 */
export function wirePair(config: PeerConnectionConfig = {}, backendOfA?: Backend, backendOfB?: Backend): TransportPair {
  const a = new PeerConnection(backendOfA);
  const b = new PeerConnection(backendOfB);
  a.initialize({ ...LOOPBACK_CONFIG, ...config });
  b.initialize({ ...LOOPBACK_CONFIG, ...config });
  for (const [local, remote] of [
    [a, b],
    [b, a],
  ] as const) {
    local.on('sessionDescriptionCreated', (type, sdp) => {
      local.setLocalDescription(type, sdp);
      remote.setRemoteDescription(type, sdp);
    });
    local.on('iceCandidateCreated', (media, index, name) => remote.addIceCandidate(media, index, name));
  }
  return {
    a,
    b,
    pollUntil: (done, what, timeoutMs) => pollUntil([a, b], done, what, timeoutMs),
    close() {
      a.close();
      b.close();
    },
  };
}

/** Offers from `a` and polls until both sides are Connected. */
export async function connectPair(pair: TransportPair): Promise<void> {
  pair.a.createOffer();
  await pair.pollUntil(
    () => pair.a.getConnectionState() === ConnectionState.Connected && pair.b.getConnectionState() === ConnectionState.Connected,
    'both sides to connect',
  );
}
