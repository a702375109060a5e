import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { cleanup, type DataChannel } from 'node-datachannel';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  LOOPBACK,
  LossyProxy,
  parseCandidate,
  rewriteCandidate,
  type Direction,
  type LinkCounters,
  type LossyProxyOptions,
} from './lossy-proxy.js';
import { pollUntil } from './poll.js';
import { createProxiedPair, stripSdpCandidates, type ProxiedPair } from './proxied-pair.js';

/** Datagrams sent before waiting for the proxy to read them, so the kernel never drops one. */
const SEND_BATCH = 50;
/** setTimeout may fire up to a millisecond early against performance.now(). */
const TIMER_SLACK_MS = 2;
/** Sequence number (4 bytes) then send time (8 bytes). */
const PROBE_SIZE = 12;

/** Waits until `condition()` holds; nothing to poll, the proxy and the engine run on their own. */
function waitFor(condition: () => boolean, what: string): Promise<void> {
  return pollUntil([], condition, what);
}

/** Every datagram the proxy took in is forwarded, dropped for a named reason, or still queued. */
function expectCountersAddUp(counters: LinkCounters): void {
  const accounted =
    counters.forwarded +
    counters.dropped +
    counters.droppedByCut +
    counters.droppedByOverflow +
    counters.droppedUnroutable +
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
}

async function udpPeer(): Promise<UdpPeer> {
  const socket = dgram.createSocket('udp4');
  const arrivals: Arrival[] = [];
  socket.on('message', (message, from) => {
    arrivals.push({
      seq: message.readUInt32BE(0),
      delayMs: performance.now() - message.readDoubleBE(4),
      fromPort: from.port,
    });
  });
  await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
  return { socket, arrivals };
}

interface UdpSetup {
  proxy: LossyProxy;
  a: UdpPeer;
  b: UdpPeer;
  /** Sends `count` probes from one peer through the proxy, paced so that none is lost before it. */
  send(direction: Direction, count: number, firstSeq?: number): Promise<void>;
  close(): Promise<void>;
}

const openSetups: UdpSetup[] = [];

async function udpSetup(options: LossyProxyOptions = {}): Promise<UdpSetup> {
  const proxy = await LossyProxy.create(options);
  const [a, b] = await Promise.all([udpPeer(), udpPeer()]);
  proxy.registerPeer('a', { address: LOOPBACK, port: a.socket.address().port });
  proxy.registerPeer('b', { address: LOOPBACK, port: b.socket.address().port });
  const setup: UdpSetup = {
    proxy,
    a,
    b,
    async send(direction, count, firstSeq = 0) {
      const sender = direction === 'aToB' ? a : b;
      const standIn = proxy.portFor(direction === 'aToB' ? 'b' : 'a');
      const base = proxy.getCounters(direction).received;
      for (let sent = 0; sent < count; ) {
        const batchEnd = Math.min(count, sent + SEND_BATCH);
        for (; sent < batchEnd; sent++) {
          const probe = Buffer.alloc(PROBE_SIZE);
          probe.writeUInt32BE(firstSeq + sent, 0);
          probe.writeDoubleBE(performance.now(), 4);
          sender.socket.send(probe, standIn, LOOPBACK);
        }
        await waitFor(() => proxy.getCounters(direction).received >= base + sent, 'the proxy to read a batch');
      }
    },
    async close() {
      await proxy.close();
      for (const peer of [a, b]) await new Promise<void>((resolve) => peer.socket.close(() => resolve()));
    },
  };
  openSetups.push(setup);
  return setup;
}

/** Waits until everything the proxy forwarded to the receiver of `direction` has arrived. */
async function drain(setup: UdpSetup, direction: Direction): Promise<LinkCounters> {
  const receiver = direction === 'aToB' ? setup.b : setup.a;
  await waitFor(() => {
    const counters = setup.proxy.getCounters(direction);
    return counters.queued === 0 && receiver.arrivals.length === counters.forwarded;
  }, 'the delay queue to drain');
  return setup.proxy.getCounters(direction);
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
    expect(rewriteCandidate('candidate:1 1 UDP 2114977791 10.0.0.7 43850 typ host', 5000)).toBe(
      'candidate:1 1 UDP 2114977791 127.0.0.1 5000 typ host',
    );
    expect(rewriteCandidate(line, 5000)).toBe('a=candidate:1 1 UDP 2114977791 127.0.0.1 5000 typ host');
  });

  it('strips candidate lines from an SDP and keeps the rest', () => {
    const sdp = ['v=0', 'a=mid:0', line, 'a=end-of-candidates', ''].join('\r\n');
    expect(stripSdpCandidates(sdp)).toBe(['v=0', 'a=mid:0', ''].join('\r\n'));
  });
});

describe('LossyProxy over plain UDP', () => {
  it('forwards both ways, each datagram appearing to come from the stand-in of its sender', async () => {
    const setup = await udpSetup();
    await setup.send('aToB', 20);
    await setup.send('bToA', 30);
    expect((await drain(setup, 'aToB')).forwarded).toBe(20);
    expect((await drain(setup, 'bToA')).forwarded).toBe(30);
    expect(new Set(setup.b.arrivals.map((arrival) => arrival.fromPort))).toEqual(new Set([setup.proxy.portFor('a')]));
    expect(new Set(setup.a.arrivals.map((arrival) => arrival.fromPort))).toEqual(new Set([setup.proxy.portFor('b')]));
    expect(setup.proxy.getCounters('aToB').forwardedBytes).toBe(20 * PROBE_SIZE);
  });

  it('changes only the named direction and keeps the fields it is not given', async () => {
    const { proxy } = await udpSetup({ conditions: { delayMs: 10 } });
    proxy.setConditions('bToA', { loss: 0.5 });
    expect(proxy.getConditions('bToA')).toMatchObject({ loss: 0.5, delayMs: 10 });
    expect(proxy.getConditions('aToB')).toMatchObject({ loss: 0, delayMs: 10 });
    expect(() => proxy.setConditions('both', { loss: 1.5 })).toThrow(RangeError);
    expect(() => proxy.setConditions('both', { jitterMs: -1 })).toThrow(RangeError);
  });

  it('drops about the configured share of datagrams, and only in the configured direction', async () => {
    const setup = await udpSetup({ seed: 7 });
    setup.proxy.setConditions('aToB', { loss: 0.3 });
    await setup.send('aToB', 5_000);
    await setup.send('bToA', 500);
    const counters = await drain(setup, 'aToB');
    expect(counters.received).toBe(5_000);
    expect(counters.dropped / counters.received).toBeGreaterThan(0.25);
    expect(counters.dropped / counters.received).toBeLessThan(0.35);
    expect(setup.b.arrivals).toHaveLength(counters.forwarded);
    expectCountersAddUp(counters);
    expect((await drain(setup, 'bToA')).dropped).toBe(0);
    expect(setup.a.arrivals).toHaveLength(500);
  });

  it('makes the same decisions from the same seed', async () => {
    const runs = [await udpSetup({ seed: 42 }), await udpSetup({ seed: 42 })];
    for (const setup of runs) {
      setup.proxy.setConditions('both', { loss: 0.5 });
      await setup.send('aToB', 300);
      await drain(setup, 'aToB');
    }
    const delivered = runs.map((setup) => setup.b.arrivals.map((arrival) => arrival.seq));
    expect(delivered[0]).toEqual(delivered[1]);
  });

  it('duplicates about the configured share, so that every datagram arrives and some twice', async () => {
    const setup = await udpSetup({ seed: 3, conditions: { duplicate: 0.1 } });
    await setup.send('aToB', 5_000);
    const counters = await drain(setup, 'aToB');
    expect(counters.duplicated / counters.received).toBeGreaterThan(0.08);
    expect(counters.duplicated / counters.received).toBeLessThan(0.12);
    expect(setup.b.arrivals).toHaveLength(5_000 + counters.duplicated);
    expect(new Set(setup.b.arrivals.map((arrival) => arrival.seq)).size).toBe(5_000);
    expectCountersAddUp(counters);
  });

  it('holds every datagram for at least the configured delay, spread by the jitter', async () => {
    const delayMs = 50;
    const jitterMs = 20;
    const setup = await udpSetup({ seed: 5, conditions: { delayMs, jitterMs } });
    await setup.send('aToB', 200);
    await drain(setup, 'aToB');
    const delays = setup.b.arrivals.map((arrival) => arrival.delayMs);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(delayMs - TIMER_SLACK_MS);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(jitterMs / 2);
  });

  it('lets later datagrams overtake those picked for reordering, losing none', async () => {
    const setup = await udpSetup({ seed: 11, conditions: { reorder: 0.2, reorderDelayMs: 30 } });
    await setup.send('aToB', 500);
    const counters = await drain(setup, 'aToB');
    const seqs = setup.b.arrivals.map((arrival) => arrival.seq);
    const outOfOrder = seqs.filter((seq, index) => index > 0 && seq < (seqs[index - 1] ?? 0)).length;
    expect(counters.reordered / counters.received).toBeGreaterThan(0.12);
    expect(counters.reordered / counters.received).toBeLessThan(0.28);
    expect(outOfOrder).toBeGreaterThan(0);
    expect(new Set(seqs).size).toBe(500);
    expectCountersAddUp(counters);
  });

  it('passes nothing while cut, in flight or new, and resumes after restore()', async () => {
    const setup = await udpSetup({ conditions: { delayMs: 30 } });
    await setup.send('aToB', 50);
    setup.proxy.cut();
    expect(setup.proxy.isCut).toBe(true);
    await setup.send('aToB', 50, 50);
    await setup.send('bToA', 50);
    await waitFor(() => setup.proxy.getCounters('aToB').queued === 0, 'the delay queue to empty');
    expect(setup.b.arrivals).toHaveLength(0);
    expect(setup.a.arrivals).toHaveLength(0);
    expect(setup.proxy.getCounters('aToB').droppedByCut).toBe(100);

    setup.proxy.restore();
    await setup.send('aToB', 50, 100);
    const counters = await drain(setup, 'aToB');
    expect(setup.b.arrivals.map((arrival) => arrival.seq).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 50 }, (_, index) => 100 + index),
    );
    expectCountersAddUp(counters);
  });

  it('drops and counts what exceeds the delay-queue cap, and close() leaves nothing pending', async () => {
    const setup = await udpSetup({ maxQueued: 100, conditions: { delayMs: 60_000 } });
    await setup.send('aToB', 300);
    const counters = setup.proxy.getCounters('aToB');
    expect(counters.queued).toBe(100);
    expect(counters.droppedByOverflow).toBe(200);
    expectCountersAddUp(counters);
    await setup.proxy.close();
    expect(setup.proxy.getCounters('aToB').queued).toBe(0);
  });

  it('drops and counts datagrams for a peer it does not know yet', async () => {
    const proxy = await LossyProxy.create();
    const sender = await udpPeer();
    try {
      sender.socket.send(Buffer.alloc(PROBE_SIZE), proxy.portFor('b'), LOOPBACK);
      await waitFor(() => proxy.getCounters('aToB').received === 1, 'the datagram');
      expect(proxy.getCounters('aToB').droppedUnroutable).toBe(1);
    } finally {
      await proxy.close();
      await new Promise<void>((resolve) => sender.socket.close(() => resolve()));
    }
  });
});

describe('node-datachannel peers through LossyProxy', () => {
  const RELIABLE_MESSAGES = 300;
  /** Big enough that each message needs a datagram of its own, so that losses hit messages. */
  const RELIABLE_MESSAGE_PADDING = 1_000;
  let pair: ProxiedPair<{ a: DataChannel; b: DataChannel }> | undefined;
  const receivedByA: string[] = [];
  const receivedByB: string[] = [];

  async function connect(): Promise<ProxiedPair<{ a: DataChannel; b: DataChannel }>> {
    receivedByA.length = 0;
    receivedByB.length = 0;
    pair = await createProxiedPair({
      setup: (a, b) => {
        const channels = {
          a: a.createDataChannel('reliable', { negotiated: true, id: 1 }),
          b: b.createDataChannel('reliable', { negotiated: true, id: 1 }),
        };
        channels.a.onMessage((message) => receivedByA.push(String(message)));
        channels.b.onMessage((message) => receivedByB.push(String(message)));
        return channels;
      },
    });
    return pair;
  }

  afterEach(async () => {
    await pair?.close();
    pair = undefined;
  });

  // After every connection is closed, never from a callback: see DESIGN.md.
  afterAll(() => cleanup());

  it('connects only through the proxy and exchanges messages both ways', async () => {
    const { a, b, channels, proxy } = await connect();
    expect(a.getSelectedCandidatePair()?.remote.port).toBe(proxy.portFor('b'));
    expect(b.getSelectedCandidatePair()?.remote.port).toBe(proxy.portFor('a'));

    channels.a.sendMessage('hello from a');
    channels.b.sendMessage('hello from b');
    await waitFor(() => receivedByA.length === 1 && receivedByB.length === 1, 'both messages');
    expect(receivedByB).toEqual(['hello from a']);
    expect(receivedByA).toEqual(['hello from b']);
    expect(proxy.getCounters('aToB').forwarded).toBeGreaterThan(0);
    expect(proxy.getCounters('bToA').forwarded).toBeGreaterThan(0);
  });

  it('stops the traffic while cut and lets it through after restore()', async () => {
    const { channels, proxy } = await connect();
    proxy.cut();
    channels.a.sendMessage('during the cut');
    await waitFor(() => proxy.getCounters('aToB').droppedByCut > 0, 'the cut to drop a datagram');
    expect(receivedByB).toEqual([]);
    proxy.restore();
    await waitFor(() => receivedByB.length === 1, 'the retransmission after restore()');
    expect(receivedByB).toEqual(['during the cut']);
  });

  it('delivers every reliable message in order through 10% loss each way', async () => {
    const { channels, proxy } = await connect();
    proxy.setConditions('both', { loss: 0.1 });
    const sent = Array.from({ length: RELIABLE_MESSAGES }, (_, index) => `${index} `.padEnd(RELIABLE_MESSAGE_PADDING, '.'));
    for (const message of sent) channels.a.sendMessage(message);
    await waitFor(() => receivedByB.length === RELIABLE_MESSAGES, 'every reliable message');
    expect(receivedByB).toEqual(sent);
    expect(proxy.getCounters('aToB').dropped + proxy.getCounters('bToA').dropped).toBeGreaterThan(0);
  });
});
