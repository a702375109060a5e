/**
 * The cases of the user-loop scenario, each run alone in its own process (user-loop/child.ts):
 * every side a {@link TurnLoop} of its own that does what a game does each frame, poll(), read
 * every packet, put, flush(), beside raw node-datachannel doing the same traffic with its own
 * callbacks and loop.
 */
import { TransferMode } from '../../src/index.js';
import { percentile } from '../../src/cli/statistics.js';
import { type Group, formGroup, tryGroup } from '../broker.js';
import { type Flow, FlowCounter } from '../flow-counter.js';
import { now, sleep } from '../loop.js';
import { RELIABLE, type RawChannelSpec, UNRELIABLE, connectRawLink, messageBytes, tryRawLinks } from '../raw-link.js';
import { SendWindow } from '../send-window.js';
import { TurnLoop } from './turn-loop.js';

const KIB = 1024;
const MIB = 1024 * KIB;
/** How long the receiver keeps reading after the sender stops, before the delivery ratio is taken. */
const DRAIN_MS = 300;
/** A setup slower than this is a stall (libdatachannel's DTLS retransmission waits 1 s). */
export const STALL_MS = 500;
const SETUP_TIMEOUT_MS = 10_000;
const PING_BYTES = 64;

/** The channels rtcmesh negotiates (system 0, reliable 1, ordered 2, unreliable 3): raw sets up the same. */
const RTCMESH_LAYOUT: RawChannelSpec[] = [
  { id: 0, options: UNRELIABLE },
  { id: 1, options: RELIABLE },
  { id: 2, options: UNRELIABLE },
  { id: 3, options: UNRELIABLE },
];

export interface FlowCase {
  kind: 'flow';
  size: number;
  reliable: boolean;
  warmupMs: number;
  durationMs: number;
}

export interface PingPongCase {
  kind: 'ping-pong';
  warmupMs: number;
  durationMs: number;
}

export interface SetupCase {
  kind: 'setup';
  setups: number;
}

export type UserLoopCase = FlowCase | PingPongCase | SetupCase;

export interface RoundTrips {
  p50Us: number;
  p99Us: number;
  perS: number;
}

export interface Setups {
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
  /** Setups over {@link STALL_MS}. */
  stalls: number;
  /** Setups that failed or timed out (not timed). */
  failed: number;
}

/** The window a sender keeps: 1 MiB / 256 KiB reliable, 256 / 64 KiB unreliable (rtcmesh's refusal point). */
function newWindow(reliable: boolean): SendWindow {
  return reliable ? new SendWindow(MIB, 256 * KIB) : new SendWindow(256 * KIB, 64 * KIB);
}

/** Opens the measured window after the warm-up and closes it after the duration. */
async function measure(counts: { measuring: boolean }, warmupMs: number, durationMs: number): Promise<number> {
  await sleep(warmupMs);
  counts.measuring = true;
  const start = now();
  await sleep(durationMs);
  counts.measuring = false;
  return (now() - start) / 1000;
}

async function rawFlow(settings: FlowCase): Promise<Flow> {
  const link = await connectRawLink([{ id: 1, options: settings.reliable ? RELIABLE : UNRELIABLE }]);
  try {
    const tx = link.a.channels[0]!;
    const counts = new FlowCounter();
    link.b.channels[0]!.onMessage((message) => counts.arrived(messageBytes(message)));
    const window = newWindow(settings.reliable);
    const payload = new Uint8Array(settings.size);
    const sender = new TurnLoop(() => {
      for (let room = window.room(tx.bufferedAmount()); room >= settings.size; room -= settings.size) {
        tx.sendMessageBinary(payload);
        counts.sent();
      }
    });
    const seconds = await measure(counts, settings.warmupMs, settings.durationMs);
    await sender.stop();
    await sleep(DRAIN_MS);
    return counts.flow(seconds);
  } finally {
    await link.close();
  }
}

async function rtcmeshFlow(settings: FlowCase): Promise<Flow> {
  const group = await formGroup(2);
  try {
    const sender = group.peer(2);
    const receiver = group.peer(1);
    sender.setTargetPeer(1);
    sender.transferMode = settings.reliable ? TransferMode.Reliable : TransferMode.Unreliable;
    const counts = new FlowCounter();
    const window = newWindow(settings.reliable);
    const payload = new Uint8Array(settings.size);
    const sending = new TurnLoop(() => {
      sender.poll();
      while (sender.getPacket() !== null);
      // Checked before every packet, as a sender that must never overrun its window does.
      while (window.room(sender.getPeerBufferedBytes(1)) >= settings.size && sender.putPacket(payload)) counts.sent();
      sender.flush();
    });
    const receiving = new TurnLoop(() => {
      receiver.poll();
      for (let packet = receiver.getPacket(); packet !== null; packet = receiver.getPacket()) counts.arrived(packet.byteLength);
      receiver.flush();
    });
    const seconds = await measure(counts, settings.warmupMs, settings.durationMs);
    await sending.stop();
    await sleep(DRAIN_MS);
    await receiving.stop();
    return counts.flow(seconds);
  } finally {
    group.close();
  }
}

function roundTrips(samplesMs: readonly number[], seconds: number): RoundTrips {
  return { p50Us: 1000 * percentile(samplesMs, 50), p99Us: 1000 * percentile(samplesMs, 99), perS: samplesMs.length / seconds };
}

async function rawPingPong(settings: PingPongCase): Promise<RoundTrips> {
  const link = await connectRawLink([{ id: 1, options: RELIABLE }]);
  try {
    const pinger = link.a.channels[0]!;
    const echoer = link.b.channels[0]!;
    const payload = new Uint8Array(PING_BYTES);
    const samples: number[] = [];
    const counts = { measuring: false };
    let running = true;
    let sentAt = now();
    echoer.onMessage((message) => echoer.sendMessageBinary(message as Buffer));
    pinger.onMessage(() => {
      const time = now();
      if (counts.measuring) samples.push(time - sentAt);
      if (!running) return;
      sentAt = time;
      pinger.sendMessageBinary(payload);
    });
    pinger.sendMessageBinary(payload);
    // Each side's game loop turns beside the callbacks, doing nothing, as rtcmesh's loops turn.
    const loops = [new TurnLoop(() => undefined), new TurnLoop(() => undefined)];
    const seconds = await measure(counts, settings.warmupMs, settings.durationMs);
    running = false;
    for (const loop of loops) await loop.stop();
    return roundTrips(samples, seconds);
  } finally {
    await link.close();
  }
}

async function rtcmeshPingPong(settings: PingPongCase): Promise<RoundTrips> {
  const group = await formGroup(2);
  try {
    const pinger = group.peer(2);
    const echoer = group.peer(1);
    pinger.setTargetPeer(1);
    echoer.setTargetPeer(2);
    const payload = new Uint8Array(PING_BYTES);
    const samples: number[] = [];
    const counts = { measuring: false };
    let running = true;
    let sentAt = now();
    pinger.putPacket(payload);
    const loops = [
      new TurnLoop(() => {
        pinger.poll();
        for (let packet = pinger.getPacket(); packet !== null; packet = pinger.getPacket()) {
          const time = now();
          if (counts.measuring) samples.push(time - sentAt);
          if (!running) continue;
          sentAt = time;
          pinger.putPacket(payload);
        }
        pinger.flush();
      }),
      new TurnLoop(() => {
        echoer.poll();
        for (let packet = echoer.getPacket(); packet !== null; packet = echoer.getPacket()) echoer.putPacket(packet);
        echoer.flush();
      }),
    ];
    const seconds = await measure(counts, settings.warmupMs, settings.durationMs);
    running = false;
    for (const loop of loops) await loop.stop();
    return roundTrips(samples, seconds);
  } finally {
    group.close();
  }
}

/** Times `settings.setups` setups one after another, after one that warms the engine up. */
async function timeSetups(settings: SetupCase, setUp: () => Promise<() => Promise<void>>): Promise<Setups> {
  await (await setUp())();
  const times: number[] = [];
  let failed = 0;
  for (let n = 0; n < settings.setups; n++) {
    const start = now();
    try {
      const close = await setUp();
      times.push(now() - start);
      await close();
    } catch {
      failed++;
    }
  }
  return {
    p50Ms: percentile(times, 50),
    p90Ms: percentile(times, 90),
    maxMs: Math.max(...times),
    stalls: times.filter((ms) => ms > STALL_MS).length,
    failed,
  };
}

async function rawSetup(): Promise<() => Promise<void>> {
  const [link] = await tryRawLinks(1, RTCMESH_LAYOUT, SETUP_TIMEOUT_MS);
  return () => link!.close();
}

async function rtcmeshSetup(): Promise<() => Promise<void>> {
  const group: Group = await tryGroup(2, {}, SETUP_TIMEOUT_MS);
  return async () => group.close();
}

/** Runs one case on one side. */
export function runCase(side: 'raw' | 'rtcmesh', test: UserLoopCase): Promise<Flow | RoundTrips | Setups> {
  switch (test.kind) {
    case 'flow':
      return side === 'raw' ? rawFlow(test) : rtcmeshFlow(test);
    case 'ping-pong':
      return side === 'raw' ? rawPingPong(test) : rtcmeshPingPong(test);
    case 'setup':
      return timeSetups(test, side === 'raw' ? rawSetup : rtcmeshSetup);
  }
}
