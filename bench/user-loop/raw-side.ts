/**
 * The raw side of the user-loop flow and ping-pong cases, on whatever engine the place they run in
 * has (node-datachannel in Node.js, the page's RTCDataChannel in Chromium): the sender's own loop
 * sends while its window has room, the receiver counts in its message callback, the echo answers
 * in it.
 */
import { type Flow, FlowCounter, measure } from '../flow-counter.js';
import { now, sleep } from '../loop.js';
import { userWindow } from '../send-window.js';
import { DRAIN_MS, type FlowCase, PING_BYTES, type PingPongCase, type RoundTrips, roundTrips } from './case-types.js';
import type { Looping } from './rtcmesh-side.js';

/** One end of a raw channel, as the cases use it. */
export interface RawChannelEnd {
  send(bytes: Uint8Array): void;
  bufferedAmount(): number;
  /** Calls `handler` with every message's bytes. */
  onBytes(handler: (bytes: Uint8Array) => void): void;
}

/** A connected raw channel: `a` sends or pings, `b` receives or echoes. */
export interface RawChannelPair {
  a: RawChannelEnd;
  b: RawChannelEnd;
  close(): Promise<void>;
}

/** Connects one raw channel of the given reliability. */
export type ConnectRaw = (reliable: boolean) => Promise<RawChannelPair>;

export async function rawFlow(settings: FlowCase, looping: Looping, connect: ConnectRaw): Promise<Flow> {
  const pair = await connect(settings.reliable);
  try {
    const tx = pair.a;
    const counts = new FlowCounter();
    pair.b.onBytes((bytes) => counts.arrived(bytes.byteLength));
    const window = userWindow(settings.reliable);
    const payload = new Uint8Array(settings.size);
    const sender = looping.startLoop(() => {
      for (let room = window.room(tx.bufferedAmount()); room >= settings.size; room -= settings.size) {
        tx.send(payload);
        counts.sent();
      }
    });
    const seconds = await measure(counts, settings.warmupMs, settings.durationMs);
    await sender.stop();
    await sleep(DRAIN_MS);
    return counts.flow(seconds);
  } finally {
    await pair.close();
  }
}

export async function rawPingPong(settings: PingPongCase, looping: Looping, connect: ConnectRaw): Promise<RoundTrips> {
  const pair = await connect(true);
  try {
    const pinger = pair.a;
    const echoer = pair.b;
    const payload = new Uint8Array(PING_BYTES);
    const samples: number[] = [];
    const counts = { measuring: false };
    let running = true;
    let sentAt = now();
    echoer.onBytes((bytes) => echoer.send(bytes));
    pinger.onBytes(() => {
      const time = now();
      if (counts.measuring) samples.push(time - sentAt);
      if (!running) return;
      sentAt = time;
      pinger.send(payload);
    });
    pinger.send(payload);
    // Each side's game loop turns beside the callbacks, doing nothing, as rtcmesh's loops turn.
    const loops = [looping.startLoop(() => undefined), looping.startLoop(() => undefined)];
    const seconds = await measure(counts, settings.warmupMs, settings.durationMs);
    running = false;
    for (const loop of loops) await loop.stop();
    return roundTrips(samples, seconds);
  } finally {
    await pair.close();
  }
}
