import { describe, expect, it } from 'vitest';
import { PER_PACKET_OVERHEAD_BYTES } from '../../src/transport/bounded-queue.js';
import { TransferMode } from '../../src/index.js';
import { type Group, makeGroup } from '../support/mesh.js';
import { pollUntil } from '../support/poll.js';
import { closeAfterEach } from '../support/close-after-each.js';

const track = closeAfterEach();

const RECEIVE_LIMIT = 256 * 1024;
const PACKET = 1024;

async function floodedPair(): Promise<Group> {
  const g = makeGroup(2, { meshOptions: { receiveLimitBytes: RECEIVE_LIMIT, keepaliveIntervalMs: 50 } });
  track(g);
  await g.pollUntil(() => g.members.every((m) => m.connected.length === 1), 'a connected pair');
  return g;
}

describe('a flood from one peer', () => {
  it('leaves the receiver bounded and responsive, with the drops in its stats', async () => {
    const g = await floodedPair();
    const [receiver, flooder] = [g.byId(1).peer, g.byId(2).peer];
    flooder.transferMode = TransferMode.Unreliable;
    const packet = new Uint8Array(PACKET);
    let put = 0;
    const firstRtt = receiver.getPeerStats(2).rttMs;
    await pollUntil([receiver, flooder], () => {
      for (let n = 0; n < 500; n++) if (flooder.putPacket(packet)) put++;
      return put >= 20_000;
    }, 'the flood to be put', 20_000);
    // The receiver polls on but never reads: its queue must stop at the limit.
    await pollUntil([receiver, flooder], () => receiver.getPeerStats(2).dropped.receiveQueueFull > 0, 'drops at the receiver');
    const stats = receiver.getPeerStats(2);
    expect(receiver.getAvailablePacketCount() * (PACKET + PER_PACKET_OVERHEAD_BYTES)).toBeLessThanOrEqual(RECEIVE_LIMIT);
    // The channel's drop count holds these and any other drop on it (a slow poll can make packets stale).
    expect(stats.channels[2]!.packetsDropped).toBeGreaterThanOrEqual(stats.dropped.receiveQueueFull);
    expect(stats.connected).toBe(true);
    // Keepalives still flow both ways: the round trip keeps being measured.
    await pollUntil([receiver, flooder], () => receiver.getPeerStats(2).rttMs !== firstRtt, 'a fresh round-trip sample');
    expect(receiver.getPacket()).toHaveLength(PACKET);
  });

  it('of reliable data past the receive limit drops that peer instead of losing a packet silently', async () => {
    const g = await floodedPair();
    const [receiver, flooder] = [g.byId(1).peer, g.byId(2).peer];
    const packet = new Uint8Array(PACKET);
    await pollUntil([receiver, flooder], () => {
      for (let n = 0; n < 100; n++) flooder.putPacket(packet);
      return g.byId(1).disconnected.length === 1;
    }, 'the receiver to drop the flooder', 20_000);
    expect(g.byId(1).disconnected).toEqual([2]);
    expect(receiver.getAvailablePacketCount()).toBe(0);
  });

  it('refuses reliable sends once the per-peer limit is buffered, and counts them', async () => {
    const g = makeGroup(2, { meshOptions: { reliableBufferLimitBytes: 64 * 1024 } });
    track(g);
    await g.pollUntil(() => g.members.every((m) => m.connected.length === 1), 'a connected pair');
    const sender = g.byId(2).peer;
    let refused = 0;
    for (let n = 0; n < 200; n++) if (!sender.putPacket(new Uint8Array(PACKET))) refused++;
    expect(refused).toBeGreaterThan(0);
    expect(sender.getPeerStats(1).dropped.reliableLimit).toBe(refused);
    expect(sender.getPeerStats(1).bufferedBytes).toBeLessThanOrEqual(64 * 1024);
  });
});

describe('a remote that accepts only small messages', () => {
  it('refuses a packet larger than it accepts, counts it, and batches the rest within its size', async () => {
    const g = makeGroup(2, { peerConfig: { maxMessageSize: 4096 } });
    track(g);
    await g.pollUntil(() => g.members.every((m) => m.connected.length === 1), 'a connected pair');
    const sender = g.byId(2).peer;
    expect(sender.putPacket(new Uint8Array(5000))).toBe(false);
    expect(sender.getPeerStats(1).dropped.tooLargeForPeer).toBe(1);
    for (let n = 0; n < 100; n++) expect(sender.putPacket(new Uint8Array(1000))).toBe(true);
    let got = 0;
    await g.pollUntil(() => {
      while (g.byId(1).peer.getPacket()) got++;
      return got === 100;
    }, 'every small packet');
  });
});
