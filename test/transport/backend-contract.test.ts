// One behaviour for every Backend: the in-memory one is checked by the same tests as the engines,
// so that rule tests on it cannot pass on something the engines would not do.
import { describe, expect, it } from 'vitest';
import {
  type Backend,
  ChannelState,
  ConnectionState,
  type DataChannel,
  GatheringState,
  SignalingState,
  WriteMode,
  createMemoryBackend,
  nodeDataChannelBackend,
} from '../../src/index.js';
import { createPolyfillBackend } from '../support/backend-setup.js';
import { closeAfterEach } from '../support/close-after-each.js';
import { LOOPBACK_CONFIG, type TransportPair, connectPair, wirePair } from '../support/transport-pair.js';

const track = closeAfterEach();

const BACKENDS: Array<[name: string, make: () => Backend]> = [
  ['memory', () => createMemoryBackend()],
  ['node-datachannel', () => nodeDataChannelBackend],
  ['w3c over the polyfill', createPolyfillBackend],
];

function isOpen(...channels: Array<DataChannel | undefined>): boolean {
  return channels.every((channel) => channel?.getReadyState() === ChannelState.Open);
}

function isClosed(...channels: DataChannel[]): boolean {
  return channels.every((channel) => channel.getReadyState() === ChannelState.Closed);
}

describe.each(BACKENDS)('the %s backend', (_name, makeBackend) => {
  function pair(config = {}): TransportPair {
    const backend = makeBackend();
    return track(wirePair(config, backend, backend));
  }

  /** A pair with one negotiated channel (id 3) and one in-band channel from `a`, all open. */
  async function openPair(config = {}): Promise<{ pair: TransportPair; a: DataChannel; b: DataChannel; inBand: DataChannel; received: DataChannel }> {
    const p = pair(config);
    const a = p.a.createDataChannel('negotiated', { negotiated: true, id: 3 });
    const b = p.b.createDataChannel('negotiated', { negotiated: true, id: 3 });
    const inBand = p.a.createDataChannel('in-band', { protocol: 'proto' });
    let received: DataChannel | undefined;
    p.b.on('dataChannelReceived', (channel) => (received = channel));
    await connectPair(p);
    await p.pollUntil(() => isOpen(a, b, inBand, received), 'every channel to open');
    return { pair: p, a, b, inBand, received: received! };
  }

  it('connects through offer, answer and candidates, ending stable and gathered on both sides', async () => {
    const p = pair();
    p.a.createDataChannel('x', { negotiated: true, id: 1 });
    p.b.createDataChannel('x', { negotiated: true, id: 1 });
    const candidates = { a: 0, b: 0 };
    p.a.on('iceCandidateCreated', () => candidates.a++);
    p.b.on('iceCandidateCreated', () => candidates.b++);
    await connectPair(p);
    await p.pollUntil(
      () => [p.a, p.b].every((side) => side.getGatheringState() === GatheringState.Complete && side.getSignalingState() === SignalingState.Stable),
      'gathering to complete',
    );
    expect(candidates.a).toBeGreaterThan(0);
    expect(candidates.b).toBeGreaterThan(0);
  });

  it('has the offerer in HaveLocalOffer from its offer until the answer is applied, then Stable', async () => {
    const p = pair();
    p.a.createDataChannel('x', { negotiated: true, id: 1 });
    p.b.createDataChannel('x', { negotiated: true, id: 1 });
    const seen: SignalingState[] = [p.a.getSignalingState()];
    let answered = false;
    p.b.on('sessionDescriptionCreated', () => (answered = true));
    p.a.createOffer();
    await p.pollUntil(() => {
      const state = p.a.getSignalingState();
      if (state !== seen.at(-1)) seen.push(state);
      return answered && state === SignalingState.Stable;
    }, 'the answer to be applied');
    expect(seen).toEqual([SignalingState.Stable, SignalingState.HaveLocalOffer, SignalingState.Stable]);
    expect(p.b.getSignalingState()).toBe(SignalingState.Stable);
  });

  it('opens negotiated channels on both sides with their id and options, carrying bytes and text both ways', async () => {
    const { pair: p, a, b } = await openPair();
    expect([a.getId(), b.getId(), b.getLabel(), b.isNegotiated(), b.isOrdered()]).toEqual([3, 3, 'negotiated', true, true]);
    a.putPacket(new Uint8Array([1, 2, 3]));
    b.writeMode = WriteMode.Text;
    b.putPacket('from b');
    await p.pollUntil(() => a.getAvailablePacketCount() === 1 && b.getAvailablePacketCount() === 1, 'one packet each way');
    expect([...b.getPacket()!]).toEqual([1, 2, 3]);
    expect(b.wasStringPacket()).toBe(false);
    expect(new TextDecoder().decode(a.getPacket()!)).toBe('from b');
    expect(a.wasStringPacket()).toBe(true);
  });

  it('announces an in-band channel to the remote with its label, protocol and an id, carrying messages both ways', async () => {
    const { pair: p, inBand, received } = await openPair();
    expect([received.getLabel(), received.getProtocol(), received.isNegotiated()]).toEqual(['in-band', 'proto', false]);
    expect(received.getId()).toBeGreaterThanOrEqual(0);
    inBand.putPacket(new Uint8Array([7]));
    received.putPacket(new Uint8Array([8]));
    await p.pollUntil(() => inBand.getAvailablePacketCount() === 1 && received.getAvailablePacketCount() === 1, 'one packet each way');
    expect([...received.getPacket()!, ...inBand.getPacket()!]).toEqual([7, 8]);
  });

  it('delivers every message of a reliable channel intact and in order', async () => {
    const { pair: p, a, b } = await openPair();
    const count = 300;
    for (let n = 0; n < count; n++) a.putPacket(new Uint8Array(1 + ((n * 97) % 3000)).fill(n % 256));
    const sizes: number[] = [];
    await p.pollUntil(() => {
      for (let packet = b.getPacket(); packet; packet = b.getPacket()) {
        expect(packet.every((byte) => byte === sizes.length % 256)).toBe(true);
        sizes.push(packet.byteLength);
      }
      return sizes.length === count;
    }, 'every message');
    expect(sizes).toEqual(Array.from({ length: count }, (_, n) => 1 + ((n * 97) % 3000)));
  });

  it("limits a channel to the smaller of the two sides' message sizes once open", async () => {
    const p = pair();
    p.b.initialize({ ...LOOPBACK_CONFIG, maxMessageSize: 16384 });
    const a = p.a.createDataChannel('x', { negotiated: true, id: 1 });
    const b = p.b.createDataChannel('x', { negotiated: true, id: 1 });
    await connectPair(p);
    await p.pollUntil(() => isOpen(a, b), 'both ends to open');
    expect([a.getMaxPacketSize(), b.getMaxPacketSize()]).toEqual([16384, 16384]);
  });

  for (const closer of ['a', 'b'] as const) {
    it(`closes the remote's channels and connection when side ${closer} closes its connection`, async () => {
      const { pair: p, a, b, inBand, received } = await openPair();
      const [gone, staying] = closer === 'a' ? [p.a, p.b] : [p.b, p.a];
      const remoteChannels = closer === 'a' ? [b, received] : [a, inBand];
      gone.close();
      await p.pollUntil(() => isClosed(...remoteChannels), "the remote's channels to close");
      await p.pollUntil(() => staying.getConnectionState() === ConnectionState.Closed, 'the remote connection to close');
    });
  }

  it('closes the remote end of a channel closed on one side, leaving the connection and other channels up', async () => {
    const { pair: p, a, b, inBand, received } = await openPair();
    a.close();
    await p.pollUntil(() => isClosed(b), 'the remote end to close');
    expect(p.b.getConnectionState()).toBe(ConnectionState.Connected);
    inBand.putPacket(new Uint8Array([1]));
    await p.pollUntil(() => received.getAvailablePacketCount() === 1, 'a packet on the other channel');
    expect(isOpen(inBand, received)).toBe(true);
  });

  it('counts a burst in bufferedAmount until it has left, and reads 0 once closed', async () => {
    // Ten times what SCTP's own send buffer (1 MiB, not counted) takes: most of it must wait in the
    // engine's queue however quickly the link drains while the burst is put.
    const count = 160;
    const { pair: p, a, b } = await openPair({ receiveLimitBytes: 2 * count * 65536 });
    expect(a.getBufferedAmount()).toBe(0);
    for (let n = 0; n < count; n++) a.putPacket(new Uint8Array(65536));
    const buffered = a.getBufferedAmount();
    expect(buffered).toBeGreaterThan(0);
    expect(buffered).toBeLessThanOrEqual(count * 65536);
    let arrived = 0;
    await p.pollUntil(() => {
      while (b.getPacket()) arrived++;
      return arrived === count && a.getBufferedAmount() === 0;
    }, 'the burst to arrive and the buffer to drain');
    a.putPacket(new Uint8Array(65536));
    a.close();
    expect(a.getBufferedAmount()).toBe(0);
  });
});
