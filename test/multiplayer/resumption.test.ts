import { describe, expect, it } from 'vitest';
import { MultiplayerAPI, TransferMode } from '../../src/index.js';
import { connectThroughProxy, resumeThroughProxy } from '../support/proxied-mesh.js';
import { closeAfterEach } from '../support/close-after-each.js';
import { pollUntil } from '../support/poll.js';

const track = closeAfterEach();
const CALLS = 500;

describe('MultiplayerAPI across a resumed session', () => {
  it('reports the peer reconnecting then reconnected, queues reliable calls meanwhile, drops unreliable ones, and does not authenticate again', async () => {
    const apis = { a: new MultiplayerAPI(), b: new MultiplayerAPI() };
    const received: number[] = [];
    const authenticated = { a: 0, b: 0 };
    const events: string[] = [];
    const mesh = track(
      await connectThroughProxy({
        conditioner: { seed: 41 },
        meshOptions: { reconnectGraceMs: 10_000, keepaliveTimeoutMs: 1500 },
        beforeConnect: (peers) => {
          for (const side of ['a', 'b'] as const) {
            const api = apis[side];
            api.multiplayerPeer = peers[side];
            api.register('/counter', { add: (n: number) => side === 'b' && received.push(n), glance: (_n: number) => undefined }, {
              add: { mode: 'anyPeer', transferMode: TransferMode.Reliable },
              glance: { mode: 'anyPeer', transferMode: TransferMode.Unreliable },
            });
            api.authCallback = (id) => {
              authenticated[side]++;
              api.completeAuth(id);
            };
            api.on('peerAuthenticating', (id) => api.sendAuth(id, Uint8Array.of(1)));
            api.on('peerReconnecting', (id) => events.push(`${side} reconnecting ${id}`));
            api.on('peerReconnected', (id) => events.push(`${side} reconnected ${id}`));
            api.on('peerDisconnected', (id) => events.push(`${side} disconnected ${id}`));
          }
        },
      }),
    );
    const poll = (done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> => pollUntil([apis.a, apis.b], done, what, timeoutMs);
    await poll(() => apis.a.getPeers().includes(1) && apis.b.getPeers().includes(2), 'admission');
    let sent = 0;
    const send = (count: number): void => {
      for (const end = Math.min(CALLS, sent + count); sent < end; sent++) expect(apis.a.rpcId(1, '/counter', 'add', sent)).toBe(true);
    };
    send(100);
    mesh.conditioner.cut();
    await poll(() => events.includes('a reconnecting 1') && events.includes('b reconnecting 2'), 'the hold');
    expect(apis.a.getPeerStats(1).transport?.reconnecting).toBe(true);
    send(300);
    expect(apis.a.rpcId(1, '/counter', 'glance', 0)).toBe(false);
    expect(mesh.a.getPeerStats(1).dropped.stale).toBeGreaterThan(0);
    mesh.conditioner.restore();
    const pair = resumeThroughProxy(mesh);
    try {
      await poll(() => events.includes('a reconnected 1') && events.includes('b reconnected 2'), 'the resumption');
      send(CALLS);
      await poll(() => received.length >= CALLS, 'every call');
      expect(received).toEqual(Array.from({ length: CALLS }, (_, n) => n));
      expect(authenticated).toEqual({ a: 1, b: 1 });
      expect(events.filter((event) => event.includes('disconnected'))).toEqual([]);
      expect(apis.a.getPeers()).toEqual([1]);
    } finally {
      apis.a.multiplayerPeer = null;
      apis.b.multiplayerPeer = null;
      mesh.a.close();
      mesh.b.close();
      pair.close();
    }
  }, 60_000);
});
