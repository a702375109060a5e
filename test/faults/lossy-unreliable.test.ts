import { type TestContext, describe, expect, it } from 'vitest';
import { TransferMode } from '../../src/index.js';
import { median } from '../../src/cli/statistics.js';
import { clockMs } from '../../src/mesh/clock.js';
import { type ProxiedMesh, type ProxiedMeshOptions, connectThroughProxy } from '../support/proxied-mesh.js';
import { PollGaps, pollUntil } from '../support/poll.js';
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
  /** When it was put, in milliseconds from the start of the stream. */
  sentMs: number;
  /** Its age when the poll that received it began: the age the receiver judged it by. */
  ageMs: number;
  intact: boolean;
}

function readState(packet: Uint8Array, start: number, polledAt: number): Arrival {
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const sequence = view.getUint32(0);
  const sentAt = view.getFloat64(4);
  return { sequence, sentMs: sentAt - start, ageMs: polledAt - sentAt, intact: packet.subarray(12).every((byte) => byte === (sequence & 0xff)) };
}

interface Stream {
  arrivals: Arrival[];
  /** Packets put. */
  sent: number;
  /** The median time between two polls of the receiver: how late a loaded machine runs each step. */
  medianPollGapMs: number;
  /** The largest error of the receiver's estimate of the sender's clock (both run on this process's clock). */
  maxOffsetMs: number;
}

/**
 * Runs a 60 Hz sender on peer 2 for `ms` (and on until `enough` holds), collecting what peer 1
 * reads, with `during` called each tick.
 */
async function stream(
  m: ProxiedMesh,
  mode: TransferMode,
  ms: number,
  during: (elapsed: number) => void = () => {},
  enough: (arrivals: Arrival[]) => boolean = () => true,
): Promise<Stream> {
  m.a.transferMode = mode;
  const arrivals: Arrival[] = [];
  const start = clockMs();
  const gaps = new PollGaps(start);
  const receiver = {
    poll: () => {
      gaps.mark();
      m.b.poll();
    },
  };
  let sequence = 0;
  let nextAt = 0;
  let maxOffsetMs = 0;
  await pollUntil([m.a, receiver], () => {
    const elapsed = clockMs() - start;
    during(elapsed);
    // One state a tick at most, handed at once: a game loop that runs late sends its latest state,
    // not a burst of old ones that the jitter would reorder, and a packet's age starts when it leaves.
    if (elapsed >= nextAt && (elapsed < ms || !enough(arrivals))) {
      m.a.putPacket(statePacket(sequence++));
      m.a.flush();
      nextAt = elapsed + TICK_MS;
    }
    for (let packet = m.b.getPacket(); packet; packet = m.b.getPacket()) arrivals.push(readState(packet, start, gaps.lastPollAt));
    const offset = m.b.getPeerStats(2).clockOffsetMs;
    if (!Number.isNaN(offset)) maxOffsetMs = Math.max(maxOffsetMs, Math.abs(offset));
    return elapsed > ms + 500 && enough(arrivals);
  }, 'the stream', ms + 20_000);
  return { arrivals, sent: sequence, medianPollGapMs: gaps.medianMs, maxOffsetMs };
}

// Staleness is the cut test's subject; elsewhere it would drop what a late poll held up, a loss of
// the machine's and not of the link's.
const NO_LIFETIME = Number.POSITIVE_INFINITY;

// Each test has a link of its own and mostly waits on it: they run side by side.
describe.concurrent('unreliable channels through a lossy link', () => {
  it('UnreliableOrdered at 10% loss: never older than what was delivered, intact, no duplicates, median age under 150 ms', async (context) => {
    const m = await mesh(context, { conditioner: { seed: 21 }, unreliableLifetime: NO_LIFETIME });
    m.conditioner.setConditions('both', { loss: 0.1, delayMs: 20, jitterMs: 60, reorder: 0.05, duplicate: 0.02 });
    const { arrivals, sent, medianPollGapMs } = await stream(m, TransferMode.UnreliableOrdered, 5000);
    const sequences = arrivals.map((a) => a.sequence);
    expect(sequences.every((s, n) => n === 0 || s > sequences[n - 1]!)).toBe(true);
    expect(arrivals.every((a) => a.intact)).toBe(true);
    // A loaded machine holds up the relay's timers and the wait for the receiver's poll by about
    // a poll gap each; on an idle one that is a millisecond, and head-of-line blocking adds seconds.
    expect(median(arrivals.map((a) => a.ageMs))).toBeLessThan(150 + 2 * medianPollGapMs);
    // A tick or more apart, a packet is lost (10 %) or overtaken within the jitter (about 30 %):
    // about 60 % arrive, and a third of those sent is many standard deviations below that.
    expect(arrivals.length).toBeGreaterThan(sent / 3);
  }, 50_000);

  it('Unreliable at 10% loss: a delivery ratio consistent with the loss, and no duplicates', async (context) => {
    const m = await mesh(context, { conditioner: { seed: 22 }, unreliableLifetime: NO_LIFETIME });
    m.conditioner.setConditions('both', { loss: 0.1, delayMs: 20, jitterMs: 60, reorder: 0.05, duplicate: 0.02 });
    const { arrivals } = await stream(m, TransferMode.Unreliable, 5000);
    const sent = m.a.getPeerStats(1).channels[2]!.packetsSent;
    expect(new Set(arrivals.map((a) => a.sequence)).size).toBe(arrivals.length);
    expect(arrivals.every((a) => a.intact)).toBe(true);
    const ratio = arrivals.length / sent;
    expect(ratio).toBeGreaterThan(0.75);
    expect(ratio).toBeLessThanOrEqual(1);
  }, 50_000);

  it('after a 3 s cut, delivers no unreliable packet older than the lifetime', async (context) => {
    const lifetime = 300;
    const m = await mesh(context, { conditioner: { seed: 23 }, unreliableLifetime: lifetime, meshOptions: { keepaliveTimeoutMs: 10_000, disconnectGraceMs: 10_000 } });
    let restoredAt = 0;
    const fresh = (arrivals: Arrival[]): number => arrivals.filter((a) => a.sentMs > 4500).length;
    // After the restore it streams on until more than 30 later packets arrived: a loaded machine
    // sends fewer a second, and holds more of them past the lifetime.
    const { arrivals, maxOffsetMs } = await stream(m, TransferMode.Unreliable, 6000, (elapsed) => {
      if (elapsed > 1000 && elapsed < 4000 && !m.conditioner.isCut) m.conditioner.cut();
      if (elapsed >= 4000 && m.conditioner.isCut) {
        m.conditioner.restore();
        restoredAt = elapsed;
      }
    }, (sofar) => fresh(sofar) > 30);
    expect(restoredAt).toBeGreaterThan(0);
    expect(m.disconnected).toEqual({ a: [], b: [] });
    // Ages are taken when the receiving poll began, as the receiver judged them, by its estimate of
    // the sender's clock; the margin is for rounding the stamp to whole milliseconds and more.
    expect(Math.max(...arrivals.map((a) => a.ageMs))).toBeLessThan(lifetime + maxOffsetMs + 50);
    expect(fresh(arrivals)).toBeGreaterThan(30);
  }, 50_000);
});

describe.concurrent('cuts and the keepalive', () => {
  it('a cut shorter than the grace period keeps the peer, and reliable traffic resumes with nothing lost', async (context) => {
    // The timeout leaves the silence below (about 2 s) room for a loaded machine's late polls.
    const m = await mesh(context, { conditioner: { seed: 24 }, meshOptions: { keepaliveTimeoutMs: 5000, disconnectGraceMs: 5000 } });
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
  }, 40_000);

  it('a cut longer than the keepalive timeout gives peerDisconnected within the timeout plus one second', async (context) => {
    const timeout = 2000;
    const m = await mesh(context, { conditioner: { seed: 25 }, meshOptions: { keepaliveTimeoutMs: timeout } });
    m.conditioner.cut();
    const cutAt = clockMs();
    let detectedAt = 0;
    const gaps = new PollGaps(cutAt);
    await m.pollUntil(() => {
      const now = gaps.mark();
      if (!detectedAt && m.disconnected.a.length + m.disconnected.b.length === 2) detectedAt = now;
      return detectedAt > 0;
    }, 'both sides to drop the other', timeout + 10_000);
    expect(m.disconnected).toEqual({ a: [1], b: [2] });
    // What arrived before the cut is heard at the next poll, and the silence is judged at a poll:
    // on a loaded machine each may come up to the longest gap between polls late.
    expect(detectedAt - cutAt).toBeLessThan(timeout + 1000 + 2 * gaps.longestMs);
    // The peer was last heard up to one keepalive interval (250 ms) before the cut.
    expect(detectedAt - cutAt).toBeGreaterThanOrEqual(timeout - 250);
  }, 40_000);
});
