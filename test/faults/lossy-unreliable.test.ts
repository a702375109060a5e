import { type TestContext, describe, expect, it } from 'vitest';
import { TransferMode } from '../../src/index.js';
import { median } from '../../src/cli/statistics.js';
import { clockMs } from '../../src/mesh/clock.js';
import { type ProxiedMesh, type ProxiedMeshOptions, connectThroughProxy } from '../support/proxied-mesh.js';
import { cleanupAfterAll, closeWithTest } from '../support/close-after-each.js';

cleanupAfterAll();
const mesh = async (context: TestContext, options: ProxiedMeshOptions): Promise<ProxiedMesh> => closeWithTest(context)(await connectThroughProxy(options));

const TICK_MS = 1000 / 60;

/** A 64 B state packet: sequence number and send time (both peers share this process's clock). */
function statePacket(sequence: number): Uint8Array {
  const packet = new Uint8Array(64);
  const view = new DataView(packet.buffer);
  view.setUint32(0, sequence);
  view.setFloat64(4, clockMs());
  packet.fill(sequence & 0xff, 12);
  return packet;
}

interface Arrival {
  sequence: number;
  ageMs: number;
  intact: boolean;
}

function readState(packet: Uint8Array): Arrival {
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const sequence = view.getUint32(0);
  return { sequence, ageMs: clockMs() - view.getFloat64(4), intact: packet.subarray(12).every((byte) => byte === (sequence & 0xff)) };
}

/** Runs a 60 Hz sender on peer 2 for `ms`, collecting what peer 1 reads, with `during` called each tick. */
async function stream(m: ProxiedMesh, mode: TransferMode, ms: number, during: (elapsed: number) => void = () => {}): Promise<Arrival[]> {
  m.a.transferMode = mode;
  const arrivals: Arrival[] = [];
  const start = clockMs();
  let sequence = 0;
  await m.pollUntil(() => {
    const elapsed = clockMs() - start;
    during(elapsed);
    while (sequence * TICK_MS < Math.min(elapsed, ms)) m.a.putPacket(statePacket(sequence++));
    for (let packet = m.b.getPacket(); packet; packet = m.b.getPacket()) arrivals.push(readState(packet));
    return elapsed > ms + 500;
  }, 'the stream', ms + 10_000);
  return arrivals;
}

// Each test has a link of its own and mostly waits on it: they run side by side.
describe.concurrent('unreliable channels through a lossy link', () => {
  it('UnreliableOrdered at 10% loss: never older than what was delivered, intact, no duplicates, median age under 150 ms', async (context) => {
    const m = await mesh(context, { conditioner: { seed: 21 } });
    m.conditioner.setConditions('both', { loss: 0.1, delayMs: 20, jitterMs: 60, reorder: 0.05, duplicate: 0.02 });
    const arrivals = await stream(m, TransferMode.UnreliableOrdered, 5000);
    const sequences = arrivals.map((a) => a.sequence);
    expect(sequences.every((s, n) => n === 0 || s > sequences[n - 1]!)).toBe(true);
    expect(arrivals.every((a) => a.intact)).toBe(true);
    expect(median(arrivals.map((a) => a.ageMs))).toBeLessThan(150);
    expect(arrivals.length).toBeGreaterThan(150);
  }, 30_000);

  it('Unreliable at 10% loss: a delivery ratio consistent with the loss, and no duplicates', async (context) => {
    const m = await mesh(context, { conditioner: { seed: 22 } });
    m.conditioner.setConditions('both', { loss: 0.1, delayMs: 20, jitterMs: 60, reorder: 0.05, duplicate: 0.02 });
    const arrivals = await stream(m, TransferMode.Unreliable, 5000);
    const sent = m.a.getPeerStats(1).channels[2]!.packetsSent;
    expect(new Set(arrivals.map((a) => a.sequence)).size).toBe(arrivals.length);
    expect(arrivals.every((a) => a.intact)).toBe(true);
    const ratio = arrivals.length / sent;
    expect(ratio).toBeGreaterThan(0.75);
    expect(ratio).toBeLessThanOrEqual(1);
  }, 30_000);

  it('after a 3 s cut, delivers no unreliable packet older than the lifetime', async (context) => {
    const lifetime = 300;
    const m = await mesh(context, { conditioner: { seed: 23 }, unreliableLifetime: lifetime, meshOptions: { keepaliveTimeoutMs: 10_000, disconnectGraceMs: 10_000 } });
    let restoredAt = 0;
    const arrivals = await stream(m, TransferMode.Unreliable, 6000, (elapsed) => {
      if (elapsed > 1000 && elapsed < 4000 && !m.conditioner.isCut) m.conditioner.cut();
      if (elapsed >= 4000 && m.conditioner.isCut) {
        m.conditioner.restore();
        restoredAt = elapsed;
      }
    });
    expect(restoredAt).toBeGreaterThan(0);
    expect(m.disconnected).toEqual({ a: [], b: [] });
    // Within the lifetime, plus the poll interval of this loop.
    expect(Math.max(...arrivals.map((a) => a.ageMs))).toBeLessThan(lifetime + 50);
    expect(arrivals.filter((a) => a.sequence * TICK_MS > 4500).length).toBeGreaterThan(30);
  }, 30_000);
});

describe.concurrent('cuts and the keepalive', () => {
  it('a cut shorter than the grace period keeps the peer, and reliable traffic resumes with nothing lost', async (context) => {
    const m = await mesh(context, { conditioner: { seed: 24 }, meshOptions: { keepaliveTimeoutMs: 3000, disconnectGraceMs: 3000 } });
    let received = 0;
    let next = 0;
    const start = clockMs();
    await m.pollUntil(() => {
      const elapsed = clockMs() - start;
      // A 1 s cut: SCTP backs off while it lasts and takes up to about as long again to resume,
      // all of which the keepalive hears as silence; the peer must outlast it.
      if (elapsed > 500 && elapsed < 1500 && !m.conditioner.isCut) m.conditioner.cut();
      if (elapsed >= 1500 && m.conditioner.isCut) m.conditioner.restore();
      if (next < 200 && elapsed > next * 15) m.a.putPacket(Uint8Array.of(next++ & 0xff));
      for (let packet = m.b.getPacket(); packet; packet = m.b.getPacket()) {
        expect(packet[0]).toBe(received & 0xff);
        received++;
      }
      return received === 200;
    }, 'every reliable packet', 20_000);
    expect(m.disconnected).toEqual({ a: [], b: [] });
  }, 30_000);

  it('a cut longer than the keepalive timeout gives peerDisconnected within the timeout plus one second', async (context) => {
    const timeout = 2000;
    const m = await mesh(context, { conditioner: { seed: 25 }, meshOptions: { keepaliveTimeoutMs: timeout } });
    m.conditioner.cut();
    const cutAt = clockMs();
    let detectedAt = 0;
    await m.pollUntil(() => {
      if (!detectedAt && m.disconnected.a.length + m.disconnected.b.length === 2) detectedAt = clockMs();
      return detectedAt > 0;
    }, 'both sides to drop the other', timeout + 5000);
    expect(m.disconnected).toEqual({ a: [1], b: [2] });
    expect(detectedAt - cutAt).toBeLessThan(timeout + 1000);
    // The peer was last heard up to one keepalive interval (250 ms) before the cut.
    expect(detectedAt - cutAt).toBeGreaterThanOrEqual(timeout - 250);
  }, 30_000);
});
