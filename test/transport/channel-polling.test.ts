// A connection's poll() looks only at the channels that have news from the engine (a message,
// opening, closing), and at those still opening: a server's poll does not visit every channel of
// every client each frame. What the game sees after each poll is the same as if it did.
import { describe, expect, it } from 'vitest';
import {
  type Backend,
  type BackendChannel,
  ChannelState,
  type DataChannel,
  ManualScheduler,
  type PeerConnection,
  createMemoryBackend,
} from '../../src/index.js';
import { wirePair } from '../support/transport-pair.js';

/** One side's view of a memory backend, counting the polls each of its channels gets, by label. */
function countingBackend(memory: Backend): { backend: Backend; polls: Map<string, number> } {
  const polls = new Map<string, number>();
  const counted = (channel: BackendChannel): BackendChannel => {
    const poll = channel.poll.bind(channel);
    channel.poll = () => {
      polls.set(channel.info.label, (polls.get(channel.info.label) ?? 0) + 1);
      poll();
    };
    return channel;
  };
  const backend: Backend = {
    name: 'counting memory',
    createConnection(config, handlers) {
      const connection = memory.createConnection(config, { ...handlers, dataChannel: (channel) => handlers.dataChannel(counted(channel)) });
      const create = connection.createDataChannel.bind(connection);
      connection.createDataChannel = (label, init) => counted(create(label, init));
      return connection;
    },
  };
  return { backend, polls };
}

function openPair() {
  const scheduler = new ManualScheduler();
  const memory = createMemoryBackend({ scheduler });
  const a = countingBackend(memory);
  const b = countingBackend(memory);
  const pair = wirePair({}, a.backend, b.backend);
  const channels = (pc: PeerConnection): DataChannel[] =>
    ['one', 'two', 'three'].map((label, n) => pc.createDataChannel(label, { negotiated: true, id: n + 1 }));
  const ofA = channels(pair.a);
  const ofB = channels(pair.b);
  const run = (ms: number): void => {
    for (let step = 0; step < ms; step++) {
      scheduler.advance(1);
      pair.a.poll();
      pair.b.poll();
    }
  };
  pair.a.createOffer();
  run(10);
  expect([...ofA, ...ofB].every((channel) => channel.getReadyState() === ChannelState.Open)).toBe(true);
  return { pair, run, ofA, ofB, pollsOfB: b.polls };
}

describe('a connection polls the channels with news', () => {
  it('polls no channel while nothing happens, and only the one a message arrived on', () => {
    const { pair, run, ofA, ofB, pollsOfB } = openPair();
    pollsOfB.clear();
    run(50);
    expect(pollsOfB.size).toBe(0);

    ofA[1]!.putPacket(Uint8Array.of(7));
    ofA[1]!.putPacket(Uint8Array.of(8));
    run(5);
    expect([...pollsOfB]).toEqual([['two', 1]]);
    expect([ofB[1]!.getPacket(), ofB[1]!.getPacket(), ofB[1]!.getPacket()]).toEqual([Uint8Array.of(7), Uint8Array.of(8), null]);
    expect(ofB[0]!.getAvailablePacketCount() + ofB[2]!.getAvailablePacketCount()).toBe(0);
    pair.close();
  });

  it('hands a message to the game after the poll that follows its arrival, also on a channel the game polled itself', () => {
    const { pair, run, ofA, ofB } = openPair();
    ofB[0]!.poll();
    ofA[0]!.putPacket(Uint8Array.of(1));
    run(5);
    expect(ofB[0]!.getPacket()).toEqual(Uint8Array.of(1));
    ofA[0]!.putPacket(Uint8Array.of(2));
    ofB[0]!.poll();
    run(5);
    expect(ofB[0]!.getPacket()).toEqual(Uint8Array.of(2));
    pair.close();
  });

  it('reads a channel closed by the remote as Closed after a poll, and polls it no more', () => {
    const { pair, run, ofA, ofB, pollsOfB } = openPair();
    ofA[2]!.close();
    run(5);
    expect(ofB.map((channel) => channel.getReadyState())).toEqual([ChannelState.Open, ChannelState.Open, ChannelState.Closed]);
    pollsOfB.clear();
    run(20);
    expect(pollsOfB.size).toBe(0);
    pair.close();
  });
});
