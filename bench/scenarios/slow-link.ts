/**
 * The slow link: what test/faults/slow-link does, measured. A sender puts 64 KiB of reliable
 * 1 KiB events every loop turn (megabytes a second) on a link that loses 10 % each way (40 ms
 * delay, 20 ms jitter, through a NetworkConditioner), which carries tens of kilobytes a second,
 * and 16 B of unreliable state 60 times a second, stamped with the sender's clock. rtcmesh on one
 * connection against rtcmesh with `stateConnection`; no raw counterpart.
 */
import { NetworkConditioner, TransferMode, type WebRTCMultiplayerPeer } from '../../src/index.js';
import { clockMs } from '../../src/mesh/clock.js';
import { formGroup } from '../broker.js';
import { type BenchContext, type Scenario, alternate, pick } from '../harness.js';
import { nextTurn } from '../loop.js';
import { type Row, atMost } from '../results.js';
import { percentile } from '../../src/cli/statistics.js';

const EVENTS_PER_TURN = 64;
const EVENT_BYTES = 1024;
const STATE_BYTES = 16;
const TICK_MS = 1000 / 60;
/** Long enough that the receiver judges nothing stale: the ages below are the real ones. */
const STATE_LIFETIME_MS = 60_000;
const LINK = { loss: 0.1, delayMs: 40, jitterMs: 20 };

/** What one run measured. */
interface SlowLinkRun {
  /** Reliable payload that arrived, KB (10^3 bytes) per second of the run. */
  goodputKBps: number;
  /** State packets that arrived, % of those put. */
  deliveredPct: number;
  /** Age of the state packets that arrived, when read, ms; NaN when none did. */
  ageP50Ms: number;
  ageP99Ms: number;
  /** The longest either side went without hearing the other, ms. */
  longestSilenceMs: number;
}

async function run(stateConnection: boolean, durationMs: number, seed: number): Promise<SlowLinkRun> {
  const conditioner = new NetworkConditioner({ seed });
  const group = await formGroup(2, {
    meshOptions: { stateConnection },
    offererBackend: conditioner.backend,
    unreliableLifetime: STATE_LIFETIME_MS,
  });
  try {
    conditioner.setConditions('both', LINK);
    const sender = group.peer(2);
    const receiver = group.peer(1);
    sender.setTargetPeer(1);
    const event = new Uint8Array(EVENT_BYTES);
    const state = new Uint8Array(STATE_BYTES);
    const stamp = new DataView(state.buffer);
    const ages: number[] = [];
    let statesPut = 0;
    let reliableBytes = 0;
    let longestSilenceMs = 0;
    const start = clockMs();
    for (let tick = 0; clockMs() - start < durationMs; ) {
      sender.transferMode = TransferMode.Reliable;
      for (let n = 0; n < EVENTS_PER_TURN; n++) sender.putPacket(event);
      if (clockMs() - start >= tick * TICK_MS) {
        tick++;
        sender.transferMode = TransferMode.Unreliable;
        stamp.setFloat64(0, clockMs());
        if (sender.putPacket(state)) statesPut++;
      }
      group.poll();
      read(receiver, (bytes) => (reliableBytes += bytes), (sentAt) => ages.push(clockMs() - sentAt));
      longestSilenceMs = Math.max(longestSilenceMs, sender.getPeerStats(1).silentForMs, receiver.getPeerStats(2).silentForMs);
      await nextTurn();
    }
    if (group.failure()) throw new Error(`the slow link lost its peer: ${group.failure()}`);
    return {
      goodputKBps: reliableBytes / durationMs,
      deliveredPct: (100 * ages.length) / statesPut,
      ageP50Ms: percentile(ages, 50),
      ageP99Ms: percentile(ages, 99),
      longestSilenceMs,
    };
  } finally {
    group.close();
    await conditioner.close();
  }
}

function read(receiver: WebRTCMultiplayerPeer, reliable: (bytes: number) => void, state: (sentAt: number) => void): void {
  while (receiver.getAvailablePacketCount() > 0) {
    const mode = receiver.getPacketMode();
    const packet = receiver.getPacket()!;
    if (mode === TransferMode.Reliable) reliable(packet.byteLength);
    else state(new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getFloat64(0));
  }
}

export const slowLink: Scenario = {
  name: 'slow-link',
  async run(context: BenchContext): Promise<Row[]> {
    const durationMs = context.ms(15_000, 5_000);
    // Each repetition on its own seed, the same for both variants.
    let seed = 40;
    const results = await alternate(
      context,
      'slow link',
      () => run(false, durationMs, ++seed),
      () => run(true, durationMs, seed),
    );
    const rows: Row[] = [];
    for (const [variant, runs] of [
      ['one connection', results.raw],
      ['state connection', results.rtcmesh],
    ] as const) {
      const row = (metric: string, key: keyof SlowLinkRun, target?: Row['target']): Row => ({
        scenario: 'slow-link',
        metric: `${variant}: ${metric}`,
        raw: [],
        rtcmesh: pick(runs, key),
        ...(target && { target }),
      });
      const stateConnection = variant === 'state connection';
      rows.push(
        row('reliable goodput, KB/s', 'goodputKBps'),
        row('state delivered, %', 'deliveredPct'),
        row('state age p50, ms', 'ageP50Ms', stateConnection ? atMost(100, 'ms') : undefined),
        row('state age p99, ms', 'ageP99Ms', stateConnection ? atMost(250, 'ms') : undefined),
        row('longest silence, ms', 'longestSilenceMs'),
      );
    }
    return rows;
  },
};
