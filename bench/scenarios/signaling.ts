/**
 * Scenario 8: the signaling relay's throughput. Lobbies of two, each guest sending CANDIDATE
 * messages to its host as fast as its socket takes them; what the hosts receive counts. The relay
 * runs in a process of its own, the load in generator processes (bench/signaling/generator.ts)
 * that report their CPU and send queue. Raw is the reference relay (bench/signaling/reference-relay.ts):
 * Godot's per-message work, parse, check, stringify with the sender's id, send. rtcmesh is
 * SignalingServer, validation and metrics on, its rate limits raised.
 */
import type { ChildProcess } from 'node:child_process';
import { type BenchContext, type Scenario, alternate, pick } from '../harness.js';
import { type Row, atLeast, ratioAtLeast } from '../results.js';
import { ask, childOpenFileLimit, cpuSeconds, heard, startChild, stopChild } from '../signaling/child.js';
import { GENERATOR_PROCESS_FLAG, type GeneratorResult } from '../signaling/generator.js';
import { RELAY_PROCESS_FLAG } from '../signaling/relay-process.js';
import { mean } from '../../src/cli/statistics.js';

const FULL_SIZES = [2_000, 20_000];
const QUICK_SIZES = [200];
// The size whose rate is held to the target; the largest shows the rate with every socket held.
const TARGET_SIZE = 2_000;
const GENERATORS = 2;
// Descriptors besides the sockets: the runtime's own, the IPC channel, the listening socket.
const SPARE_OPEN_FILES = 64;
const HELD_SOCKETS_TARGET = 20_000;
const SETUP_TIMEOUT_MS = 180_000;
const CPU_SAMPLE_MS = 100;
// RTCMESH_BENCH_RELAY_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the relay process alone.
const RELAY_NODE_ARGS = (process.env.RTCMESH_BENCH_RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** One repetition of one side at one size. */
interface RelayRun {
  msgPerS: number;
  sockets: number;
  relayCpu: number;
  msgPerCpuS: number;
  generatorCpu: number;
  queueKiB: number;
  closed: number;
}

async function runRelay(side: 'raw' | 'rtcmesh', clients: number, context: BenchContext): Promise<RelayRun> {
  const relay = startChild([RELAY_PROCESS_FLAG, side], RELAY_NODE_ARGS);
  const generators: ChildProcess[] = [];
  try {
    const listening = await heard(relay, 'listening');
    const needed = clients + SPARE_OPEN_FILES;
    if (Number(listening.openFiles) < needed) {
      throw new Error(`${clients} sockets need ${needed} open files; the limit is ${listening.openFiles} (run as root, or raise ulimit -n)`);
    }
    for (let i = 0; i < GENERATORS; i++) generators.push(startChild([GENERATOR_PROCESS_FLAG]));
    await Promise.all(generators.map((generator) => heard(generator, 'started')));
    const pairsEach = Math.ceil(clients / 2 / GENERATORS);
    const setUp = Promise.all(generators.map((generator) => ask(generator, { kind: 'setup', port: listening.port, pairs: pairsEach }, 'ready')));
    await withTimeout(setUp, SETUP_TIMEOUT_MS, `${clients} sockets to join`);
    const warmupMs = context.ms(1_000, 300);
    const measureMs = context.ms(3_000, 700);
    const results = Promise.all(
      generators.map((generator) => ask(generator, { kind: 'run', warmupMs, measureMs }, 'result')),
    ) as Promise<unknown[]> as Promise<GeneratorResult[]>;
    // The relay's CPU, sampled with the time of each sample: on a loaded machine the timers of
    // this process and of the generators drift apart by more than a window's length, so the
    // generators' own windows are looked up in the samples afterwards.
    const samples: CpuSample[] = [];
    const sample = (): number => samples.push({ at: performance.timeOrigin + performance.now(), seconds: cpuSeconds(relay.pid!) });
    sample();
    const sampler = setInterval(sample, CPU_SAMPLE_MS);
    const found = await results.finally(() => clearInterval(sampler));
    sample();
    const windowStart = Math.min(...found.map((result) => result.windowStart));
    const windowEnd = Math.max(...found.map((result) => result.windowEnd));
    const relayCpu = ((cpuAt(samples, windowEnd) - cpuAt(samples, windowStart)) / ((windowEnd - windowStart) / 1000)) * 100;
    const msgPerS = found.reduce((sum, result) => sum + result.received / result.seconds, 0);
    return {
      msgPerS,
      sockets: pairsEach * GENERATORS * 2,
      relayCpu,
      msgPerCpuS: msgPerS / (relayCpu / 100),
      generatorCpu: Math.max(...found.map((result) => result.cpuPercent)),
      queueKiB: mean(found.map((result) => result.meanQueueBytes)) / 1024,
      closed: found.reduce((sum, result) => sum + result.closed, 0),
    };
  } finally {
    await Promise.all(generators.map(stopChild));
    await stopChild(relay);
  }
}

interface CpuSample {
  /** Milliseconds since the epoch. */
  at: number;
  /** CPU seconds the relay had used by then. */
  seconds: number;
}

/** The relay's CPU seconds at `at`, interpolated between the samples around it. */
function cpuAt(samples: readonly CpuSample[], at: number): number {
  const after = samples.findIndex((entry) => entry.at >= at);
  if (after <= 0) return samples[after < 0 ? samples.length - 1 : 0]!.seconds;
  const before = samples[after - 1]!;
  const next = samples[after]!;
  return before.seconds + ((next.seconds - before.seconds) * (at - before.at)) / (next.at - before.at);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const signaling: Scenario = {
  name: 'signaling',
  async run(context) {
    const rows: Row[] = [];
    // Every socket is a descriptor in the relay's process: a size its limit cannot hold is cut
    // down to what it can (whole pairs for every generator), and the table says so.
    const pairsUnit = 2 * GENERATORS;
    const fitting = Math.floor((childOpenFileLimit() - SPARE_OPEN_FILES) / pairsUnit) * pairsUnit;
    const sizes = context.sizes(context.quick ? QUICK_SIZES : FULL_SIZES);
    for (const size of sizes) {
      const clients = Math.min(size, fitting);
      if (clients < size) context.log(`  ${size} sockets do not fit the open-file limit of ${childOpenFileLimit()}: measuring ${clients}`);
      const label = `${clients.toLocaleString('en-US')} sockets`;
      const runs = await alternate(
        context,
        `relay, ${label}`,
        () => runRelay('raw', clients, context),
        () => runRelay('rtcmesh', clients, context),
      );
      const row = (metric: string, key: keyof RelayRun, target?: Row['target']): Row => ({
        scenario: 'signaling',
        metric: `${label}, ${metric}`,
        raw: pick(runs.raw, key),
        rtcmesh: pick(runs.rtcmesh, key),
        ...(target === undefined ? {} : { target }),
      });
      rows.push(
        row('relayed msg/s (raw: reference relay)', 'msgPerS', size === TARGET_SIZE ? ratioAtLeast(1.5) : undefined),
        row('relay CPU, % of one core', 'relayCpu'),
        row('relayed msg per relay CPU-second', 'msgPerCpuS'),
        row(`generator CPU, % of one core (busiest of ${GENERATORS})`, 'generatorCpu'),
        row('generator send queue, KiB', 'queueKiB'),
        row('sockets the relay closed', 'closed'),
      );
      if (size === Math.max(...sizes) && !context.quick) rows.push(row('sockets held', 'sockets', atLeast(HELD_SOCKETS_TARGET, 'sockets')));
    }
    return rows;
  },
};
