/**
 * Setups through signaling, as a game makes them: a SignalingServer on loopback, a host that opens
 * a lobby, and a guest that joins it; timed from the guest's connect() until both sides have
 * peerConnected, each peer polled by a loop of its own. The host's lobby is made before the clock
 * starts; every setup has a host and a guest of its own.
 */
import { SignalingClient, SignalingServer, type WebRTCMultiplayerPeer } from '../../src/index.js';
import { LOOPBACK_HOST } from '../../src/cli/loopback.js';
import { loopUntil, now } from '../loop.js';
import { SETUP_TIMEOUT_MS, type Setups, type SignalingSetupCase, summarizeSetups } from './case-types.js';
import { TurnLoop } from './turn-loop.js';

interface Side {
  client: SignalingClient;
  loop: TurnLoop;
  connected: boolean;
  lobby: string | null;
}

function side(url: string, lobby?: string): Side {
  const client = new SignalingClient({ url, peerConfig: { bindAddress: LOOPBACK_HOST }, ...(lobby ? { lobby } : {}) });
  const peer: WebRTCMultiplayerPeer = client.multiplayerPeer;
  const made: Side = { client, loop: new TurnLoop(() => peer.poll()), connected: false, lobby: null };
  client.on('lobbyJoined', (joined) => (made.lobby = joined));
  peer.on('peerConnected', () => (made.connected = true));
  client.connect();
  return made;
}

async function close(sides: readonly Side[]): Promise<void> {
  for (const one of sides) {
    await one.loop.stop();
    one.client.close();
  }
}

async function oneSetup(url: string): Promise<number> {
  const host = side(url);
  const sides = [host];
  try {
    await loopUntil(() => host.lobby !== null, 'the host to open a lobby', SETUP_TIMEOUT_MS);
    const start = now();
    const guest = side(url, host.lobby!);
    sides.push(guest);
    await loopUntil(() => host.connected && guest.connected, 'the pair to connect through signaling', SETUP_TIMEOUT_MS);
    return now() - start;
  } finally {
    await close(sides);
  }
}

/** Times `settings.setups` setups through signaling, after one that warms the engine up. */
export async function signalingSetups(settings: SignalingSetupCase): Promise<Setups> {
  const server = new SignalingServer({ host: LOOPBACK_HOST, port: 0 });
  const { url } = await server.listen();
  try {
    await oneSetup(url);
    const times: number[] = [];
    let failed = 0;
    for (let n = 0; n < settings.setups; n++) {
      try {
        times.push(await oneSetup(url));
      } catch {
        failed++;
      }
    }
    return summarizeSetups(times, failed);
  } finally {
    await server.close();
  }
}
