import { describe, expect, it } from 'vitest';
import { TransferMode } from '../../src/index.js';
import { type Group, drain, makeGroup } from '../support/mesh.js';
import { closeAfterEach } from '../support/close-after-each.js';

const track = closeAfterEach();
const group = (...args: Parameters<typeof makeGroup>): Group => track(makeGroup(...args));

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('WebRTCMultiplayerPeer in a mesh of four', () => {
  it('connects every pair: each peer sees three peerConnected events', async () => {
    const g = group(4, { channels: [TransferMode.Reliable, TransferMode.Unreliable] });
    await g.pollUntil(() => g.members.every((m) => m.connected.length === 3), 'a full mesh');
    for (const member of g.members) {
      expect(member.connected.sort()).toEqual([1, 2, 3, 4].filter((id) => id !== member.id));
    }
  });

  it('delivers broadcast, one-target and all-but-one packets to exactly the right peers', async () => {
    const g = group(4);
    await g.pollUntil(() => g.members.every((m) => m.connected.length === 3), 'a full mesh');
    const sender = g.byId(1).peer;
    sender.setTargetPeer(0);
    sender.putPacket(bytes(0));
    sender.setTargetPeer(3);
    sender.putPacket(bytes(3));
    sender.setTargetPeer(-2);
    sender.putPacket(bytes(2));
    const got = new Map<number, number[]>([[2, []], [3, []], [4, []]]);
    await g.pollUntil(() => {
      for (const id of [2, 3, 4]) for (const p of drain(g.byId(id).peer)) got.get(id)!.push(p.data[0]!);
      return got.get(2)!.length + got.get(3)!.length + got.get(4)!.length === 3 + 1 + 2;
    }, 'every packet');
    expect(got.get(2)).toEqual([0]);
    expect(got.get(3)).toEqual([0, 3, 2]);
    expect(got.get(4)).toEqual([0, 2]);
  });
});

describe('WebRTCMultiplayerPeer channels', () => {
  it('reports the peer, transfer channel and mode of each packet on the three default and two extra channels', async () => {
    const g = group(2, { channels: [TransferMode.Reliable, TransferMode.UnreliableOrdered] });
    await g.pollUntil(() => g.members.every((m) => m.connected.length === 1), 'a connected pair');
    const sender = g.byId(2).peer;
    const sends: Array<[channel: number, mode: TransferMode]> = [
      [0, TransferMode.Reliable],
      [0, TransferMode.UnreliableOrdered],
      [0, TransferMode.Unreliable],
      [1, TransferMode.Reliable],
      [2, TransferMode.UnreliableOrdered],
    ];
    sends.forEach(([channel, mode], n) => {
      sender.transferChannel = channel;
      sender.transferMode = mode;
      expect(sender.putPacket(bytes(n))).toBe(true);
    });
    const got: ReturnType<typeof drain> = [];
    await g.pollUntil(() => {
      got.push(...drain(g.byId(1).peer));
      return got.length === sends.length;
    }, 'a packet on every channel');
    const byValue = new Map(got.map((p) => [p.data[0]!, p]));
    sends.forEach(([channel, mode], n) => {
      expect(byValue.get(n)).toMatchObject({ from: 2, channel, mode });
    });
  });

  it('creates the data channels with Godot ids and options, unreliable ones never retransmitting', async () => {
    const g = group(2, { channels: [TransferMode.Unreliable, TransferMode.Reliable] });
    await g.pollUntil(() => g.members.every((m) => m.connected.length === 1), 'a connected pair');
    const channels = g.byId(1).peer.getPeer(2).channels;
    expect(channels.map((c) => c.getId())).toEqual([1, 2, 3, 4, 5]);
    expect(channels.map((c) => c.isNegotiated())).toEqual([true, true, true, true, true]);
    // UnreliableOrdered rides an unordered SCTP channel: rtcmesh orders it by sequence number.
    expect(channels.map((c) => c.isOrdered())).toEqual([true, false, false, false, true]);
    expect(channels.map((c) => c.getMaxRetransmits())).toEqual([65535, 0, 0, 0, 65535]);
    expect(channels.map((c) => c.getMaxPacketLifeTime())).toEqual([65535, 65535, 65535, 65535, 65535]);
    expect(g.byId(1).peer.getPeer(2).connected).toBe(true);
  });

  it('keeps reliable order across batches and delivers every packet of a burst', async () => {
    const g = group(2);
    await g.pollUntil(() => g.members.every((m) => m.connected.length === 1), 'a connected pair');
    const sender = g.byId(2).peer;
    const sizes = [0, 1, 100, 1149, 1150, 5000, 16384, 70000, 3, 0];
    const sent: Uint8Array[] = [];
    const got: Uint8Array[] = [];
    const collect = (): number => {
      for (const p of drain(g.byId(1).peer)) got.push(p.data);
      return got.length;
    };
    for (let n = 0; n < 2000; n++) {
      const size = sizes[n % sizes.length]!;
      const packet = Uint8Array.from({ length: size + 4 }, (_, i) => (i < 4 ? (n >> (8 * i)) & 0xff : (n + i) & 0xff));
      sent.push(packet);
      expect(sender.putPacket(packet)).toBe(true);
      if (n % 200 === 199) await g.pollUntil(() => collect() > n - 200, 'the receiver to catch up');
    }
    await g.pollUntil(() => collect() === sent.length, 'every packet', 20_000);
    expect(got.every((packet, n) => Buffer.compare(packet, sent[n]!) === 0)).toBe(true);
    const stats = g.byId(2).peer.getPeerStats(1);
    expect(stats.channels[0]!.packetsSent).toBe(2000);
    expect(stats.messagesSent).toBeLessThan(2000);
  });

  it('sends every packet as its own message when batching is off', async () => {
    const g = group(2, { meshOptions: { batching: false } });
    await g.pollUntil(() => g.members.every((m) => m.connected.length === 1), 'a connected pair');
    const sender = g.byId(2).peer;
    for (let n = 0; n < 50; n++) sender.putPacket(bytes(n));
    const got: number[] = [];
    await g.pollUntil(() => {
      for (const p of drain(g.byId(1).peer)) got.push(p.data[0]!);
      return got.length === 50;
    }, 'every packet');
    expect(got).toEqual([...Array(50).keys()]);
    expect(sender.getPeerStats(1).messagesSent).toBe(50);
  });

  it('lets the caller reuse its buffer right after putPacket', async () => {
    const g = group(2);
    await g.pollUntil(() => g.members.every((m) => m.connected.length === 1), 'a connected pair');
    const buffer = new Uint8Array(1);
    for (let n = 0; n < 10; n++) {
      buffer[0] = n;
      g.byId(2).peer.putPacket(buffer);
    }
    const got: number[] = [];
    await g.pollUntil(() => {
      for (const p of drain(g.byId(1).peer)) got.push(p.data[0]!);
      return got.length === 10;
    }, 'every packet');
    expect(got).toEqual([...Array(10).keys()]);
  });

  it('visits peers round-robin, and within a peer the lowest channel first', async () => {
    const g = group(3);
    await g.pollUntil(() => g.members.every((m) => m.connected.length === 2), 'a full mesh');
    for (const id of [2, 3]) {
      const sender = g.byId(id).peer;
      sender.setTargetPeer(1);
      sender.transferMode = TransferMode.Unreliable;
      sender.putPacket(bytes(id, 3));
      sender.putPacket(bytes(id, 3));
      sender.transferMode = TransferMode.Reliable;
      sender.putPacket(bytes(id, 1));
      sender.putPacket(bytes(id, 1));
    }
    const receiver = g.byId(1).peer;
    await g.pollUntil(() => receiver.getAvailablePacketCount() === 8, 'eight packets');
    const order = drain(receiver).map((p) => `${p.from}:${p.data[1]}`);
    const fromFirst = order.filter((_, n) => n % 2 === 0);
    const fromSecond = order.filter((_, n) => n % 2 === 1);
    expect(new Set(fromFirst.map((x) => x[0])).size).toBe(1);
    expect(new Set(fromSecond.map((x) => x[0])).size).toBe(1);
    expect(fromFirst.map((x) => x.slice(2))).toEqual(['1', '1', '3', '3']);
    expect(fromSecond.map((x) => x.slice(2))).toEqual(['1', '1', '3', '3']);
  });

  it('measures round-trip time and clock offset through the keepalive', async () => {
    const g = group(2, { meshOptions: { keepaliveIntervalMs: 20 } });
    await g.pollUntil(() => g.members.every((m) => m.connected.length === 1), 'a connected pair');
    await g.pollUntil(() => !Number.isNaN(g.byId(1).peer.getPeerStats(2).rttMs), 'a round-trip sample');
    const stats = g.byId(1).peer.getPeerStats(2);
    expect(stats.rttMs).toBeGreaterThan(0);
    // Same process, same clock: the estimated offset is within the round trip.
    expect(Math.abs(stats.clockOffsetMs)).toBeLessThanOrEqual(Math.max(stats.rttMs, 5));
    expect(stats.connected).toBe(true);
  });
});
