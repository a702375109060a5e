// The browser bundle (dist/browser.js, built by `npm test` before vitest) in real Chromium,
// against a Node.js peer: the two meet through the signaling server, connect, and trade packets
// on every transfer mode and RPCs, both ways.
import type { Browser } from 'playwright-core';
import { expect, it } from 'vitest';
import * as rtcmesh from '../../src/index.js';
import type * as rtcmeshBrowser from '../../src/browser.js';
import { launchChromium, openPage } from '../../bench/browser/chromium.js';
import { describeInBrowser } from './netns.js';
import { servePage } from './page-server.js';

const EXCHANGE_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 40_000;
const RELIABLE_COUNT = 3;

/** What one side of the exchange has received and measured. */
interface Received {
  id: number;
  lobby: string;
  /** Packets sent with sendBytes, as `[sender id, text]`. */
  packets: Array<[number, string]>;
  /** Calls of the reliable RPC, as `[sender id, text]`. */
  says: Array<[number, string]>;
  /** Arguments of the UnreliableOrdered RPC, in arrival order. */
  beats: number[];
  /** Round-trip time to the other side; NaN before the first measurement. */
  rttMs: number;
}

/** A running side: what it received, and how to stop it. */
interface Side {
  received: Received;
  stop(): void;
}

type Library = Pick<typeof rtcmeshBrowser, 'SignalingClient' | 'MultiplayerAPI' | 'TransferMode'>;

declare global {
  interface Window {
    rtcmesh: typeof rtcmeshBrowser;
    side: Side;
  }
}

/**
 * One side of the exchange, run alike by the Node.js peer and by the page (which gets its
 * source, so it uses nothing from outside its body). It joins `lobby` (or creates it, as the
 * host and server), and to each peer that connects it sends `reliableCount` reliable packets and
 * a reliable RPC once, then every tick an unreliable packet, an unreliable-ordered one and an
 * unreliable-ordered RPC.
 */
function startSide(lib: Library, url: string, lobby: string, name: string, reliableCount: number): Side {
  const frameMs = 16;
  const signaling = new lib.SignalingClient({ url, lobby, mesh: false, peerConfig: { bindAddress: '127.0.0.1' } });
  const api = new lib.MultiplayerAPI();
  api.multiplayerPeer = signaling.multiplayerPeer;
  const received: Received = { id: 0, lobby: '', packets: [], says: [], beats: [], rttMs: NaN };
  api.register(
    'chat',
    {
      say: (text: string) => received.says.push([api.getRemoteSenderId(), text]),
      beat: (n: number) => received.beats.push(n),
    },
    { say: { mode: 'anyPeer' }, beat: { mode: 'anyPeer', transferMode: lib.TransferMode.UnreliableOrdered } },
  );
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  api.on('peerPacket', (id, bytes) => received.packets.push([id, decoder.decode(bytes)]));
  api.on('peerConnected', (id) => {
    for (let n = 0; n < reliableCount; n++) api.sendBytes(encoder.encode(`reliable ${n}`), id, lib.TransferMode.Reliable);
    api.rpcId(id, 'chat', 'say', `hello from ${name}`);
  });
  let tick = 0;
  const timer = setInterval(() => {
    api.poll();
    received.id = api.getUniqueId();
    received.lobby = signaling.getLobby();
    for (const id of api.getPeers()) {
      api.sendBytes(encoder.encode(`unreliable ${tick}`), id, lib.TransferMode.Unreliable);
      api.sendBytes(encoder.encode(`ordered ${tick}`), id, lib.TransferMode.UnreliableOrdered);
      api.rpcId(id, 'chat', 'beat', tick);
      received.rttMs = signaling.multiplayerPeer.getPeerStats(id).rttMs;
    }
    tick++;
  }, frameMs);
  signaling.connect();
  return {
    received,
    stop: () => {
      clearInterval(timer);
      signaling.close();
      api.multiplayerPeer?.close();
    },
  };
}

/** Whether a side has had everything from peer `from`: every reliable packet, each unreliable kind, both RPCs, a round trip. */
function hasAllFrom(received: Received, from: number): boolean {
  const texts = received.packets.filter(([id]) => id === from).map(([, text]) => text);
  return (
    texts.filter((text) => text.startsWith('reliable ')).length === RELIABLE_COUNT &&
    texts.some((text) => text.startsWith('unreliable ')) &&
    texts.some((text) => text.startsWith('ordered ')) &&
    received.says.length > 0 &&
    received.beats.length > 0 &&
    Number.isFinite(received.rttMs)
  );
}

function checkFrom(received: Received, from: number, name: string): void {
  const texts = received.packets.filter(([id]) => id === from).map(([, text]) => text);
  expect(texts.filter((text) => text.startsWith('reliable '))).toEqual(Array.from({ length: RELIABLE_COUNT }, (_, n) => `reliable ${n}`));
  const ordered = texts.filter((text) => text.startsWith('ordered ')).map((text) => Number(text.split(' ')[1]));
  expect(ordered).toEqual([...ordered].sort((a, b) => a - b));
  expect(received.says).toEqual([[from, `hello from ${name}`]]);
  // UnreliableOrdered: never an older beat after a newer one.
  expect(received.beats).toEqual([...new Set(received.beats)].sort((a, b) => a - b));
  expect(received.rttMs).toBeGreaterThan(0);
}

describeInBrowser('the browser bundle in Chromium and a Node.js peer', () => {
  it(
    'meet through the signaling server, connect, and exchange reliable and unreliable packets and RPCs both ways',
    async () => {
      const pages = await servePage();
      const signalingServer = new rtcmesh.SignalingServer({ port: 0 });
      const { url } = await signalingServer.listen();
      const node = startSide(rtcmesh, url, '', 'Node.js', RELIABLE_COUNT);
      let browser: Browser | undefined;
      try {
        await expect.poll(() => node.received.lobby, { timeout: EXCHANGE_TIMEOUT_MS }).not.toBe('');
        browser = await launchChromium();
        const { page, errors } = await openPage(browser);
        await page.goto(pages.url);
        await page.waitForFunction(() => window.rtcmesh !== undefined);
        // The page gets the side's source, and runs it on the bundle it loaded.
        const args = [url, node.received.lobby, 'the browser', RELIABLE_COUNT].map((value) => JSON.stringify(value)).join(', ');
        await page.evaluate(`window.side = (${startSide.toString()})(window.rtcmesh, ${args}); undefined`);
        const pageReceived = (): Promise<Received> => page.evaluate(() => window.side.received);

        await expect
          .poll(async () => {
            const inPage = await pageReceived();
            return inPage.id > 1 && hasAllFrom(inPage, 1) && hasAllFrom(node.received, inPage.id);
          }, { timeout: EXCHANGE_TIMEOUT_MS })
          .toBe(true);

        const inPage = await pageReceived();
        checkFrom(node.received, inPage.id, 'the browser');
        checkFrom(inPage, 1, 'Node.js');
        expect(errors).toEqual([]);
        await page.evaluate(() => window.side.stop());
      } finally {
        node.stop();
        await browser?.close();
        await signalingServer.close();
        await pages.close();
        rtcmesh.cleanup();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
