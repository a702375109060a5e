/**
 * What the user-loop cases are and what they answer, wherever they run: in a process of their own
 * (user-loop/child.ts) or in a Chromium page (the browser scenario). Nothing here needs Node.js.
 */
import { percentile } from '../../src/cli/statistics.js';
import { now } from '../loop.js';

/** How long the receiver keeps reading after the sender stops, before the delivery ratio is taken. */
export const DRAIN_MS = 300;
/** A setup slower than this is a stall (libdatachannel's DTLS retransmission waits 1 s). */
export const STALL_MS = 500;
export const SETUP_TIMEOUT_MS = 10_000;
export const PING_BYTES = 64;

export interface FlowCase {
  kind: 'flow';
  size: number;
  reliable: boolean;
  warmupMs: number;
  durationMs: number;
  /** Each side's loop turns this often (a game's frame rate) instead of every event-loop turn. */
  frameHz?: number;
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

/** Setups of a pair through a SignalingServer (rtcmesh only: the raw side has no signaling). */
export interface SignalingSetupCase {
  kind: 'signaling-setup';
  setups: number;
}

/** The cases a pair of peers runs alone, in a process or in a page. */
export type PairCase = FlowCase | PingPongCase | SetupCase;
export type UserLoopCase = PairCase | SignalingSetupCase;

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

/** Round trips measured over `seconds`, as percentiles and a rate. */
export function roundTrips(samplesMs: readonly number[], seconds: number): RoundTrips {
  return { p50Us: 1000 * percentile(samplesMs, 50), p99Us: 1000 * percentile(samplesMs, 99), perS: samplesMs.length / seconds };
}

/** Times `settings.setups` setups one after another, after one that warms the engine up. */
export async function timeSetups(settings: SetupCase, setUp: () => Promise<() => Promise<void>>): Promise<Setups> {
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
  return summarizeSetups(times, failed);
}

/** Setup times (ms) as percentiles, the slowest and the stalls. */
export function summarizeSetups(times: readonly number[], failed: number): Setups {
  return {
    p50Ms: percentile(times, 50),
    p90Ms: percentile(times, 90),
    maxMs: Math.max(...times),
    stalls: times.filter((ms) => ms > STALL_MS).length,
    failed,
  };
}

