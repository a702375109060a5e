import { describe, expect, it } from 'vitest';
import {
  type Backend,
  type BackendConnection,
  type BackendConnectionHandlers,
  ChannelState,
  type DataChannel,
  NetworkConditioner,
  RtcError,
  type LinkConditions,
} from '../../src/index.js';
import { type Track, cleanupAfterAll, closeWithTest } from '../support/close-after-each.js';
import { pollFor } from '../support/poll.js';
import { type TransportPair, connectPair, wirePair } from '../support/transport-pair.js';

cleanupAfterAll();

/** A backend whose connections do nothing but what `overrides` give them; `created` sees each one's handlers. */
function fakeBackend(overrides: Partial<BackendConnection>, created?: (handlers: BackendConnectionHandlers) => void): Backend {
  return {
    name: 'fake',
    createConnection: (_config, handlers) => {
      created?.(handlers);
      return {
        createOffer: () => undefined,
        setLocalDescription: () => undefined,
        setRemoteDescription: () => undefined,
        addRemoteCandidate: () => undefined,
        createDataChannel: () => {
          throw new Error('not used');
        },
        close: () => undefined,
        ...overrides,
      };
    },
  };
}

/** A connection on the conditioner's backend, telling `localCandidate` what it announces. */
function conditionedConnection(conditioner: NetworkConditioner, localCandidate: BackendConnectionHandlers['localCandidate'] = () => undefined): BackendConnection {
  return conditioner.backend.createConnection(
    { iceServers: [], iceTransportPolicy: 'all', maxMessageSize: 65536 },
    {
      localDescription: () => undefined,
      localCandidate,
      connectionState: () => undefined,
      gatheringState: () => undefined,
      signalingState: () => undefined,
      dataChannel: () => undefined,
    },
  );
}

interface Messaging {
  pair: TransportPair;
  sending: DataChannel;
  receiving: DataChannel;
  received: string[];
  /** Polls, collecting what `receiving` got, until `count` messages arrived. */
  receive(count: number, what: string): Promise<void>;
}

/** A connected pair with one reliable negotiated channel, a on `backendOfA`. */
async function messaging(track: Track, backendOfA?: Backend): Promise<Messaging> {
  const pair = track(wirePair({}, backendOfA));
  const sending = pair.a.createDataChannel('data', { negotiated: true, id: 1 });
  const receiving = pair.b.createDataChannel('data', { negotiated: true, id: 1 });
  await connectPair(pair);
  // The connection is up before its channels are: a put before they open would throw.
  const open = (): boolean => sending.getReadyState() === ChannelState.Open && receiving.getReadyState() === ChannelState.Open;
  await pair.pollUntil(open, 'the channel to open');
  const received: string[] = [];
  const collect = (): void => {
    for (let packet = receiving.getPacket(); packet; packet = receiving.getPacket()) received.push(new TextDecoder().decode(packet));
  };
  return {
    pair,
    sending,
    receiving,
    received,
    receive: (count, what) => pair.pollUntil(() => (collect(), received.length >= count), what, 20_000),
  };
}

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

// Each test has peers of its own and mostly waits on their links: they run side by side.
describe.concurrent('NetworkConditioner on real connections', () => {
  it('is the only path of a connection on its backend, and counts what crossed it', async (context) => {
    const track = closeWithTest(context);
    const conditioner = track(new NetworkConditioner({ seed: 3 }));
    const link = await messaging(track, conditioner.backend);
    link.sending.putPacket(encode('hello'));
    await link.receive(1, 'the message');
    expect(link.received).toEqual(['hello']);
    expect(conditioner.getConnectionCount()).toBe(1);
    for (const direction of ['outgoing', 'incoming'] as const) {
      const counters = conditioner.getCounters(direction);
      expect(counters.forwarded).toBeGreaterThan(0);
      expect(counters.droppedUnknownSource).toBe(0);
    }
    // Cut, nothing reaches the remote; the reliable channel brings it through after restore().
    conditioner.cut();
    link.sending.putPacket(encode('during the cut'));
    // Until the cut has dropped something, however late a loaded machine sends it.
    await link.pair.pollUntil(() => conditioner.getCounters('outgoing').droppedByCut > 0, 'a datagram dropped by the cut');
    await pollFor([link.pair.a, link.pair.b], 300);
    expect(link.received).toEqual(['hello']);
    expect(conditioner.getCounters('outgoing').droppedByCut).toBeGreaterThan(0);
    conditioner.restore();
    await link.receive(2, 'the retransmission after restore()');
    expect(link.received).toEqual(['hello', 'during the cut']);
  });

  it('delivers every reliable message in order through loss, delay and duplication changed while running', async (context) => {
    const track = closeWithTest(context);
    const conditioner = track(new NetworkConditioner({ seed: 5 }));
    const link = await messaging(track, conditioner.backend);
    conditioner.setConditions('both', { loss: 0.1, delayMs: 10, jitterMs: 10, duplicate: 0.02 });
    const sent = Array.from({ length: 200 }, (_, index) => `${index} `.padEnd(1_000, '.'));
    for (const message of sent) link.sending.putPacket(encode(message));
    await link.receive(sent.length, 'every reliable message');
    expect(link.received).toEqual(sent);
    const outgoing = conditioner.getCounters('outgoing');
    expect(outgoing.dropped).toBeGreaterThan(0);
    expect(outgoing.dropped / outgoing.received).toBeLessThan(0.2);
  });

  it('leaves another connection of the same process alone', async (context) => {
    const track = closeWithTest(context);
    const conditioner = track(new NetworkConditioner({ seed: 7 }));
    const conditioned = await messaging(track, conditioner.backend);
    const direct = await messaging(track);
    conditioner.cut();
    const before = conditioner.getCounters('outgoing').received;
    direct.sending.putPacket(encode('direct'));
    await direct.receive(1, 'the message on the unconditioned connection');
    expect(direct.received).toEqual(['direct']);
    // What the direct connection sent did not cross the conditioner at all.
    conditioned.sending.putPacket(encode('conditioned'));
    await pollFor([conditioned.pair.a, conditioned.pair.b], 200);
    expect(conditioned.received).toEqual([]);
    expect(conditioner.getConnectionCount()).toBe(1);
    expect(conditioner.getCounters('outgoing').received - before).toBe(conditioner.getCounters('outgoing').droppedByCut);
    conditioner.restore();
    await conditioned.receive(1, 'the conditioned message after restore()');
  });
});

describe.concurrent('NetworkConditioner rules', () => {
  it('refuses bad options and directions with RtcError', () => {
    expect(() => new NetworkConditioner({ conditions: { loss: 2 } })).toThrow(RtcError);
    expect(() => new NetworkConditioner({ outgoing: { delayMs: -1 } })).toThrow(/delayMs/);
    expect(() => new NetworkConditioner({ seed: 1.5 })).toThrow(/seed/);
    expect(() => new NetworkConditioner({ maxQueued: 0 })).toThrow(/maxQueued/);
    const conditioner = new NetworkConditioner({ conditions: { loss: 0.1 }, incoming: { delayMs: 40 } });
    expect(conditioner.getConditions('outgoing')).toMatchObject({ loss: 0.1, delayMs: 0 });
    expect(conditioner.getConditions('incoming')).toMatchObject({ loss: 0.1, delayMs: 40 });
    expect(() => conditioner.setConditions('aToB' as 'both', { loss: 0 })).toThrow(/direction/);
    expect(() => conditioner.setConditions('both', { bandwidth: 1 } as Partial<LinkConditions>)).toThrow(RtcError);
  });

  it('announces one UDP host candidate, rewritten to its relay, and withholds every other kind', async (context) => {
    const track = closeWithTest(context);
    const announced: string[] = [];
    const given: string[] = [];
    let engine: BackendConnectionHandlers | undefined;
    const conditioner = track(
      new NetworkConditioner({
        backend: fakeBackend({ addRemoteCandidate: (_mid, candidate) => given.push(candidate) }, (handlers) => (engine = handlers)),
      }),
    );
    const connection = track(conditionedConnection(conditioner, (_mid, candidate) => announced.push(candidate)));
    engine?.localCandidate('0', 'a=candidate:1 1 UDP 2122317823 127.0.0.1 40001 typ host');
    engine?.localCandidate('0', 'a=candidate:2 1 UDP 2122317823 127.0.0.2 40001 typ host');
    engine?.localCandidate('0', 'a=candidate:3 1 TCP 2122317823 127.0.0.1 40002 typ host tcptype passive');
    engine?.localCandidate('0', 'a=candidate:4 1 UDP 16777215 198.51.100.7 3478 typ relay raddr 0.0.0.0 rport 0');
    connection.addRemoteCandidate('0', 'candidate:5 1 UDP 2122317823 198.51.100.8 50000 typ host');
    connection.addRemoteCandidate('0', 'candidate:6 1 UDP 16777215 127.0.0.1 3478 typ relay raddr 0.0.0.0 rport 0');
    connection.addRemoteCandidate('0', 'candidate:7 1 UDP 2122317823 127.0.0.1 50001 typ host');
    connection.addRemoteCandidate('0', 'candidate:8 1 UDP 2122317823 127.0.0.1 50002 typ host');
    await pollFor([], 100);
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatch(/^a=candidate:1 1 UDP 2122317823 127\.0\.0\.1 \d+ typ host$/);
    expect(announced[0]).not.toContain(' 40001 ');
    // The first remote candidate the relay can reach, pointed at the relay; the others only allowed.
    expect(given).toHaveLength(1);
    expect(given[0]).toMatch(/^candidate:7 1 UDP 2122317823 127\.0\.0\.1 \d+ typ host$/);
    expect(conditioner.getCounters('outgoing').candidatesWithheld).toBe(3);
    expect(conditioner.getCounters('incoming').candidatesWithheld).toBe(2);
  });
  it("passes the connection's poll on to the engine's, which may ask there what it is not told", (context) => {
    const track = closeWithTest(context);
    let polls = 0;
    const conditioner = track(new NetworkConditioner({ backend: fakeBackend({ poll: () => polls++ }) }));
    const connection = track(conditionedConnection(conditioner));
    connection.poll?.();
    connection.poll?.();
    expect(polls).toBe(2);
  });
});
