// The mesh's timing rules, on the in-memory backend and a manual clock: each is checked at the
// millisecond it falls due, which the real-engine tests can only bracket with generous waits.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_FRAMING_BYTES } from '../../src/mesh/framing.js';
import { CLOCK_SAMPLES } from '../../src/mesh/clock.js';
import { ACK_DUE_BYTES, BUSY_PING_INTERVALS, busyPingIntervals } from '../../src/mesh/remote-peer.js';
import { DataChannel } from '../../src/transport/data-channel.js';
import { type Backend, ConnectionState, MESH_OPTION_DEFAULTS, TransferMode, UNRELIABLE_LIFETIME_FLOOR_MS, type WebRTCMultiplayerPeer } from '../../src/index.js';
import { closeAfterEach } from '../support/close-after-each.js';
import { drain } from '../support/mesh.js';
import { seededRandom } from '../support/seeded-random.js';
import { FRAME_MS, type TimedGroup, connectTimed, makeTimedGroup } from '../support/timed-group.js';

const track = closeAfterEach();

function pair(options: Parameters<typeof makeTimedGroup>[1] = {}): TimedGroup {
  const group = track(makeTimedGroup(2, options));
  connectTimed(group, 1);
  return group;
}

function put(peer: WebRTCMultiplayerPeer, target: number, mode: TransferMode, packet: Uint8Array): boolean {
  peer.setTargetPeer(target);
  peer.transferMode = mode;
  return peer.putPacket(packet);
}

describe('connecting', () => {
  it('counts a peer connected once its channels are open, though the engine tells the connection Connected later', () => {
    // As Chromium may: the channels' open events come before the connection's state.
    const late: Array<() => void> = [];
    let engine: Backend | undefined;
    const telling: Backend = {
      name: 'late Connected',
      createConnection: (config, handlers) =>
        engine!.createConnection(config, {
          ...handlers,
          connectionState: (state) => (state === ConnectionState.Connected ? late.push(() => handlers.connectionState(state)) : handlers.connectionState(state)),
        }),
    };
    const group = track(makeTimedGroup(2, { offererBackend: telling, manualLinks: true }));
    engine = group.backend;
    group.link(1, 2);
    connectTimed(group, 1);
    const offerer = group.peer(2);
    expect(offerer.getPeer(1).connection.getConnectionState()).not.toBe(ConnectionState.Connected);
    expect(put(offerer, 1, TransferMode.Reliable, new Uint8Array([7]))).toBe(true);
    group.run(4 * FRAME_MS);
    expect(drain(group.peer(1)).map(({ data }) => [...data])).toEqual([[7]]);
    for (const tell of late.splice(0)) tell();
    group.run(4 * FRAME_MS);
    expect(offerer.getPeer(1).connection.getConnectionState()).toBe(ConnectionState.Connected);
    expect(group.byId(2).connected).toEqual([1]);
    expect(group.byId(2).disconnected).toEqual([]);
  });
});

describe('the keepalive timeout', () => {
  it('keeps a peer that answers however long nothing else is sent', () => {
    const group = pair();
    group.run(5 * MESH_OPTION_DEFAULTS.keepaliveTimeoutMs);
    expect(group.byId(1).disconnected).toEqual([]);
    expect(group.byId(1).peer.getPeerStats(2).silentForMs).toBeLessThan(MESH_OPTION_DEFAULTS.keepaliveIntervalMs + 2 * FRAME_MS);
  });

  it('drops a peer on the first poll after it has been silent for longer than the timeout', () => {
    const group = pair();
    const one = group.byId(1);
    let silentBefore = 0;
    let silentAtDrop = 0;
    // Peer 2 stops polling: it neither pings nor answers, and its connection stays up.
    group.run(2 * MESH_OPTION_DEFAULTS.keepaliveTimeoutMs, {
      polled: [1],
      each: () => {
        if (one.peer.hasPeer(2)) silentBefore = one.peer.getPeerStats(2).silentForMs;
        else silentAtDrop ||= silentBefore + FRAME_MS;
      },
    });
    expect(one.disconnected).toEqual([2]);
    expect(silentBefore).toBeLessThanOrEqual(MESH_OPTION_DEFAULTS.keepaliveTimeoutMs);
    expect(silentAtDrop).toBeGreaterThan(MESH_OPTION_DEFAULTS.keepaliveTimeoutMs);
  });

  it('follows the option: a shorter timeout drops sooner', () => {
    const group = pair({ meshOptions: { keepaliveTimeoutMs: 800 } });
    group.run(800 - 2 * FRAME_MS, { polled: [1] });
    expect(group.byId(1).disconnected).toEqual([]);
    group.run(4 * FRAME_MS, { polled: [1] });
    expect(group.byId(1).disconnected).toEqual([2]);
  });
});

describe('the keepalive pings', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Counts the pings (type 1) and answers (type 2) each side hands its system channel, by the side whose poll() sends them. */
  function countKeepalives(group: TimedGroup): { pings: Map<number, number>; answers: Map<number, number> } {
    const counts = { pings: new Map<number, number>(), answers: new Map<number, number>() };
    let polling = 0;
    for (const { id, peer } of group.members) {
      const poll = peer.poll.bind(peer);
      peer.poll = () => {
        polling = id;
        poll();
      };
      counts.pings.set(id, 0);
      counts.answers.set(id, 0);
    }
    const putPacket = DataChannel.prototype.putPacket;
    vi.spyOn(DataChannel.prototype, 'putPacket').mockImplementation(function (this: DataChannel, packet) {
      const kind = this.getLabel() === 'system' && typeof packet !== 'string' ? packet[0] : undefined;
      const counted = kind === 1 ? counts.pings : kind === 2 ? counts.answers : undefined;
      counted?.set(polling, counted.get(polling)! + 1);
      return putPacket.call(this, packet);
    });
    return counts;
  }

  const RUN_MS = 20_000;
  const { keepaliveIntervalMs } = MESH_OPTION_DEFAULTS;
  /** How many pings a side sends in `runMs` at one every `period`, polled once a frame. */
  const expectPingsIn = (count: number, period: number, runMs: number): void => {
    expect(count).toBeGreaterThanOrEqual(Math.floor(runMs / (period + FRAME_MS)));
    expect(count).toBeLessThanOrEqual(Math.ceil(runMs / period) + 1);
  };
  const expectPings = (count: number, period: number): void => expectPingsIn(count, period, RUN_MS);
  /** Long enough for a busy side's clock estimate to fill from a new connection, at one ping an interval and then some. */
  const SETTLED_MS = (CLOCK_SAMPLES + 4) * keepaliveIntervalMs;
  /** The busy period of the pair's two peers, ids 1 and 2. */
  const BUSY_PERIOD_MS = busyPingIntervals(1, 2) * keepaliveIntervalMs;

  it('go every interval from a side that sends nothing else, and every few intervals from one that does once its clock estimate is full', () => {
    const group = pair();
    const packet = new Uint8Array(32);
    // Peer 1 sends a packet every frame; peer 2 only answers and pings.
    const peerOneSends = { each: () => put(group.byId(1).peer, 2, TransferMode.Unreliable, packet) };
    // Until it has its CLOCK_SAMPLES answers, the busy side pings every interval all the same.
    const settling = countKeepalives(group);
    const settlingMs = (CLOCK_SAMPLES / 2) * keepaliveIntervalMs;
    group.run(settlingMs, peerOneSends);
    expectPingsIn(settling.pings.get(1)!, keepaliveIntervalMs, settlingMs);
    vi.restoreAllMocks();
    group.run(SETTLED_MS, peerOneSends);
    const { pings, answers } = countKeepalives(group);
    group.run(RUN_MS, peerOneSends);
    expectPings(pings.get(1)!, BUSY_PERIOD_MS);
    // Peer 2 pings no more often than the interval, and its answers to peer 1's pings tell peer 1
    // that it is alive as well as a ping would: with them, peer 1 hears from it every interval.
    expect(pings.get(2)!).toBeLessThanOrEqual(Math.ceil(RUN_MS / keepaliveIntervalMs) + 1);
    expect(pings.get(2)! + answers.get(2)!).toBeGreaterThanOrEqual(Math.floor(RUN_MS / (keepaliveIntervalMs + FRAME_MS)));
    expect(answers.get(2)!).toBeGreaterThan(0);
    // Neither side falls silent to the other, and the clock is still measured.
    for (const [id, other] of [[1, 2], [2, 1]] as const) {
      const stats = group.byId(id).peer.getPeerStats(other);
      expect(stats.silentForMs).toBeLessThan(keepaliveIntervalMs + 2 * FRAME_MS);
      expect(stats.rttMs).not.toBeNaN();
    }
    expect(group.byId(1).peer.getPeerStats(2).dropped.silentPeer).toBe(0);
  });

  it('go from a busy side every four intervals and a fraction its own and the peer\'s ids set, so that a server\'s pings to clients connected together do not all leave in one poll', () => {
    for (const [local, remote] of [[1, 2], [2, 1], [1, 3], [7, 1_000_000]] as const) {
      const intervals = busyPingIntervals(local, remote);
      expect(intervals).toBeGreaterThanOrEqual(BUSY_PING_INTERVALS);
      expect(intervals).toBeLessThan(BUSY_PING_INTERVALS + 1);
      // Both sides of a pair agree.
      expect(busyPingIntervals(remote, local)).toBe(intervals);
    }
    const clients = 16;
    const group = track(makeTimedGroup(clients + 1, { topology: 'server' }));
    group.runUntil(() => group.isFormed(), 'every client connecting');
    const server = group.byId(1).peer;
    const state = new Uint8Array(32);
    // The server sends every client a state every frame: busy towards all of them.
    const serverSends = {
      each: () => {
        for (let id = 2; id <= clients + 1; id++) put(server, id, TransferMode.Unreliable, state);
      },
    };
    group.run(SETTLED_MS, serverSends);
    const { pings } = countKeepalives(group);
    const perPoll: number[] = [];
    const serverPoll = server.poll.bind(server);
    server.poll = () => {
      const before = pings.get(1)!;
      serverPoll();
      perPoll.push(pings.get(1)! - before);
    };
    group.run(RUN_MS, serverSends);
    const total = perPoll.reduce((sum, count) => sum + count, 0);
    // Each client still gets its pings at its pair's period...
    expect(total).toBeGreaterThanOrEqual(clients * Math.floor(RUN_MS / ((BUSY_PING_INTERVALS + 1) * keepaliveIntervalMs + FRAME_MS)));
    expect(total).toBeLessThanOrEqual(clients * (Math.ceil(RUN_MS / (BUSY_PING_INTERVALS * keepaliveIntervalMs)) + 1));
    // ...but not all sixteen in the same poll, as when every pair had the same period.
    expect(Math.max(...perPoll)).toBeLessThanOrEqual(clients / 4);
  });

  it('go every interval from a busy side that has received a megabyte of reliable data since its last, so that the sender frees it', () => {
    /** Pings each side sends, and reliable bytes it received, while both put `bytes` of reliable data a frame to the other and read what arrives. */
    const whileBothSend = (bytes: number): Array<{ pings: number; received: number }> => {
      const group = pair();
      const packet = new Uint8Array(bytes);
      const bothSend = {
        each: () => {
          for (const [from, to] of [[1, 2], [2, 1]] as const) {
            put(group.byId(from).peer, to, TransferMode.Reliable, packet);
            drain(group.byId(to).peer);
          }
        },
      };
      group.run(SETTLED_MS, bothSend);
      const received = [[1, 2], [2, 1]].map(([id, other]) => group.byId(id!).peer.getPeerStats(other!).channels[0]!.bytesReceived);
      const { pings } = countKeepalives(group);
      group.run(RUN_MS, bothSend);
      expect(group.byId(1).disconnected).toEqual([]);
      // The next run counts afresh, on a putPacket of its own.
      vi.restoreAllMocks();
      return [[1, 2], [2, 1]].map(([id, other], n) => ({ pings: pings.get(id!)!, received: group.byId(id!).peer.getPeerStats(other!).channels[0]!.bytesReceived - received[n]! }));
    };
    // Under a megabyte a second each way: the busy interval. More: a ping whenever a megabyte has
    // come in since the last, at most one an interval.
    const frameBytes = Math.floor(ACK_DUE_BYTES / (1000 / FRAME_MS) / 2);
    for (const { pings } of whileBothSend(frameBytes)) expectPings(pings, BUSY_PERIOD_MS);
    for (const { pings, received } of whileBothSend(8 * frameBytes)) {
      // More than the busy interval's pings would acknowledge a megabyte at a time.
      expect(received).toBeGreaterThan((RUN_MS / BUSY_PERIOD_MS + 2) * ACK_DUE_BYTES);
      expect(pings).toBeGreaterThanOrEqual(Math.floor(received / ACK_DUE_BYTES));
      expect(pings).toBeLessThanOrEqual(Math.ceil(RUN_MS / keepaliveIntervalMs) + 1);
    }
  });
});

describe('the disconnect grace', () => {
  // The keepalive would drop the peer first: these look at ICE's Disconnected state alone.
  const meshOptions = { keepaliveTimeoutMs: 60_000, disconnectGraceMs: 3000 };
  const memory = { disconnectAfterMs: 1000 };

  it('drops a peer whose connection stays Disconnected for longer than the grace, not before', () => {
    const group = pair({ meshOptions, memory });
    group.backend.setConditions({ blocked: true });
    group.run(1000 + 3000 - 2 * FRAME_MS);
    expect(group.byId(1).disconnected).toEqual([]);
    group.run(4 * FRAME_MS);
    expect(group.byId(1).disconnected).toEqual([2]);
    expect(group.byId(2).disconnected).toEqual([1]);
  });

  it('keeps a peer whose connection recovers within the grace, and its reliable data arrives', () => {
    const group = pair({ meshOptions, memory });
    group.backend.setConditions({ blocked: true });
    group.run(1000 + 2000);
    expect(put(group.byId(1).peer, 2, TransferMode.Reliable, new Uint8Array([42]))).toBe(true);
    group.run(500);
    group.backend.setConditions({ blocked: false });
    let received: number[] = [];
    group.run(5000, { each: () => (received = [...received, ...drain(group.byId(2).peer).map((packet) => packet.data[0]!)]) });
    expect(received).toEqual([42]);
    expect([group.byId(1).disconnected, group.byId(2).disconnected]).toEqual([[], []]);
  });
});

describe('the silence threshold', () => {
  it('refuses unreliable packets for a peer silent longer than the threshold, counting them; reliable ones still queue', () => {
    const group = pair({ meshOptions: { silenceThresholdMs: 1000 } });
    const one = group.byId(1).peer;
    group.run(1000 - 4 * FRAME_MS, { polled: [1] });
    expect(put(one, 2, TransferMode.Unreliable, new Uint8Array(8))).toBe(true);
    group.run(4 * FRAME_MS + FRAME_MS, { polled: [1] });
    expect(put(one, 2, TransferMode.Unreliable, new Uint8Array(8))).toBe(false);
    expect(put(one, 2, TransferMode.UnreliableOrdered, new Uint8Array(8))).toBe(false);
    expect(put(one, 2, TransferMode.Reliable, new Uint8Array(8))).toBe(true);
    expect(one.getPeerStats(2).dropped.silentPeer).toBe(2);
  });
});

describe('stale unreliable packets', () => {
  function sendEachWay(delayMs: number): { stale: number; unreliable: number; reliable: number } {
    const group = pair({ memory: { conditions: { delayMs } } });
    // The clock offset comes from the first keepalive answer; until then nothing is judged stale.
    group.run(1000);
    expect(Number.isNaN(group.byId(2).peer.getPeerStats(1).clockOffsetMs)).toBe(false);
    const one = group.byId(1).peer;
    for (const mode of [TransferMode.Unreliable, TransferMode.UnreliableOrdered, TransferMode.Reliable]) {
      for (let n = 0; n < 5; n++) put(one, 2, mode, new Uint8Array([n]));
    }
    const counts = { stale: 0, unreliable: 0, reliable: 0 };
    group.run(4 * delayMs, {
      each: () => {
        for (const packet of drain(group.byId(2).peer)) counts[packet.mode === TransferMode.Reliable ? 'reliable' : 'unreliable']++;
      },
    });
    counts.stale = group.byId(2).peer.getPeerStats(1).dropped.stale;
    return counts;
  }

  it('are dropped and counted when the link takes longer than their lifetime; reliable ones arrive', () => {
    expect(sendEachWay(UNRELIABLE_LIFETIME_FLOOR_MS + 50)).toEqual({ stale: 10, unreliable: 0, reliable: 5 });
  });

  it('arrive when the link is quicker than their lifetime', () => {
    expect(sendEachWay(UNRELIABLE_LIFETIME_FLOOR_MS - 2 * FRAME_MS)).toEqual({ stale: 0, unreliable: 10, reliable: 5 });
  });
});

describe('out-of-order packets', () => {
  it('UnreliableOrdered drops a packet older than one already delivered; Unreliable delivers every one', () => {
    // Jitter of several frames reorders the messages of the unordered SCTP channels.
    const group = pair({ memory: { conditions: { jitterMs: 5 * FRAME_MS }, random: seededRandom(7) } });
    const one = group.byId(1).peer;
    const count = 200;
    const received = { [TransferMode.Unreliable]: [] as number[], [TransferMode.UnreliableOrdered]: [] as number[] };
    for (let n = 0; n < count; n++) {
      put(one, 2, TransferMode.Unreliable, new Uint8Array([n]));
      put(one, 2, TransferMode.UnreliableOrdered, new Uint8Array([n]));
      group.run(FRAME_MS, { each: () => collect() });
    }
    group.run(10 * FRAME_MS, { each: () => collect() });
    function collect(): void {
      for (const packet of drain(group.byId(2).peer)) {
        if (packet.mode !== TransferMode.Reliable) received[packet.mode].push(packet.data[0]!);
      }
    }
    const ordered = received[TransferMode.UnreliableOrdered];
    const unordered = received[TransferMode.Unreliable];
    const outOfOrder = group.byId(2).peer.getPeerStats(1).dropped.outOfOrder;
    expect(outOfOrder).toBeGreaterThan(0);
    expect(ordered.length + outOfOrder).toBe(count);
    expect(ordered).toEqual([...ordered].sort((x, y) => x - y));
    expect([...unordered].sort((x, y) => x - y)).toEqual(Array.from({ length: count }, (_, n) => n));
    expect(unordered).not.toEqual([...unordered].sort((x, y) => x - y));
  });
});

describe('reads across peers', () => {
  it('take one packet from each peer in turn, whatever order they arrived in', () => {
    const group = track(makeTimedGroup(4));
    connectTimed(group, 3);
    for (const id of [2, 3, 4]) {
      for (let n = 0; n < 3; n++) put(group.byId(id).peer, 1, TransferMode.Reliable, new Uint8Array([id, n]));
    }
    group.run(FRAME_MS, { polled: [2, 3, 4] });
    group.run(FRAME_MS, { polled: [1] });
    expect(drain(group.byId(1).peer).map((packet) => `${packet.from}:${packet.data[1]}`)).toEqual([
      '2:0', '3:0', '4:0', '2:1', '3:1', '4:1', '2:2', '3:2', '4:2',
    ]);
  });
});

describe('backpressure', () => {
  const PACKET = 1000;

  it('drops unreliable packets while the send buffer holds more than its limit, and counts them', () => {
    const limit = 4096;
    // 20 bytes a millisecond: a packet each frame fills the buffer within a few dozen frames.
    const group = pair({ meshOptions: { unreliableBufferLimitBytes: limit }, memory: { conditions: { bytesPerMs: 20 } } });
    const one = group.byId(1).peer;
    let refused = 0;
    let mostBuffered = 0;
    for (let n = 0; n < 100; n++) {
      if (!put(one, 2, TransferMode.Unreliable, new Uint8Array(PACKET))) refused++;
      group.run(FRAME_MS);
      mostBuffered = Math.max(mostBuffered, one.getPeerStats(2).bufferedBytes);
    }
    expect(refused).toBeGreaterThan(0);
    expect(one.getPeerStats(2).dropped.sendBufferFull).toBe(refused);
    // Checked before each put: the buffer exceeds the limit by one message at the most.
    expect(mostBuffered).toBeLessThanOrEqual(limit + PACKET + MAX_FRAMING_BYTES);
  });

  it('refuses reliable packets past the limit buffered for the peer, then takes more as the link drains', () => {
    const limit = 16 * 1024;
    const group = pair({ meshOptions: { reliableBufferLimitBytes: limit }, memory: { conditions: { bytesPerMs: 50 } } });
    const one = group.byId(1).peer;
    const taken: number[] = [];
    for (let n = 0; n < 40; n++) if (put(one, 2, TransferMode.Reliable, new Uint8Array(PACKET).fill(n))) taken.push(n);
    expect(taken.length).toBe(Math.floor(limit / PACKET));
    expect(one.getPeerStats(2).dropped.reliableLimit).toBe(40 - taken.length);
    const received: number[] = [];
    group.runUntil(() => {
      received.push(...drain(group.byId(2).peer).map((packet) => packet.data[0]!));
      return received.length === taken.length;
    }, 'the taken packets to arrive');
    expect(received).toEqual(taken);
    expect(put(one, 2, TransferMode.Reliable, new Uint8Array(PACKET))).toBe(true);
    expect(group.byId(2).disconnected).toEqual([]);
  });
});

describe('the reliable allowance', () => {
  const PACKET = 1024;
  const TOTAL = 4096;

  /** Puts TOTAL reliable packets from 1 to 2 at once, then runs frames until they arrived. */
  function transfer(group: TimedGroup, each?: () => void): number {
    const one = group.byId(1).peer;
    for (let n = 0; n < TOTAL; n++) expect(put(one, 2, TransferMode.Reliable, new Uint8Array(PACKET).fill(n & 0xff))).toBe(true);
    let received = 0;
    let frames = 0;
    group.runUntil(() => {
      frames++;
      each?.();
      for (const packet of drain(group.byId(2).peer)) expect(packet.data[0]).toBe(received++ & 0xff);
      return received === TOTAL;
    }, 'the transfer to arrive', 60_000);
    return frames;
  }

  it('lets the engine hold more than 64 KiB a frame while the link sends all of it between flushes', () => {
    // 4 MiB at 64 KiB a frame would take 64 frames or more.
    expect(transfer(pair())).toBeLessThan(20);
  });

  it('falls back to about two frames of what the link sends when the link slows down, so keepalives still cross', () => {
    // Fast enough at first for the allowance to grow to its most (1 MiB), then 128 KB a frame.
    // A ping every frame: the smoothed round trip follows the queue closely.
    const group = pair({ meshOptions: { keepaliveIntervalMs: FRAME_MS }, memory: { conditions: { bytesPerMs: 200_000 } } });
    const one = group.byId(1).peer;
    let frame = 0;
    let longestRtt = 0;
    transfer(group, () => {
      if (++frame === 6) group.backend.setConditions({ bytesPerMs: 8000 });
      const rtt = one.getPeerStats(2).rttMs;
      if (frame > 6 && !Number.isNaN(rtt)) longestRtt = Math.max(longestRtt, rtt);
    });
    // Behind 1 MiB a ping would wait 131 ms; behind two frames' worth (256 KB), 33 ms, plus a
    // frame on each side before it is answered and read.
    expect(longestRtt).toBeLessThan(6 * FRAME_MS);
    expect(group.byId(2).disconnected).toEqual([]);
  });
});

describe('the receive queue', () => {
  it('holds a reliable batch that does not fit in the channel until the game has read room for it, and loses nothing', () => {
    // 16 KiB of receive queue per channel; 2,000 packets of 16 B cost 160 KB there (64 B each of
    // bookkeeping), ten times the limit, in batches that each cost four times it.
    const group = pair({ meshOptions: { receiveLimitBytes: 16 * 1024 } });
    for (let n = 0; n < 2000; n++) expect(put(group.byId(1).peer, 2, TransferMode.Reliable, new Uint8Array(16).fill(n & 0xff))).toBe(true);
    const reader = group.byId(2).peer;
    const received: number[] = [];
    group.runUntil(() => {
      // A slow reader: 100 packets a frame.
      for (let n = 0; n < 100 && reader.getAvailablePacketCount() > 0; n++) received.push(reader.getPacket()![0]!);
      return received.length === 2000;
    }, 'every packet to be read');
    expect(received).toEqual(Array.from({ length: 2000 }, (_, n) => n & 0xff));
    expect(reader.getPeerStats(1).dropped.receiveQueueFull).toBe(0);
    expect(group.byId(1).disconnected).toEqual([]);
    expect(group.byId(2).disconnected).toEqual([]);
  });
});

describe('batching', () => {
  function sendFive(group: TimedGroup, flush: boolean): { sentBeforePoll: number; sent: number; received: number } {
    const one = group.byId(1).peer;
    const before = one.getPeerStats(2).messagesSent;
    for (let n = 0; n < 5; n++) put(one, 2, TransferMode.Unreliable, new Uint8Array([n]));
    if (flush) one.flush();
    const sentBeforePoll = one.getPeerStats(2).messagesSent - before;
    let received = 0;
    group.run(4 * FRAME_MS, { each: () => (received += drain(group.byId(2).peer).length) });
    return { sentBeforePoll, sent: one.getPeerStats(2).messagesSent - before, received };
  }

  it('coalesces the packets put in one frame into one message, sent at the next poll()', () => {
    expect(sendFive(pair(), false)).toEqual({ sentBeforePoll: 0, sent: 1, received: 5 });
  });

  it('sends them at flush() without waiting for poll()', () => {
    expect(sendFive(pair(), true)).toEqual({ sentBeforePoll: 1, sent: 1, received: 5 });
  });

  it('sends each packet at once, as its own message, when turned off', () => {
    expect(sendFive(pair({ meshOptions: { batching: false } }), false)).toEqual({ sentBeforePoll: 5, sent: 5, received: 5 });
  });
});

describe('the state connection', () => {
  const DELAY_MS = 10;
  /** Unreliable packets sent each frame behind a reliable backlog: their ages on arrival (test ms), and how many went stale. */
  function behindBacklog(stateConnection: boolean): { ages: number[]; stale: number } {
    // 100 bytes a millisecond: the 64 KiB the engine queue takes of the backlog need 655 ms.
    const group = pair({ meshOptions: { stateConnection }, memory: { conditions: { bytesPerMs: 100, delayMs: DELAY_MS } } });
    // Both clocks known first: before the first keepalive answer, nothing is judged stale.
    group.run(1000);
    const one = group.byId(1).peer;
    for (let n = 0; n < 16; n++) put(one, 2, TransferMode.Reliable, new Uint8Array(16 * 1024));
    const ages: number[] = [];
    const collect = (now: number): void => {
      for (const packet of drain(group.byId(2).peer)) {
        if (packet.mode === TransferMode.Unreliable) ages.push(now - new Float64Array(packet.data.slice().buffer)[0]!);
      }
    };
    for (let frame = 0; frame < 30; frame++) {
      put(one, 2, TransferMode.Unreliable, new Uint8Array(new Float64Array([group.scheduler.now()]).buffer));
      group.run(FRAME_MS, { each: collect });
    }
    group.run(5000, { each: collect });
    return { ages, stale: group.byId(2).peer.getPeerStats(1).dropped.stale };
  }

  it('carries unreliable packets past a reliable backlog on the first connection', () => {
    const { ages, stale } = behindBacklog(true);
    expect([ages.length, stale]).toEqual([30, 0]);
    // Put, flushed at the next frame, then the link's delay, then read at the frame after.
    expect(Math.max(...ages)).toBeLessThanOrEqual(DELAY_MS + 2 * FRAME_MS);
  });

  it('without it, the same packets wait behind the backlog and arrive stale, all but the first', () => {
    const { ages, stale } = behindBacklog(false);
    expect([ages.length, stale]).toEqual([1, 29]);
  });
});
