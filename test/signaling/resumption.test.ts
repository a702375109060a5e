import { describe, expect, it } from 'vitest';
import { cleanupAfterAll, closeWithTest } from '../support/close-after-each.js';
import { pollUntil } from '../support/poll.js';
import { PACKETS, Streams, connectedPeers, lobbyWithCutMember, member } from '../support/resumable-lobby.js';

const TIMEOUT_MS = 20_000;

cleanupAfterAll();

// Each test has a signaling server and links of its own, and mostly waits on them: they run side by side.
describe.concurrent.each([
  ['a four-peer mesh', 4, true],
  ['a server with three clients', 4, false],
] as const)('resumption in %s, through the signaling server', (_name, count, mesh) => {
  it('a member cut for 5 s comes back with the same id, linked to every peer it had, and 10,000 reliable packets each way arrive exactly once, in order', async (context) => {
    const track = closeWithTest(context);
    const { members, cut, conditioner, proxy } = await lobbyWithCutMember(track, count, mesh, 10_000);
    const id = cut.client.getUniqueId();
    const peersBefore = connectedPeers(cut).sort();
    const others = members.filter((m) => m !== cut && peersBefore.includes(m.client.getUniqueId()));
    const streams = new Streams(others.flatMap((other) => [[cut, other] as const, [other, cut] as const]));
    const polled = members.map((m) => m.peer);
    await pollUntil(polled, () => (streams.pump(10), streams.received().every((n) => n >= 1000)), 'traffic before the cut', TIMEOUT_MS);
    conditioner.cut();
    proxy.cut();
    const cutAt = Date.now();
    await pollUntil(polled, () => (streams.pump(3), Date.now() - cutAt >= 5000), 'the 5 s cut', TIMEOUT_MS);
    expect(cut.peer.isPeerReconnecting(peersBefore[0]!)).toBe(true);
    conditioner.restore();
    proxy.restore();
    await pollUntil(
      polled,
      () => (streams.pump(10), peersBefore.every((p) => cut.peer.hasPeer(p) && !cut.peer.isPeerReconnecting(p))),
      'the member to resume with every peer',
      TIMEOUT_MS,
    );
    expect(cut.client.getUniqueId()).toBe(id);
    await pollUntil(polled, () => (streams.pump(50), streams.done()), 'every stream', 60_000);
    expect(streams.received()).toEqual(streams.received().map(() => PACKETS));
    expect(streams.wrong).toBe(0);
    expect(connectedPeers(cut).sort()).toEqual(peersBefore);
    for (const m of members) expect(m.disconnected).toEqual([]);
    expect(cut.reconnected.sort()).toEqual(peersBefore);
    expect(cut.ended).toEqual([]);
  }, 120_000);
});

describe.concurrent('the end of the grace', () => {
  it('drops a member cut for longer than the grace once, and refuses its late token', async (context) => {
    const track = closeWithTest(context);
    const grace = 3000;
    const { members, cut, conditioner, proxy } = await lobbyWithCutMember(track, 3, true, grace);
    const id = cut.client.getUniqueId();
    const polled = members.map((m) => m.peer);
    conditioner.cut();
    proxy.cut();
    const others = members.filter((m) => m !== cut);
    await pollUntil(polled, () => others.every((m) => m.disconnected.length > 0) && cut.ended.length > 0, 'the end of the grace', TIMEOUT_MS);
    conditioner.restore();
    proxy.restore();
    // The client gave up at the end of its grace; a fresh one presents the token it held.
    const late = member(track, `ws://127.0.0.1:${proxy.port}`, '', true, { grace, token: cut.client.getSessionToken() });
    await pollUntil([...polled, late.peer], () => late.ended.length > 0, 'the refusal', TIMEOUT_MS);
    expect(late.ended[0]).toEqual([4000, `the session of peer ${id} has ended`]);
    for (const m of others) expect(m.disconnected).toEqual([id]);
  }, 60_000);
});
