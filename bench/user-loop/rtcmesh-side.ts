/**
 * rtcmesh's side of each user-loop case, on whatever loop the place it runs in has: each peer a
 * loop of its own that does what a game does each frame (poll(), read every packet, put, flush()),
 * the sender reading its backpressure before every packet.
 */
import { TransferMode } from '../../src/mesh/index.js';
import { type Group, tryGroup } from '../broker.js';
import { type Flow, FlowCounter, measure } from '../flow-counter.js';
import { now, sleep } from '../loop.js';
import { userWindow } from '../send-window.js';
import { DRAIN_MS, type FlowCase, PING_BYTES, type PingPongCase, type RoundTrips, SETUP_TIMEOUT_MS, roundTrips } from './case-types.js';

/** A side's loop: one turn per turn of the event loop, until stopped. */
export interface SideLoop {
  /** Stops after the turn under way; resolves once it has (rejects with what a turn threw). */
  stop(): Promise<void>;
}

/** What the place a case runs in gives it: setImmediate's loop in Node.js, a MessageChannel's in a page. */
export interface Looping {
  startLoop(turn: () => void): SideLoop;
  nextTurn(): Promise<void>;
  /** Two connected peers, 1 and 2, linked in memory. */
  formPair(): Promise<Group>;
}

export async function rtcmeshFlow(settings: FlowCase, looping: Looping): Promise<Flow> {
  const group = await looping.formPair();
  try {
    const sender = group.peer(2);
    const receiver = group.peer(1);
    sender.setTargetPeer(1);
    sender.transferMode = settings.reliable ? TransferMode.Reliable : TransferMode.Unreliable;
    const counts = new FlowCounter();
    const window = userWindow(settings.reliable);
    const payload = new Uint8Array(settings.size);
    const sending = looping.startLoop(() => {
      sender.poll();
      while (sender.getPacket() !== null);
      // Checked before every packet, as a sender that must never overrun its window does.
      while (window.room(sender.getPeerBufferedBytes(1)) >= settings.size && sender.putPacket(payload)) counts.sent();
      sender.flush();
    });
    const receiving = looping.startLoop(() => {
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

export async function rtcmeshPingPong(settings: PingPongCase, looping: Looping): Promise<RoundTrips> {
  const group = await looping.formPair();
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
      looping.startLoop(() => {
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
      looping.startLoop(() => {
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

/** One setup of two peers; resolves with how to close them. */
export async function rtcmeshSetup(looping: Looping): Promise<() => Promise<void>> {
  const group: Group = await tryGroup(2, { pause: looping.nextTurn }, SETUP_TIMEOUT_MS);
  return async () => group.close();
}

