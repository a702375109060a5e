import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url);
const bundle = new URL('dist/browser.js', root);

/** The Node entry's names that need Node: the browser entry must leave exactly these out. */
const NODE_ONLY = [
  'NODE_WEBSOCKET_MAX_PAYLOAD',
  'NodeWebSocket',
  'SignalingServer',
  'nodeDataChannelBackend',
  // The network conditioner relays UDP: src/conditioner/ as a whole stays out of the browser.
  'NetworkConditioner',
  'PERFECT_LINK',
  'CONDITION_FLAGS',
  'CONDITION_FLAG_HELP',
  'conditionFlagArgs',
  'describeConditions',
  'hasConditionFlags',
  'readConditionFlags',
];

function runNode(script: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
}

describe('the browser bundle (dist/browser.js, "rtcmesh/browser")', () => {
  it('is built, and loads no Node built-in by import or require', () => {
    expect(existsSync(bundle), 'run npm run build first').toBe(true);
    const code = readFileSync(bundle, 'utf8');
    const loaded = [...code.matchAll(/(?:\brequire\s*\(|\bimport\s*\(|\bfrom)\s*["']([^"']+)["']/g)].map((match) => match[1]!);
    expect(loaded.filter((name) => name.startsWith('node:') || builtinModules.includes(name.split('/')[0]!))).toEqual([]);
    expect(code).not.toMatch(/["']node:/);
  });

  it('runs in Node on the polyfill RTCPeerConnection and ws WebSocket, as in a browser, with the Node entry\'s API', () => {
    const out = runNode(`
      import nodeDataChannel from 'node-datachannel';
      import { RTCPeerConnection } from 'node-datachannel/polyfill';
      import { WebSocket } from 'ws';
      globalThis.RTCPeerConnection = RTCPeerConnection;
      globalThis.WebSocket = WebSocket;
      const browser = await import('rtcmesh/browser');
      const node = await import('rtcmesh');
      const pc = new browser.PeerConnection();
      pc.initialize({ bindAddress: '127.0.0.1' });
      pc.createDataChannel('c', { negotiated: true, id: 1 });
      pc.createOffer();
      // The engine makes the offer on its own threads: as late as a loaded machine runs them.
      const deadline = Date.now() + 10_000;
      let offered = false;
      while (!offered && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        pc.poll();
        offered = pc.getSignalingState() === browser.SignalingState.HaveLocalOffer;
      }
      pc.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      nodeDataChannel.cleanup();
      const nodeOnly = ${JSON.stringify(NODE_ONLY)};
      console.log(JSON.stringify({
        types: ['PeerConnection', 'WebRTCMultiplayerPeer', 'MultiplayerAPI', 'SignalingClient', 'createW3CBackend', 'cleanup']
          .map((name) => typeof browser[name]),
        backend: browser.PeerConnection.getDefaultBackend()?.name,
        webSocket: browser.SignalingClient.getDefaultWebSocket() === WebSocket,
        offered,
        missing: Object.keys(node).filter((name) => !(name in browser) && !nodeOnly.includes(name)),
        extra: Object.keys(browser).filter((name) => !(name in node)),
        leaked: nodeOnly.filter((name) => name in browser),
      }));
    `);
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({
      types: ['function', 'function', 'function', 'function', 'function', 'function'],
      backend: 'w3c',
      webSocket: true,
      offered: true,
      missing: [],
      extra: [],
      leaked: [],
    });
  });
});
