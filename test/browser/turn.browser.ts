// Chromium through a real coturn: the page and a Node.js peer, both held to relay candidates
// only, get TURN credentials from the signaling server with their IDs, connect through coturn and
// trade reliable and unreliable packets.
import type { Browser } from 'playwright-core';
import { expect, it } from 'vitest';
import * as rtcmesh from '../../src/index.js';
import type * as rtcmeshBrowser from '../../src/browser.js';
import { TurnServer } from '../support/turn-server.js';
import { launchChromium, openPage } from '../../bench/browser/chromium.js';
import { describeInBrowser } from './netns.js';
import { servePage } from './page-server.js';

const SECRET = 'a-test-secret-for-coturn-only';
const EXCHANGE_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 40_000;

/** What one side has: its id, its lobby, and the packets it received as `sender:text`. */
interface RelaySide {
  id: number;
  lobby: string;
  received: string[];
  failures: string[];
  stop(): void;
}

type Library = Pick<typeof rtcmeshBrowser, 'SignalingClient' | 'TransferMode'>;

declare global {
  interface Window {
    rtcmesh: typeof rtcmeshBrowser;
    relaySide: RelaySide;
  }
}

/**
 * One side, run alike in Node.js and in the page (which gets its source): joins `lobby` (or
 * creates it) with relay candidates only, and sends each peer that connects a reliable and, every
 * frame, an unreliable packet.
 */
function startRelaySide(lib: Library, url: string, lobby: string): RelaySide {
  const signaling = new lib.SignalingClient({ url, lobby, peerConfig: { iceTransportPolicy: 'relay' } });
  const peer = signaling.multiplayerPeer;
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const timer = setInterval(() => {
    peer.poll();
    side.id = signaling.getUniqueId();
    side.lobby = signaling.getLobby();
    while (peer.getAvailablePacketCount() > 0) {
      const from = peer.getPacketPeer();
      side.received.push(`${from}:${decoder.decode(peer.getPacket()!)}`);
    }
    for (const [id, info] of peer.getPeers()) {
      if (!info.connected) continue;
      peer.setTargetPeer(id);
      peer.transferMode = lib.TransferMode.Unreliable;
      peer.putPacket(encoder.encode('unreliable'));
    }
  }, 16);
  peer.on('peerConnected', (id) => {
    peer.setTargetPeer(id);
    peer.transferMode = lib.TransferMode.Reliable;
    peer.putPacket(encoder.encode('reliable'));
  });
  const side: RelaySide = {
    id: 0,
    lobby: '',
    received: [],
    failures: [],
    stop: () => {
      clearInterval(timer);
      signaling.close();
      peer.close();
    },
  };
  signaling.on('negotiationFailed', (_id, reason) => side.failures.push(reason));
  signaling.connect();
  return side;
}

function hasBoth(side: Pick<RelaySide, 'received'>, from: number): boolean {
  return side.received.includes(`${from}:reliable`) && side.received.includes(`${from}:unreliable`);
}

describeInBrowser('Chromium and a Node.js peer through coturn', () => {
  it(
    'connect with relay candidates only, on TURN credentials from the signaling server',
    async () => {
      const pages = await servePage();
      const turn = await TurnServer.start(SECRET);
      const signalingServer = new rtcmesh.SignalingServer({ port: 0, turnSecret: SECRET, turnUrl: turn.url });
      const { url } = await signalingServer.listen();
      const node = startRelaySide(rtcmesh, url, '');
      let browser: Browser | undefined;
      try {
        await expect.poll(() => node.lobby, { timeout: EXCHANGE_TIMEOUT_MS }).not.toBe('');
        browser = await launchChromium();
        const { page, errors } = await openPage(browser);
        await page.goto(pages.url);
        await page.waitForFunction(() => window.rtcmesh !== undefined);
        const args = [url, node.lobby].map((value) => JSON.stringify(value)).join(', ');
        await page.evaluate(`window.relaySide = (${startRelaySide.toString()})(window.rtcmesh, ${args}); undefined`);
        const inPage = (): Promise<Pick<RelaySide, 'id' | 'received' | 'failures'>> =>
          page.evaluate(() => ({ id: window.relaySide.id, received: window.relaySide.received, failures: window.relaySide.failures }));
        await expect
          .poll(async () => {
            const side = await inPage();
            return side.id > 1 && hasBoth(side, 1) && hasBoth(node, side.id);
          }, { timeout: EXCHANGE_TIMEOUT_MS })
          .toBe(true);
        const pageId = (await inPage()).id;
        // coturn allocated a relay for each side, under the credentials the server handed it.
        for (const id of [1, pageId]) {
          expect(turn.log.some((line) => new RegExp(`user <\\d+:${id}>: incoming packet ALLOCATE processed, success`).test(line))).toBe(true);
        }
        expect(errors).toEqual([]);
        await page.evaluate(() => window.relaySide.stop());
      } finally {
        node.stop();
        await browser?.close();
        await signalingServer.close();
        await turn.close();
        await pages.close();
        rtcmesh.cleanup();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
