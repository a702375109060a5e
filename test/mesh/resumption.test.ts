import { describe, expect, it } from 'vitest';
import { RtcError, TransferMode, WebRTCMultiplayerPeer } from '../../src/index.js';
import { connectThroughProxy, resumeThroughProxy } from '../support/proxied-mesh.js';
import { cleanupAfterAll, closeWithTest } from '../support/close-after-each.js';
import { wirePair } from '../support/transport-pair.js';
import { expectRtcError } from '../support/errors.js';

cleanupAfterAll();

const RESUMING = { reconnectGraceMs: 10_000, keepaliveTimeoutMs: 1500 };
const PACKETS = 10_000;

/** Packet `n`: its number and filler, so that order, loss and doubling all show. */
function numbered(n: number): Uint8Array {
  const packet = new Uint8Array(64);
  new DataView(packet.buffer).setUint32(0, n);
  packet.fill(n & 0xff, 4);
  return packet;
}

/** The stream one side reads: every number in order, each once, or the first that is not. */
class StreamCheck {
  next = 0;
  wrong = 0;

  read(peer: WebRTCMultiplayerPeer): void {
    for (let packet = peer.getPacket(); packet; packet = peer.getPacket()) {
      const n = new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(0);
      if (n !== this.next || packet[packet.byteLength - 1] !== (n & 0xff)) this.wrong++;
      this.next++;
    }
  }
}

// Each test has links of its own and mostly waits on them: they run side by side.
describe.concurrent('resuming a session on a new connection', () => {
  it('holds both sides through a 5 s cut, resumes on new connections, and delivers 10,000 reliable packets each way exactly once, in order', async (context) => {
    const track = closeWithTest(context);
    const mesh = track(await connectThroughProxy({ conditioner: { seed: 21 }, meshOptions: RESUMING }));
    const events: string[] = [];
    for (const [side, peer] of [['a', mesh.a], ['b', mesh.b]] as const) {
      peer.on('peerReconnecting', (id) => events.push(`${side} reconnecting ${id}`));
      peer.on('peerReconnected', (id) => events.push(`${side} reconnected ${id}`));
    }
    const checks = { a: new StreamCheck(), b: new StreamCheck() };
    const sent = { a: 0, b: 0 };
    const pump = (budget: number): void => {
      for (const side of ['a', 'b'] as const) {
        const limit = Math.min(PACKETS, sent[side] + budget);
        while (sent[side] < limit && mesh[side].putPacket(numbered(sent[side]))) sent[side]++;
      }
      checks.a.read(mesh.a);
      checks.b.read(mesh.b);
    };
    await mesh.pollUntil(() => (pump(20), sent.a >= 2000 && sent.b >= 2000), 'traffic before the cut');
    mesh.conditioner.cut();
    const cutAt = Date.now();
    await mesh.pollUntil(
      () => (pump(5), Date.now() - cutAt >= 5000 && mesh.a.isPeerReconnecting(1) && mesh.b.isPeerReconnecting(2)),
      'both sides to hold the session',
      15_000,
    );
    expect(mesh.a.getPeerStats(1)).toMatchObject({ connected: true, reconnecting: true });
    expect(mesh.a.getPeerStats(1).unacknowledgedBytes).toBeGreaterThan(0);
    mesh.conditioner.restore();
    const pair = resumeThroughProxy(mesh);
    try {
      await mesh.pollUntil(() => (pump(20), checks.a.next >= PACKETS && checks.b.next >= PACKETS), 'every packet on both sides', 30_000);
      expect(mesh.disconnected).toEqual({ a: [], b: [] });
      expect(checks.a).toMatchObject({ next: PACKETS, wrong: 0 });
      expect(checks.b).toMatchObject({ next: PACKETS, wrong: 0 });
      expect(events.sort()).toEqual(['a reconnected 1', 'a reconnecting 1', 'b reconnected 2', 'b reconnecting 2']);
      expect(mesh.a.getPeerStats(1).reconnecting).toBe(false);
      await mesh.pollUntil(() => mesh.a.getPeerStats(1).unacknowledgedBytes === 0, 'the last acknowledgement');
    } finally {
      mesh.close();
      pair.close();
    }
  }, 60_000);

  it('resends what was put before the cut when nothing is put after it', async (context) => {
    const track = closeWithTest(context);
    const mesh = track(await connectThroughProxy({ conditioner: { seed: 26 }, meshOptions: RESUMING }));
    for (let n = 0; n < 300; n++) expect(mesh.a.putPacket(numbered(n))).toBe(true);
    mesh.a.flush();
    // Cut before any acknowledgement can come back: every batch is in the log, none in the queue.
    mesh.conditioner.cut();
    await mesh.pollUntil(() => mesh.a.isPeerReconnecting(1) && mesh.b.isPeerReconnecting(2), 'the hold', 10_000);
    const check = new StreamCheck();
    check.read(mesh.b);
    mesh.conditioner.restore();
    const pair = resumeThroughProxy(mesh);
    try {
      await mesh.pollUntil(() => (check.read(mesh.b), check.next >= 300), 'every packet', 15_000);
      expect(check).toMatchObject({ next: 300, wrong: 0 });
    } finally {
      mesh.close();
      pair.close();
    }
  }, 30_000);

  it('resumes a session that had a state connection, on its one new connection', async (context) => {
    const track = closeWithTest(context);
    const mesh = track(await connectThroughProxy({ conditioner: { seed: 27 }, meshOptions: { ...RESUMING, stateConnection: true } }));
    mesh.conditioner.cut();
    await mesh.pollUntil(() => mesh.a.isPeerReconnecting(1) && mesh.b.isPeerReconnecting(2), 'the hold', 10_000);
    for (let n = 0; n < 100; n++) expect(mesh.a.putPacket(numbered(n))).toBe(true);
    mesh.conditioner.restore();
    const pair = resumeThroughProxy(mesh);
    const check = new StreamCheck();
    try {
      await mesh.pollUntil(() => (check.read(mesh.b), check.next >= 100), 'every packet', 15_000);
      expect(check).toMatchObject({ next: 100, wrong: 0 });
      // The keepalive and unreliable channels now travel on the new connection: state still flows.
      mesh.a.transferMode = TransferMode.UnreliableOrdered;
      await mesh.pollUntil(() => (mesh.a.putPacket(numbered(0)), mesh.b.getAvailablePacketCount() > 0), 'unreliable state', 10_000);
      expect(mesh.disconnected).toEqual({ a: [], b: [] });
    } finally {
      mesh.close();
      pair.close();
    }
  }, 30_000);

  it('queues reliable packets for a held peer and drops unreliable ones as stale', async (context) => {
    const track = closeWithTest(context);
    const mesh = track(await connectThroughProxy({ conditioner: { seed: 22 }, meshOptions: RESUMING }));
    mesh.conditioner.cut();
    await mesh.pollUntil(() => mesh.a.isPeerReconnecting(1), 'the hold', 10_000);
    expect(mesh.a.putPacket(numbered(0))).toBe(true);
    mesh.a.transferMode = TransferMode.Unreliable;
    expect(mesh.a.putPacket(numbered(1))).toBe(false);
    expect(mesh.a.getPeerStats(1).dropped.stale).toBe(1);
  }, 30_000);

  it('drops a held peer once, with peerDisconnected, at the end of the grace', async (context) => {
    const track = closeWithTest(context);
    const mesh = track(
      await connectThroughProxy({ conditioner: { seed: 23 }, meshOptions: { ...RESUMING, reconnectGraceMs: 1000 } }),
    );
    mesh.conditioner.cut();
    await mesh.pollUntil(() => mesh.disconnected.a.length > 0 && mesh.disconnected.b.length > 0, 'the end of the grace', 15_000);
    expect(mesh.disconnected).toEqual({ a: [1], b: [2] });
    expect(mesh.a.hasPeer(1)).toBe(false);
  }, 30_000);

  it('drops at once, on both sides, a peer closed on purpose: the goodbye says it will not resume', async (context) => {
    const track = closeWithTest(context);
    const mesh = track(await connectThroughProxy({ conditioner: { seed: 25 }, meshOptions: RESUMING }));
    const reconnecting: number[] = [];
    mesh.a.on('peerReconnecting', (id) => reconnecting.push(id));
    mesh.b.on('peerReconnecting', (id) => reconnecting.push(id));
    mesh.b.disconnectPeer(2);
    await mesh.pollUntil(() => mesh.disconnected.a.length > 0 && mesh.disconnected.b.length > 0, 'both drops', 10_000);
    expect(mesh.disconnected).toEqual({ a: [1], b: [2] });
    expect(reconnecting).toEqual([]);
  });

  it('refuses replacePeerConnection with resumption off, for a peer not yet connected, or with a used connection', async (context) => {
    const track = closeWithTest(context);
    const mesh = track(await connectThroughProxy({ conditioner: { seed: 24 } }));
    const pair = track(wirePair());
    expectRtcError(() => mesh.a.replacePeerConnection(1, pair.a), 'ERR_UNAVAILABLE');
    const resuming = track(new WebRTCMultiplayerPeer({ reconnectGraceMs: 1000 }));
    resuming.createMesh(3);
    expectRtcError(() => resuming.replacePeerConnection(1, pair.a), 'ERR_DOES_NOT_EXIST');
    resuming.addPeer(pair.a, 1);
    expectRtcError(() => resuming.replacePeerConnection(1, pair.b), 'ERR_INVALID_PARAMETER');
    expect(() => new WebRTCMultiplayerPeer({ reconnectGraceMs: -1 })).toThrow(RtcError);
  });
});
