/**
 * Scenarios 1 and 2: one-way throughput of a reliable channel at 64 B, 1 KiB and 16 KiB, and the
 * send rate and delivery ratio of an unreliable one at 64 B. The sender keeps a window of
 * buffered bytes; what counts is what ARRIVED at the receiver inside the measured window.
 */
import { TransferMode } from '../../src/index.js';
import { formGroup } from '../broker.js';
import { type BenchContext, type Scenario, alternate, pick } from '../harness.js';
import { measureWindow, turnFor } from '../loop.js';
import { RELIABLE, UNRELIABLE, connectRawLink, messageBytes } from '../raw-link.js';
import { type Row, ratioAtLeast } from '../results.js';
import { type Flow, FlowCounter } from '../flow-counter.js';
import { SendWindow } from '../send-window.js';

const KIB = 1024;
const MIB = 1024 * KIB;
/** Reliable window: pause above 1 MiB buffered, resume under 256 KiB. */
const RELIABLE_HIGH_WATER = MIB;
const RELIABLE_LOW_WATER = 256 * KIB;
/** Unreliable window: rtcmesh refuses unreliable sends above 256 KiB buffered; both sides keep under it. */
const UNRELIABLE_HIGH_WATER = 256 * KIB;
const UNRELIABLE_LOW_WATER = 64 * KIB;
/** How long the receiver keeps reading after the sender stops, before the delivery ratio is taken. */
const DRAIN_MS = 300;

const SIZES = [
  { bytes: 64, label: '64 B' },
  { bytes: KIB, label: '1 KiB' },
  { bytes: 16 * KIB, label: '16 KiB' },
];

interface FlowSettings {
  size: number;
  reliable: boolean;
  warmupMs: number;
  durationMs: number;
}

async function rawFlow(settings: FlowSettings): Promise<Flow> {
  const link = await connectRawLink([{ id: 1, options: settings.reliable ? RELIABLE : UNRELIABLE }]);
  try {
    const tx = link.a.channels[0]!;
    const rx = link.b.channels[0]!;
    const counts = new FlowCounter();
    rx.onMessage((message) => counts.arrived(messageBytes(message)));
    const window = newWindow(settings.reliable);
    const payload = new Uint8Array(settings.size);
    const seconds = await measureWindow(
      settings.warmupMs,
      settings.durationMs,
      () => {
        for (let room = window.room(tx.bufferedAmount()); room >= settings.size; room -= settings.size) {
          tx.sendMessageBinary(payload);
          counts.sent();
        }
      },
      (on) => (counts.measuring = on),
    );
    await turnFor(DRAIN_MS);
    return counts.flow(seconds);
  } finally {
    await link.close();
  }
}

async function rtcmeshFlow(settings: FlowSettings): Promise<Flow> {
  const group = await formGroup(2);
  try {
    const sender = group.peer(2);
    const receiver = group.peer(1);
    sender.setTargetPeer(1);
    sender.transferMode = settings.reliable ? TransferMode.Reliable : TransferMode.Unreliable;
    const counts = new FlowCounter();
    const window = newWindow(settings.reliable);
    const payload = new Uint8Array(settings.size);
    const receive = (): void => {
      receiver.poll();
      for (let packet = receiver.getPacket(); packet !== null; packet = receiver.getPacket()) counts.arrived(packet.byteLength);
    };
    const seconds = await measureWindow(
      settings.warmupMs,
      settings.durationMs,
      () => {
        for (let room = window.room(sender.getPeerStats(1).bufferedBytes); room >= settings.size; room -= settings.size) {
          if (sender.putPacket(payload)) counts.sent();
        }
        sender.poll();
        receive();
      },
      (on) => (counts.measuring = on),
    );
    await turnFor(DRAIN_MS, () => {
      sender.poll();
      receive();
    });
    return counts.flow(seconds);
  } finally {
    group.close();
  }
}

function newWindow(reliable: boolean): SendWindow {
  return reliable ? new SendWindow(RELIABLE_HIGH_WATER, RELIABLE_LOW_WATER) : new SendWindow(UNRELIABLE_HIGH_WATER, UNRELIABLE_LOW_WATER);
}

function durations(context: BenchContext): Pick<FlowSettings, 'warmupMs' | 'durationMs'> {
  return { warmupMs: context.ms(300, 100), durationMs: context.ms(3000, 500) };
}

/** Scenario 1: reliable one-way throughput. */
export const reliableThroughput: Scenario = {
  name: 'reliable-throughput',
  async run(context) {
    const rows: Row[] = [];
    for (const { bytes, label } of context.sizes(SIZES)) {
      const settings = { size: bytes, reliable: true, ...durations(context) };
      const results = await alternate(context, `reliable ${label}`, () => rawFlow(settings), () => rtcmeshFlow(settings));
      rows.push({
        scenario: this.name,
        metric: `reliable ${label}, msg/s`,
        raw: pick(results.raw, 'msgPerS'),
        rtcmesh: pick(results.rtcmesh, 'msgPerS'),
        // Small packets are where batching pays: several per SCTP message.
        ...(bytes === 64 ? { target: ratioAtLeast(5) } : {}),
      });
      rows.push({
        scenario: this.name,
        metric: `reliable ${label}, MB/s`,
        raw: pick(results.raw, 'mbPerS'),
        rtcmesh: pick(results.rtcmesh, 'mbPerS'),
        ...(bytes >= KIB ? { target: ratioAtLeast(0.95) } : {}),
      });
    }
    return rows;
  },
};

/** Scenario 2: unreliable 64 B send rate and delivery ratio. */
export const unreliableRate: Scenario = {
  name: 'unreliable-rate',
  async run(context) {
    const settings = { size: 64, reliable: false, ...durations(context) };
    const results = await alternate(context, 'unreliable 64 B', () => rawFlow(settings), () => rtcmeshFlow(settings));
    const row = (metric: string, key: keyof Flow): Row => ({
      scenario: this.name,
      metric,
      raw: pick(results.raw, key),
      rtcmesh: pick(results.rtcmesh, key),
    });
    return [
      row('unreliable 64 B sent, msg/s', 'sentPerS'),
      row('unreliable 64 B delivered, msg/s', 'msgPerS'),
      row('unreliable 64 B delivery ratio, %', 'deliveryPct'),
    ];
  },
};
