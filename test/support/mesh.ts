import type { TransferMode, WebRTCMultiplayerPeer } from '../../src/index.js';
import { type Group, type GroupOptions, makeGroup as makeBrokeredGroup } from '../../bench/broker.js';
import { pauseOneMs } from './poll.js';

export type { Group, GroupOptions, Member } from '../../bench/broker.js';

/**
 * Makes `count` WebRTCMultiplayerPeers with ids 1..count (bench/broker.ts): in a mesh every pair
 * is linked; in a server topology 1 is the server and every other id a client linked to it only.
 * Its waits poll once a millisecond, leaving the CPU to the other test files.
 */
export function makeGroup(count: number, options: GroupOptions = {}): Group {
  return makeBrokeredGroup(count, { pause: pauseOneMs, ...options });
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
