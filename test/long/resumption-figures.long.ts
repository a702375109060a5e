// The resumption figures of docs/reliability.md, measured on real connections; minutes long, so
// outside `npm test`:  npx vitest run --config test/long/vitest.config.ts
// RUNS (default 20) sets the runs of the resume-time measurements.
import { afterAll, afterEach, expect, it } from 'vitest';
import { type LinkConditions, cleanup } from '../../src/index.js';
import { percentile } from '../../src/cli/statistics.js';
import { recordSize } from '../../src/mesh/framing.js';
import { pollUntil } from '../support/poll.js';
import { connectThroughProxy, resumeThroughProxy } from '../support/proxied-mesh.js';
import type { Track } from '../support/close-after-each.js';
import { connectedPeers, lobbyWithCutMember } from '../support/resumable-lobby.js';
import type { TransportPair } from '../support/transport-pair.js';

const RUNS = Number(process.env.RUNS ?? 20);
const CUT_MS = 5000;

// Closed in reverse order of opening: the servers last.
const opened: Array<{ close(): unknown }> = [];
const track: Track = (item) => (opened.push(item), item);
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});
afterAll(() => cleanup());

function summary(samples: number[]): string {
  const p = (rank: number): string => percentile(samples, rank).toFixed(0);
  return `p50 ${p(50)} ms, p99 ${p(99)} ms, min ${p(0)}, max ${p(100)} (${samples.length} runs)`;
}

/** Runs of a four-peer lobby with one member cut for 5 s; the time from the end of the cut until it has resumed with every peer. */
async function timeToResume(mesh: boolean, cutSignaling: boolean): Promise<number[]> {
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const { members, cut, conditioner, proxy } = await lobbyWithCutMember(track, 4, mesh, 10_000);
    const peers = connectedPeers(cut);
    const polled = members.map((m) => m.peer);
    conditioner.cut();
    if (cutSignaling) proxy.cut();
    const cutAt = Date.now();
    await pollUntil(polled, () => Date.now() - cutAt >= CUT_MS, 'the cut', CUT_MS + 5000);
    conditioner.restore();
    proxy.restore();
    const restoredAt = performance.now();
    await pollUntil(polled, () => peers.every((id) => !cut.peer.isPeerReconnecting(id)), 'the resumption', 20_000);
    samples.push(performance.now() - restoredAt);
    expect(members.every((m) => m.disconnected.length === 0)).toBe(true);
    for (const item of opened.splice(0).reverse()) await item.close();
  }
  return samples;
}

it('time to resume after a 5 s cut, signaling cut too (the member rejoins)', async () => {
  console.log(`mesh of 4, WebRTC and signaling cut: ${summary(await timeToResume(true, true))}`);
  console.log(`server and 3 clients, WebRTC and signaling cut: ${summary(await timeToResume(false, true))}`);
});

it('time to resume after a 5 s cut, signaling up (new connections offered every 2 s while held)', async () => {
  console.log(`mesh of 4, WebRTC cut only: ${summary(await timeToResume(true, false))}`);
});

/** The link of docs/reliability.md's lossy runs. */
function lossyLink(loss: number): Partial<LinkConditions> {
  return { loss, delayMs: 20, jitterMs: 60, reorder: 0.05, duplicate: 0.02 };
}

it('10,000 reliable packets at 30 % loss both ways for 90 s, resuming when SCTP gives up', async () => {
  for (const seed of (process.env.SEEDS ?? '12,13,14').split(',').map(Number)) {
    const mesh = await connectThroughProxy({
      conditioner: { seed },
      meshOptions: { reconnectGraceMs: 30_000, keepaliveTimeoutMs: 10_000, disconnectGraceMs: 10_000 },
    });
    track(mesh);
    mesh.conditioner.setConditions('both', lossyLink(0.3));
    const packet = (n: number): Uint8Array => Uint8Array.from({ length: 100 }, (_, i) => (n * 7 + i) & 0xff);
    let sent = 0;
    let received = 0;
    let wrong = 0;
    let resumptions = 0;
    let attempt: { pair: TransportPair; at: number } | undefined;
    const startedAt = Date.now();
    // When each side held and resumed the session, with the packets read by then.
    const timeline: string[] = [];
    const mark = (what: string): number => timeline.push(`${what} at ${((Date.now() - startedAt) / 1000).toFixed(1)} s (${received} read)`);
    mesh.a.on('peerReconnecting', () => mark('held'));
    mesh.a.on('peerReconnected', () => {
      resumptions++;
      mark('resumed');
    });
    await pollUntil(
      [mesh.a, mesh.b],
      () => {
        while (sent < 10_000 && mesh.a.putPacket(packet(sent))) sent++;
        for (let got = mesh.b.getPacket(); got; got = mesh.b.getPacket()) {
          if (Buffer.compare(got, packet(received)) !== 0) wrong++;
          received++;
        }
        // A side that holds the session gets new connections, again every 10 s while not resumed.
        const held = mesh.a.isPeerReconnecting(1) || mesh.b.isPeerReconnecting(2);
        if (held && (!attempt || Date.now() - attempt.at > 10_000) && mesh.a.hasPeer(1) && mesh.b.hasPeer(2)) {
          attempt?.pair.close();
          attempt = { pair: resumeThroughProxy(mesh), at: Date.now() };
        }
        return received >= 10_000 || Date.now() - startedAt > 90_000 || !mesh.a.hasPeer(1);
      },
      '90 s of traffic',
      100_000,
    );
    const held = mesh.a.getPeerStats(1);
    console.log(
      `30 % loss, seed ${seed}: ${received} of 10,000 in ${((Date.now() - startedAt) / 1000).toFixed(0)} s, ${wrong} out of place, ` +
        `${resumptions} resumptions, peer ${mesh.a.hasPeer(1) ? 'kept' : 'dropped'}, ${held.unacknowledgedBytes} B unacknowledged ` +
        `(${recordSize(100)} B a packet); ${timeline.join(', ')}`,
    );
    attempt?.pair.close();
    for (const item of opened.splice(0).reverse()) await item.close();
  }
});
