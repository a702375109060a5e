// What the in-memory backend adds to the contract every backend keeps: link conditions on a
// manual clock. The shared behaviour is in backend-contract.test.ts.
import { describe, expect, it } from 'vitest';
import {
  ChannelState,
  ConnectionState,
  type DataChannel,
  ManualScheduler,
  type PeerConnection,
  createMemoryBackend,
  type MemoryBackendOptions,
} from '../../src/index.js';
import { expectRtcError } from '../support/errors.js';
import { seededRandom } from '../support/seeded-random.js';
import { type TransportPair, wirePair } from '../support/transport-pair.js';

interface ManualPair {
  pair: TransportPair;
  setConditions: ReturnType<typeof createMemoryBackend>['setConditions'];
  /** Advances the clock `ms` in 1 ms steps, polling both sides after each. */
  run(ms: number): void;
}

function manualPair(options: Omit<MemoryBackendOptions, 'scheduler'> = {}): ManualPair {
  const scheduler = new ManualScheduler();
  const backend = createMemoryBackend({ ...options, scheduler });
  const pair = wirePair({}, backend, backend);
  return {
    pair,
    setConditions: backend.setConditions,
    run(ms) {
      for (let step = 0; step < ms; step++) {
        scheduler.advance(1);
        pair.a.poll();
        pair.b.poll();
      }
    },
  };
}

/** A manual pair with channel `unreliable` (id 1, maxRetransmits 0) and `reliable` (id 2) open. */
function openManualPair(options: Omit<MemoryBackendOptions, 'scheduler'> = {}): ManualPair & { a: DataChannel[]; b: DataChannel[] } {
  const manual = manualPair(options);
  const channels = (pc: PeerConnection): DataChannel[] => [
    pc.createDataChannel('unreliable', { negotiated: true, id: 1, ordered: false, maxRetransmits: 0 }),
    pc.createDataChannel('reliable', { negotiated: true, id: 2 }),
  ];
  const a = channels(manual.pair.a);
  const b = channels(manual.pair.b);
  manual.pair.a.createOffer();
  manual.run(10 * ((options.conditions?.delayMs ?? 0) + 1));
  expect([...a, ...b].every((channel) => channel.getReadyState() === ChannelState.Open)).toBe(true);
  return { ...manual, a, b };
}

function drainCount(channel: DataChannel): number {
  let count = 0;
  while (channel.getPacket()) count++;
  return count;
}

describe('the in-memory backend', () => {
  it('moves nothing until its manual clock is advanced', () => {
    const { pair, run } = manualPair();
    pair.a.createDataChannel('x', { negotiated: true, id: 1 });
    pair.b.createDataChannel('x', { negotiated: true, id: 1 });
    pair.a.createOffer();
    for (let n = 0; n < 10; n++) pair.a.poll();
    expect(pair.a.getConnectionState()).toBe(ConnectionState.New);
    run(10);
    expect([pair.a.getConnectionState(), pair.b.getConnectionState()]).toEqual([ConnectionState.Connected, ConnectionState.Connected]);
    pair.close();
  });

  it('takes a round trip of the delay to connect, and the delay to deliver', () => {
    const { pair, run, a, b } = openManualPair({ conditions: { delayMs: 40 } });
    a[1]!.putPacket(new Uint8Array([1]));
    run(39);
    expect(b[1]!.getAvailablePacketCount()).toBe(0);
    run(1);
    expect(b[1]!.getAvailablePacketCount()).toBe(1);
    pair.close();
  });

  it('loses the given share of messages on an unreliable channel, none on a reliable one', () => {
    const { pair, run, a, b } = openManualPair({ conditions: { lossRate: 0.25 }, random: seededRandom(3) });
    for (let n = 0; n < 400; n++) for (const channel of a) channel.putPacket(new Uint8Array([n & 255]));
    run(2);
    const unreliable = drainCount(b[0]!);
    expect(unreliable).toBeGreaterThan(400 * 0.65);
    expect(unreliable).toBeLessThan(400 * 0.85);
    expect(drainCount(b[1]!)).toBe(400);
    pair.close();
  });

  it('sends at its rate, counting what waits in bufferedAmount', () => {
    const { pair, run, a, b } = openManualPair({ conditions: { bytesPerMs: 100 } });
    for (let n = 0; n < 10; n++) a[1]!.putPacket(new Uint8Array(1000));
    expect(a[1]!.getBufferedAmount()).toBe(10_000);
    run(50);
    expect(a[1]!.getBufferedAmount()).toBe(5000);
    expect(drainCount(b[1]!)).toBe(5);
    run(50);
    expect([a[1]!.getBufferedAmount(), drainCount(b[1]!)]).toEqual([0, 5]);
    pair.close();
  });

  it('when blocked, loses unreliable messages, holds reliable ones, and reports Disconnected until unblocked', () => {
    const { pair, run, setConditions, a, b } = openManualPair({ disconnectAfterMs: 100 });
    setConditions({ blocked: true });
    a[0]!.putPacket(new Uint8Array([1]));
    a[1]!.putPacket(new Uint8Array([2]));
    run(99);
    expect(pair.b.getConnectionState()).toBe(ConnectionState.Connected);
    run(1);
    expect([pair.a.getConnectionState(), pair.b.getConnectionState()]).toEqual([ConnectionState.Disconnected, ConnectionState.Disconnected]);
    expect([b[0]!.getAvailablePacketCount(), b[1]!.getAvailablePacketCount(), a[1]!.getBufferedAmount()]).toEqual([0, 0, 1]);
    setConditions({ blocked: false });
    run(1);
    expect([pair.a.getConnectionState(), pair.b.getConnectionState()]).toEqual([ConnectionState.Connected, ConnectionState.Connected]);
    expect([b[0]!.getAvailablePacketCount(), b[1]!.getAvailablePacketCount()]).toEqual([0, 1]);
    pair.close();
  });

  it('refuses a description from another backend, and conditions out of range, with ERR_INVALID_PARAMETER', () => {
    const elsewhere = manualPair();
    elsewhere.pair.a.createDataChannel('x', { negotiated: true, id: 1 });
    let offer = '';
    elsewhere.pair.a.on('sessionDescriptionCreated', (_type, sdp) => (offer ||= sdp));
    elsewhere.pair.a.createOffer();
    elsewhere.run(1);
    expect(offer).toMatch(/^v=0/);
    const { pair, setConditions } = manualPair();
    expectRtcError(() => pair.b.setRemoteDescription('offer', offer), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => setConditions({ lossRate: 2 }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => setConditions({ delayMs: -1 }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => setConditions({ bytesPerMs: 0 }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => createMemoryBackend({ disconnectAfterMs: Number.NaN }), 'ERR_INVALID_PARAMETER');
    elsewhere.pair.close();
    pair.close();
  });
});

describe('ManualScheduler', () => {
  it('runs tasks in the order they fall due, those scheduled for one instant in the order given, reading each one\'s time', () => {
    const scheduler = new ManualScheduler(100);
    const ran: string[] = [];
    scheduler.schedule(20, () => ran.push(`b@${scheduler.now()}`));
    scheduler.schedule(10, () => {
      ran.push(`a@${scheduler.now()}`);
      scheduler.schedule(0, () => ran.push(`a2@${scheduler.now()}`));
    });
    scheduler.schedule(20, () => ran.push(`c@${scheduler.now()}`));
    scheduler.advance(15);
    expect([ran, scheduler.now(), scheduler.pending]).toEqual([['a@110', 'a2@110'], 115, 2]);
    scheduler.advance(100);
    expect([ran, scheduler.now(), scheduler.pending]).toEqual([['a@110', 'a2@110', 'b@120', 'c@120'], 215, 0]);
  });
});
