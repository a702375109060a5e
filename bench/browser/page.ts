/**
 * The browser scenario's page: the user-loop cases run in Chromium, rtcmesh's browser entry on the
 * page's own RTCPeerConnection beside raw RTCDataChannels doing the same traffic. Bundled for the
 * browser by bench/build.mjs; the benchmark calls `window.benchPage.runCase`.
 */
import '../../src/browser.js';
import { tryGroup } from '../broker.js';
import type { Flow } from '../flow-counter.js';
import { type PairCase, type RoundTrips, SETUP_TIMEOUT_MS, type Setups, timeSetups } from '../user-loop/case-types.js';
import { type ConnectRaw, type RawChannelEnd, rawFlow, rawPingPong } from '../user-loop/raw-side.js';
import { type Looping, rtcmeshFlow, rtcmeshPingPong, rtcmeshSetup } from '../user-loop/rtcmesh-side.js';
import { PageLoop, nextTask } from './page-loop.js';
import { RELIABLE_INIT, type RawChannelSpec, UNRELIABLE_INIT, connectRawPair } from './raw-pair.js';

/** The channels rtcmesh negotiates (system 0, reliable 1, ordered 2, unreliable 3): raw sets up the same. */
const RTCMESH_LAYOUT: RawChannelSpec[] = [
  { id: 0, init: UNRELIABLE_INIT },
  { id: 1, init: RELIABLE_INIT },
  { id: 2, init: UNRELIABLE_INIT },
  { id: 3, init: UNRELIABLE_INIT },
];

const PAGE_LOOPING: Looping = {
  startLoop: (turn) => new PageLoop(turn),
  nextTurn: nextTask,
  formPair: () => tryGroup(2, { pause: nextTask }, SETUP_TIMEOUT_MS),
};

/** The page's RTCDataChannel as a raw case's end. */
function pageEnd(channel: RTCDataChannel): RawChannelEnd {
  return {
    send: (bytes) => channel.send(bytes as Uint8Array<ArrayBuffer>),
    bufferedAmount: () => channel.bufferedAmount,
    onBytes: (handler) => {
      channel.onmessage = (event: MessageEvent<ArrayBuffer>) => handler(new Uint8Array(event.data));
    },
  };
}

const connectPage: ConnectRaw = async (reliable) => {
  const pair = await connectRawPair([{ id: 1, init: reliable ? RELIABLE_INIT : UNRELIABLE_INIT }], SETUP_TIMEOUT_MS);
  return { a: pageEnd(pair.a[0]!), b: pageEnd(pair.b[0]!), close: async () => pair.close() };
};

async function rawSetup(): Promise<() => Promise<void>> {
  const pair = await connectRawPair(RTCMESH_LAYOUT, SETUP_TIMEOUT_MS);
  return async () => pair.close();
}

/** Runs one case on one side, in this page. */
export function runCase(side: 'raw' | 'rtcmesh', test: PairCase): Promise<Flow | RoundTrips | Setups> {
  switch (test.kind) {
    case 'flow':
      return side === 'raw' ? rawFlow(test, PAGE_LOOPING, connectPage) : rtcmeshFlow(test, PAGE_LOOPING);
    case 'ping-pong':
      return side === 'raw' ? rawPingPong(test, PAGE_LOOPING, connectPage) : rtcmeshPingPong(test, PAGE_LOOPING);
    case 'setup':
      return timeSetups(test, side === 'raw' ? rawSetup : () => rtcmeshSetup(PAGE_LOOPING));
  }
}

declare global {
  interface Window {
    benchPage: { runCase: typeof runCase };
  }
}

window.benchPage = { runCase };
