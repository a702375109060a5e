import { describe, expect, it } from 'vitest';
import { ChannelState, type ChannelConfig, TransferMode, WebRTCMultiplayerPeer } from '../../src/index.js';
import { RELIABLE_BATCH_BUDGET } from '../../src/mesh/framing.js';
import { LaneScheduler, type ScheduledLane } from '../../src/mesh/lane-scheduler.js';
import { DEFAULT_RELIABLE_QUEUE_BYTES } from '../../src/transport/backend.js';
import { expectRtcError } from '../support/errors.js';
import { type Track, closeWithTest } from '../support/close-after-each.js';
import { drain, makeGroup } from '../support/mesh.js';
import { pollUntil } from '../support/poll.js';
import { wirePair } from '../support/transport-pair.js';

describe('lanes: channelsConfig entries with a priority and weight', () => {
  it('takes TransferModes and { mode, priority, weight } objects, and refuses anything else', () => {
    const peer = new WebRTCMultiplayerPeer();
    const bad: unknown[] = [
      [7],
      [{ mode: 9 }],
      [{ mode: TransferMode.Reliable, priority: 0.5 }],
      [{ mode: TransferMode.Reliable, priority: 1001 }],
      [{ mode: TransferMode.Reliable, weight: 0 }],
      [{ mode: TransferMode.Reliable, weight: 1001 }],
      [null],
    ];
    for (const config of bad) expectRtcError(() => peer.createMesh(1, config as ChannelConfig[]), 'ERR_INVALID_PARAMETER');
    peer.createMesh(1, [TransferMode.Unreliable, { mode: TransferMode.Reliable, priority: -1, weight: 3 }, { mode: TransferMode.Reliable }]);
    peer.close();
    expectRtcError(() => new WebRTCMultiplayerPeer({ stateConnection: 1 as unknown as boolean }), 'ERR_INVALID_PARAMETER');
  });

  it('the scheduler serves priorities from the highest down, and shares a priority by weight', () => {
    const lane = (priority: number, weight: number, waiting: number) => ({ spec: { priority, weight }, credit: 0, waiting, sent: 0 });
    const low = lane(-1, 1, 1_000_000);
    const light = lane(0, 1, 1_000_000);
    const heavy = lane(0, 3, 1_000_000);
    const urgent = lane(5, 1, 40_000);
    const lanes = [low, light, heavy, urgent];
    const scheduler = new LaneScheduler<ScheduledLane & (typeof lanes)[number]>(lanes);
    expect(scheduler.groups.map((group) => group.map((each) => each.spec.priority))).toEqual([[5], [0, 0], [-1]]);
    // Sends whole 1,000-byte batches, as a lane does (the last may overshoot `most`).
    const send = (each: (typeof lanes)[number], most: number): number => {
      const bytes = Math.min(each.waiting, Math.ceil(most / 1000) * 1000);
      each.waiting -= bytes;
      each.sent += bytes;
      return bytes;
    };
    for (let flush = 0; flush < 40; flush++) {
      let room = 32_000;
      for (let index = 0; index < scheduler.groups.length; index++) room = scheduler.share(index, room, (each) => each.waiting > 0, send);
    }
    expect(urgent.sent).toBe(40_000);
    expect(low.sent).toBe(0);
    expect(heavy.sent / light.sent).toBeGreaterThan(2.5);
    expect(heavy.sent / light.sent).toBeLessThan(3.5);
  });
});

/**
 * The most 1 KiB packets one flush of a fresh pair hands the engine: the reliable allowance, plus
 * the batch that may overshoot it.
 */
const FIRST_FLUSH_PACKETS = (DEFAULT_RELIABLE_QUEUE_BYTES + RELIABLE_BATCH_BUDGET) / 1024;

// Each test has peers of its own and mostly waits on their links: they run side by side.
describe.concurrent('lanes on a real pair', () => {
  /**
   * Puts 2 MiB on extra channel 1 and then one packet on channel 0, in one tick, and flushes once;
   * returns how much of the bulk had arrived by the poll that read that packet.
   */
  async function bulkBeforeMarker(track: Track, bulkPriority: number): Promise<number> {
    const group = track(makeGroup(2, { channels: [{ mode: TransferMode.Reliable, priority: bulkPriority }] }));
    const [receiver, sender] = [group.byId(1), group.byId(2)];
    await group.pollUntil(() => receiver.connected.length === 1 && sender.connected.length === 1, 'the pair');
    const chunk = new Uint8Array(1024);
    sender.peer.transferMode = TransferMode.Reliable;
    sender.peer.transferChannel = 1;
    for (let n = 0; n < 2048; n++) expect(sender.peer.putPacket(chunk)).toBe(true);
    sender.peer.transferChannel = 0;
    sender.peer.putPacket(new Uint8Array([42]));
    sender.peer.flush();
    let bulk = 0;
    let before = -1;
    const read = (): boolean => {
      // Within one poll, channel 0 is read first whatever arrived first: count the poll's bulk too.
      const packets = drain(receiver.peer);
      bulk += packets.filter((packet) => packet.channel === 1).length;
      if (packets.some((packet) => packet.channel === 0)) before = bulk;
      return before >= 0 && bulk === 2048;
    };
    if (bulkPriority < 0) {
      // The marker goes ahead of the bulk, so it leaves in this flush: only the receiver polls until
      // it is read, and the sender hands nothing more meanwhile, so what was read with the marker is
      // bounded by what that one flush let through, however slowly this machine runs.
      await pollUntil([receiver.peer], () => read() || before >= 0, 'the marker, from the first flush');
    }
    await group.pollUntil(read, 'the bulk and the marker', 20_000);
    return before;
  }

  it('a higher-priority channel goes ahead of a lower one\'s backlog, and waits behind a higher one\'s', async (context) => {
    const track = closeWithTest(context);
    // Ahead of the backlog: it leaves in the first flush, with at most that flush's share of the bulk.
    expect(await bulkBeforeMarker(track, -1)).toBeLessThanOrEqual(FIRST_FLUSH_PACKETS);
    expect(await bulkBeforeMarker(track, 1)).toBe(2048);
  });

  it('with stateConnection on both sides, peers connect and every channel carries traffic both ways', async (context) => {
    const group = closeWithTest(context)(makeGroup(2, { meshOptions: { stateConnection: true } }));
    const [one, two] = [group.byId(1), group.byId(2)];
    await group.pollUntil(() => one.connected.length === 1 && two.connected.length === 1, 'the pair with state connections');
    const got: Record<number, Set<TransferMode>> = { 1: new Set(), 2: new Set() };
    await group.pollUntil(() => {
      for (const [self, other] of [[one, two], [two, one]] as const) {
        for (const mode of [TransferMode.Reliable, TransferMode.UnreliableOrdered, TransferMode.Unreliable]) {
          self.peer.transferMode = mode;
          self.peer.putPacket(new Uint8Array([mode]));
        }
        for (const packet of drain(other.peer)) got[other.id]!.add(packet.mode);
      }
      return got[1]!.size === 3 && got[2]!.size === 3 && !Number.isNaN(one.peer.getPeerStats(2).rttMs);
    }, 'traffic on every channel');
    expect(one.disconnected).toEqual([]);
  });

  it('a peer whose remote has no state connection connects without one, after the setup time', async (context) => {
    const group = closeWithTest(context)(makeGroup(2, { manualLinks: true }));
    const withLink = new WebRTCMultiplayerPeer({ stateConnection: true });
    withLink.createMesh(1);
    const connected: number[] = [];
    withLink.on('peerConnected', (id) => connected.push(id));
    // Member 1 replaced by a peer with the option; member 2 has none.
    group.members[0]!.peer.close();
    group.members[0]!.peer = withLink;
    group.link(1, 2);
    const other = group.byId(2);
    await group.pollUntil(() => connected.length === 1 && other.connected.length === 1, 'both sides connected', 15_000);
    other.peer.transferMode = TransferMode.Unreliable;
    let arrived = 0;
    await group.pollUntil(() => {
      other.peer.putPacket(new Uint8Array(8));
      arrived += drain(withLink).length;
      return arrived > 0;
    }, 'unreliable traffic on the main connection');
  }, 30_000);

  it('a remote that sends junk for the state connection\'s negotiation: counted, and the peer connects without it', async () => {
    const pair = wirePair();
    const peer = new WebRTCMultiplayerPeer({ stateConnection: true });
    try {
      peer.createMesh(1);
      peer.addPeer(pair.b, 2);
      // A hand-made remote: the layout's channels, and the negotiation channel with junk on it.
      const unreliable = { negotiated: true, ordered: false, maxRetransmits: 0 };
      pair.a.createDataChannel('system', { ...unreliable, id: 0 });
      const reliable = pair.a.createDataChannel('reliable', { negotiated: true, id: 1 });
      pair.a.createDataChannel('ordered', { ...unreliable, id: 2 });
      pair.a.createDataChannel('unreliable', { ...unreliable, id: 3 });
      const signal = pair.a.createDataChannel('state-signal', { negotiated: true, id: 1023 });
      pair.a.createOffer();
      let junkSent = false;
      const connected: number[] = [];
      peer.on('peerConnected', (id) => connected.push(id));
      await pollUntil([pair.a, peer], () => {
        if (!junkSent && signal.getReadyState() === ChannelState.Open) {
          signal.putPacket(new TextEncoder().encode('{"type":"answer","sdp":'));
          junkSent = true;
        }
        return connected.length === 1;
      }, 'the peer, connected without a state connection');
      expect(peer.getPeerStats(2).dropped.malformed).toBe(1);
      // One record of 3 bytes on the reliable channel: rtcmesh's framing, no header.
      reliable.putPacket(new Uint8Array([3, 7, 8, 9]));
      const got: Uint8Array[] = [];
      await pollUntil([pair.a, peer], () => {
        for (let packet = peer.getPacket(); packet; packet = peer.getPacket()) got.push(packet);
        return got.length === 1;
      }, 'the reliable packet');
      expect([...got[0]!]).toEqual([7, 8, 9]);
    } finally {
      peer.close();
      pair.close();
    }
  });
});
