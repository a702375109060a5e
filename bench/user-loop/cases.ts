/**
 * The cases of the user-loop scenario in Node.js, each run alone in its own process
 * (user-loop/child.ts): rtcmesh's side (rtcmesh-side.ts) and the raw side (raw-side.ts) on
 * node-datachannel, every loop a {@link TurnLoop} of its own.
 */
import type nodeDataChannel from 'node-datachannel';
import { formGroup } from '../broker.js';
import type { Flow } from '../flow-counter.js';
import { nextTurn } from '../loop.js';
import { RELIABLE, type RawChannelSpec, UNRELIABLE, connectRawLink, tryRawLinks } from '../raw-link.js';
import { type RoundTrips, SETUP_TIMEOUT_MS, type Setups, type UserLoopCase, timeSetups } from './case-types.js';
import { type ConnectRaw, type RawChannelEnd, rawFlow, rawPingPong } from './raw-side.js';
import { type Looping, rtcmeshFlow, rtcmeshPingPong, rtcmeshSetup } from './rtcmesh-side.js';
import { signalingSetups } from './signaling-setup.js';
import { TickLoop } from '../capacity/tick-loop.js';
import { TurnLoop } from './turn-loop.js';

const NODE_LOOPING: Looping = {
  startLoop: (turn) => new TurnLoop(turn),
  nextTurn,
  formPair: () => formGroup(2),
};

/** Every side's loop a game's frame loop at `hz`. */
function frameLooping(hz: number): Looping {
  return {
    ...NODE_LOOPING,
    startLoop(turn) {
      const loop = new TickLoop(hz, turn);
      return { stop: async () => loop.stop() };
    },
  };
}

/** The channels rtcmesh negotiates (system 0, reliable 1, ordered 2, unreliable 3): raw sets up the same. */
const RTCMESH_LAYOUT: RawChannelSpec[] = [
  { id: 0, options: UNRELIABLE },
  { id: 1, options: RELIABLE },
  { id: 2, options: UNRELIABLE },
  { id: 3, options: UNRELIABLE },
];

/** node-datachannel's channel as a raw case's end. */
function nativeEnd(channel: nodeDataChannel.DataChannel): RawChannelEnd {
  return {
    send: (bytes) => channel.sendMessageBinary(bytes),
    bufferedAmount: () => channel.bufferedAmount(),
    onBytes: (handler) => channel.onMessage((message) => handler(message as Buffer)),
  };
}

const connectNative: ConnectRaw = async (reliable) => {
  const link = await connectRawLink([{ id: 1, options: reliable ? RELIABLE : UNRELIABLE }]);
  return { a: nativeEnd(link.a.channels[0]!), b: nativeEnd(link.b.channels[0]!), close: () => link.close() };
};

async function rawSetup(): Promise<() => Promise<void>> {
  const [link] = await tryRawLinks(1, RTCMESH_LAYOUT, SETUP_TIMEOUT_MS);
  return () => link!.close();
}

/** Runs one case on one side. */
export function runCase(side: 'raw' | 'rtcmesh', test: UserLoopCase): Promise<Flow | RoundTrips | Setups> {
  switch (test.kind) {
    case 'flow': {
      const looping = test.frameHz === undefined ? NODE_LOOPING : frameLooping(test.frameHz);
      return side === 'raw' ? rawFlow(test, looping, connectNative) : rtcmeshFlow(test, looping);
    }
    case 'ping-pong':
      return side === 'raw' ? rawPingPong(test, NODE_LOOPING, connectNative) : rtcmeshPingPong(test, NODE_LOOPING);
    case 'setup':
      return timeSetups(test, side === 'raw' ? rawSetup : () => rtcmeshSetup(NODE_LOOPING));
    case 'signaling-setup':
      if (side === 'raw') throw new Error('the raw side has no signaling: run the signaling setups on rtcmesh only');
      return signalingSetups(test);
  }
}
