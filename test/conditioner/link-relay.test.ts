import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { RtcError, type LinkConditions, type LinkCounters } from '../../src/index.js';
import { parseCandidate, rewriteCandidate, sdpCandidates, stripSdpCandidates } from '../../src/conditioner/candidates.js';
import { LinkRelay, type LinkRelayOptions } from '../../src/conditioner/link-relay.js';
import { type Direction, LinkState } from '../../src/conditioner/link-state.js';
import { median } from '../../src/cli/statistics.js';
import { pollUntil } from '../support/poll.js';

const LOOPBACK = '127.0.0.1';
/** Datagrams sent before waiting for the relay to read them, so the kernel never drops one. */
const SEND_BATCH = 50;
/** setTimeout may fire up to a millisecond early against performance.now(). */
const TIMER_SLACK_MS = 2;
/** Sequence number (4 bytes) then send time (8 bytes). */
const PROBE_SIZE = 12;

/** Waits until `condition()` holds; nothing to poll, the relay runs on its own. */
function waitFor(condition: () => boolean, what: string): Promise<void> {
  return pollUntil([], condition, what);
}

/** Every datagram the relay took in is forwarded, dropped for a named reason, or still queued. */
function expectCountersAddUp(counters: LinkCounters): void {
  const accounted =
    counters.forwarded +
    counters.dropped +
    counters.droppedByCut +
    counters.droppedByBandwidth +
    counters.droppedByOverflow +
    counters.droppedUnroutable +
    counters.droppedUnknownSource +
    counters.queued;
  expect(accounted).toBe(counters.received + counters.duplicated);
}

interface Arrival {
  seq: number;
  delayMs: number;
  fromPort: number;
}

/** A plain UDP socket standing for one peer, recording what reaches it. */
interface UdpPeer {
  socket: dgram.Socket;
  arrivals: Arrival[];
  port: number;
}

async function udpPeer(): Promise<UdpPeer> {
  const socket = dgram.createSocket('udp4');
  const arrivals: Arrival[] = [];
  socket.on('message', (message, from) => {
    arrivals.push({ seq: message.readUInt32BE(0), delayMs: performance.now() - message.readDoubleBE(4), fromPort: from.port });
  });
  await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
  return { socket, arrivals, port: socket.address().port };
}

interface UdpSetup {
  relay: LinkRelay;
  state: LinkState;
  a: UdpPeer;
  b: UdpPeer;
  /** Sends `count` probes of `size` bytes from one peer through the relay, paced so that none is lost before it. */
  send(direction: Direction, count: number, firstSeq?: number, size?: number): Promise<void>;
  close(): Promise<void>;
}

const openSetups: UdpSetup[] = [];

async function udpSetup(conditions: Partial<LinkConditions> = {}, options: Omit<LinkRelayOptions, 'state'> = {}): Promise<UdpSetup> {
  const state = new LinkState({ aToB: conditions, bToA: conditions });
  const relay = await LinkRelay.create({ ...options, state });
  const [a, b] = await Promise.all([udpPeer(), udpPeer()]);
  relay.registerPeer('a', { address: LOOPBACK, port: a.port });
  relay.registerPeer('b', { address: LOOPBACK, port: b.port });
  const setup: UdpSetup = {
    relay,
    state,
    a,
    b,
    async send(direction, count, firstSeq = 0, size = PROBE_SIZE) {
      const sender = direction === 'aToB' ? a : b;
      const standIn = relay.endpointFor(direction === 'aToB' ? 'b' : 'a').port;
      const base = state.getCounters(direction).received;
      for (let sent = 0; sent < count; ) {
        const batchEnd = Math.min(count, sent + SEND_BATCH);
        for (; sent < batchEnd; sent++) {
          const probe = Buffer.alloc(size);
          probe.writeUInt32BE(firstSeq + sent, 0);
          probe.writeDoubleBE(performance.now(), 4);
          sender.socket.send(probe, standIn, LOOPBACK);
        }
        await waitFor(() => state.getCounters(direction).received >= base + sent, 'the relay to read a batch');
      }
    },
    async close() {
      await relay.close();
      for (const peer of [a, b]) await new Promise<void>((resolve) => peer.socket.close(() => resolve()));
    },
  };
  openSetups.push(setup);
  return setup;
}

/** Waits until everything the relay forwarded to the receiver of `direction` has arrived. */
async function drain(setup: UdpSetup, direction: Direction): Promise<LinkCounters> {
  const receiver = direction === 'aToB' ? setup.b : setup.a;
  await waitFor(() => {
    const counters = setup.state.getCounters(direction);
    return counters.queued === 0 && receiver.arrivals.length === counters.forwarded;
  }, 'the delay queue to drain');
  return setup.state.getCounters(direction);
}

/** Arrivals that came after one with a higher sequence number. */
function overtaken(arrivals: Arrival[]): number {
  let highest = -1;
  let count = 0;
  for (const { seq } of arrivals) {
    if (seq < highest) count++;
    highest = Math.max(highest, seq);
  }
  return count;
}

afterEach(async () => {
  for (const setup of openSetups.splice(0)) await setup.close();
});

describe('candidate lines', () => {
  const line = 'a=candidate:1 1 UDP 2114977791 127.0.0.1 43850 typ host';

  it('parses transport, address, port and type', () => {
    expect(parseCandidate(line)).toEqual({ transport: 'udp', address: LOOPBACK, port: 43850, type: 'host' });
    expect(parseCandidate('a=mid:0')).toBeUndefined();
  });

  it('rewrites only the address and port, keeping the prefix', () => {
    expect(rewriteCandidate('candidate:1 1 UDP 2114977791 10.0.0.7 43850 typ host', { address: LOOPBACK, port: 5000 })).toBe(
      'candidate:1 1 UDP 2114977791 127.0.0.1 5000 typ host',
    );
    expect(rewriteCandidate(line, { address: '::1', port: 5000 })).toBe('a=candidate:1 1 UDP 2114977791 ::1 5000 typ host');
  });

  it('strips candidate lines from an SDP and keeps the rest, and lists them with their media ids', () => {
    const sdp = ['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:0', line, 'a=end-of-candidates', ''].join('\r\n');
    expect(stripSdpCandidates(sdp)).toBe(['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:0', ''].join('\r\n'));
    expect(sdpCandidates(sdp)).toEqual([{ mid: '0', candidate: line.slice(2) }]);
  });
});

describe('LinkRelay over plain UDP', () => {
  it('forwards both ways, each datagram appearing to come from the stand-in of its sender', async () => {
    const setup = await udpSetup();
    await setup.send('aToB', 20);
    await setup.send('bToA', 30);
    expect((await drain(setup, 'aToB')).forwarded).toBe(20);
    expect((await drain(setup, 'bToA')).forwarded).toBe(30);
    expect(new Set(setup.b.arrivals.map((arrival) => arrival.fromPort))).toEqual(new Set([setup.relay.endpointFor('a').port]));
    expect(new Set(setup.a.arrivals.map((arrival) => arrival.fromPort))).toEqual(new Set([setup.relay.endpointFor('b').port]));
    expect(setup.state.getCounters('aToB').forwardedBytes).toBe(20 * PROBE_SIZE);
  });

  it('changes only the named direction and keeps the fields it is not given', async () => {
    const { state } = await udpSetup({ delayMs: 10 });
    state.setConditions('bToA', { loss: 0.5 });
    expect(state.getConditions('bToA')).toMatchObject({ loss: 0.5, delayMs: 10 });
    expect(state.getConditions('aToB')).toMatchObject({ loss: 0, delayMs: 10 });
    expect(() => state.setConditions('both', { loss: 1.5 })).toThrow(RtcError);
    expect(() => state.setConditions('both', { jitterMs: -1 })).toThrow(RtcError);
    expect(() => state.setConditions('both', { lossy: 1 } as Partial<LinkConditions>)).toThrow(/not a link condition/);
  });

  it('loses the configured share, measured at the receiver, and only in the configured direction', async () => {
    const setup = await udpSetup({}, { seed: 7 });
    setup.state.setConditions('aToB', { loss: 0.3 });
    await setup.send('aToB', 5_000);
    await setup.send('bToA', 500);
    const counters = await drain(setup, 'aToB');
    const measuredLoss = 1 - setup.b.arrivals.length / 5_000;
    // 5000 draws at p = 0.3: the standard deviation is 0.0065, so ±0.03 is over four of them.
    expect(Math.abs(measuredLoss - 0.3)).toBeLessThan(0.03);
    expect(counters.dropped).toBe(5_000 - setup.b.arrivals.length);
    expectCountersAddUp(counters);
    expect((await drain(setup, 'bToA')).dropped).toBe(0);
    expect(setup.a.arrivals).toHaveLength(500);
  });

  it('makes the same decisions from the same seed', async () => {
    const runs = [await udpSetup({}, { seed: 42 }), await udpSetup({}, { seed: 42 })];
    for (const setup of runs) {
      setup.state.setConditions('both', { loss: 0.5 });
      await setup.send('aToB', 300);
      await drain(setup, 'aToB');
    }
    const delivered = runs.map((setup) => setup.b.arrivals.map((arrival) => arrival.seq));
    expect(delivered[0]).toEqual(delivered[1]);
  });

  it('duplicates about the configured share, so that every datagram arrives and some twice', async () => {
    const setup = await udpSetup({ duplicate: 0.1 }, { seed: 3 });
    await setup.send('aToB', 5_000);
    const counters = await drain(setup, 'aToB');
    expect(Math.abs(counters.duplicated / counters.received - 0.1)).toBeLessThan(0.02);
    expect(setup.b.arrivals).toHaveLength(5_000 + counters.duplicated);
    expect(new Set(setup.b.arrivals.map((arrival) => arrival.seq)).size).toBe(5_000);
    expectCountersAddUp(counters);
  });

  it('holds every datagram for at least the delay, spread over the jitter', async () => {
    const delayMs = 50;
    const jitterMs = 20;
    const setup = await udpSetup({ delayMs, jitterMs }, { seed: 5 });
    // The other way holds 1 ms, sent in the same spell: what a loaded machine adds to the relay's
    // read, its timer and the receiver's read, it adds to both ways alike.
    setup.state.setConditions('bToA', { delayMs: 1, jitterMs: 0 });
    await Promise.all([setup.send('aToB', 200), setup.send('bToA', 200)]);
    await drain(setup, 'aToB');
    await drain(setup, 'bToA');
    const delays = setup.b.arrivals.map((arrival) => arrival.delayMs);
    const mean = delays.reduce((sum, each) => sum + each, 0) / delays.length;
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(delayMs - TIMER_SLACK_MS);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(jitterMs / 2);
    // The mean is delay + jitter / 2 = 60 ms; a loaded machine only adds, so this bound holds.
    expect(mean).toBeGreaterThanOrEqual(delayMs + jitterMs / 2 - 3);
    // So is the median, above the other way's (1 ms); the margin is for a loaded machine's
    // lateness that falls on one way more than the other.
    const control = setup.a.arrivals.map((arrival) => arrival.delayMs);
    expect(median(delays) - median(control)).toBeLessThan(delayMs + jitterMs / 2 - 1 + 40);
  });

  it('lets later datagrams overtake about the share picked for reordering, losing none', async () => {
    const setup = await udpSetup({ reorder: 0.2, reorderDelayMs: 30 }, { seed: 11 });
    await setup.send('aToB', 500);
    const counters = await drain(setup, 'aToB');
    expect(Math.abs(counters.reordered / counters.received - 0.2)).toBeLessThan(0.06);
    // A datagram held back 30 ms is overtaken by every one sent after it meanwhile, so it arrives
    // after a higher sequence number: the measured share is the configured one.
    expect(Math.abs(overtaken(setup.b.arrivals) / 500 - 0.2)).toBeLessThan(0.06);
    expect(new Set(setup.b.arrivals.map((arrival) => arrival.seq)).size).toBe(500);
    expectCountersAddUp(counters);
  });

  it('holds a burst to the bandwidth cap and drops what would wait past its queue', async () => {
    const size = 1_000;
    // 80 kbit/s: a 1000-byte datagram takes 100 ms on the link, so a burst's fourth waits 300 ms
    // and is the last that fits a 350 ms queue.
    const setup = await udpSetup({ bandwidthBitsPerSecond: 80_000, bandwidthQueueMs: 350 });
    await setup.send('aToB', 10, 0, size);
    const counters = await drain(setup, 'aToB');
    expect(counters.forwarded).toBe(3 + 1);
    expect(counters.droppedByBandwidth).toBe(10 - 4);
    const delays = setup.b.arrivals.map((arrival) => arrival.delayMs).sort((x, y) => x - y);
    expect(delays.at(-1)).toBeGreaterThanOrEqual(4 * 100 - TIMER_SLACK_MS);
    expectCountersAddUp(counters);
  });

  it('passes nothing while cut, in flight or new, and resumes after restore()', async () => {
    const setup = await udpSetup({ delayMs: 30 });
    await setup.send('aToB', 50);
    setup.state.cut();
    expect(setup.state.isCut).toBe(true);
    await setup.send('aToB', 50, 50);
    await setup.send('bToA', 50);
    await waitFor(() => setup.state.getCounters('aToB').queued === 0, 'the delay queue to empty');
    expect(setup.b.arrivals).toHaveLength(0);
    expect(setup.a.arrivals).toHaveLength(0);
    expect(setup.state.getCounters('aToB').droppedByCut).toBe(100);

    setup.state.restore();
    await setup.send('aToB', 50, 100);
    const counters = await drain(setup, 'aToB');
    expect(setup.b.arrivals.map((arrival) => arrival.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, index) => 100 + index));
    expectCountersAddUp(counters);
  });

  it('drops and counts what exceeds the delay-queue cap, and close() leaves nothing pending', async () => {
    const setup = await udpSetup({ delayMs: 60_000 }, { maxQueued: 100 });
    await setup.send('aToB', 300);
    const counters = setup.state.getCounters('aToB');
    expect(counters.queued).toBe(100);
    expect(counters.droppedByOverflow).toBe(200);
    expectCountersAddUp(counters);
    await setup.relay.close();
    expect(setup.state.getCounters('aToB').queued).toBe(0);
  });

  it('drops and counts datagrams from an address not registered, and for a peer not registered yet', async () => {
    const relay = await LinkRelay.create();
    const [sender, stranger] = await Promise.all([udpPeer(), udpPeer()]);
    try {
      relay.registerPeer('a', { address: LOOPBACK, port: sender.port });
      stranger.socket.send(Buffer.alloc(PROBE_SIZE), relay.endpointFor('b').port, LOOPBACK);
      sender.socket.send(Buffer.alloc(PROBE_SIZE), relay.endpointFor('b').port, LOOPBACK);
      await waitFor(() => relay.state.getCounters('aToB').received === 2, 'both datagrams');
      expect(relay.state.getCounters('aToB')).toMatchObject({ droppedUnknownSource: 1, droppedUnroutable: 1 });
    } finally {
      await relay.close();
      for (const peer of [sender, stranger]) await new Promise<void>((resolve) => peer.socket.close(() => resolve()));
    }
  });

  it('refuses an address that is not an IP address', async () => {
    await expect(LinkRelay.create({ address: 'localhost' })).rejects.toThrow(RtcError);
  });
});
