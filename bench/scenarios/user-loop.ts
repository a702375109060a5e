/**
 * user-loop: rtcmesh as a user drives it. Each side runs its own loop (poll(), read every packet,
 * put, flush()), the sender reads its backpressure before every packet; raw node-datachannel
 * does the same traffic beside it. One case per process (user-loop/child.ts).
 */
import type { Flow } from '../flow-counter.js';
import { type BenchContext, type Scenario, alternate, pick } from '../harness.js';
import { type Row, atMost, ratioAtLeast, ratioAtMost } from '../results.js';
import type { RoundTrips, Setups, UserLoopCase } from '../user-loop/case-types.js';
import { runInChild } from '../user-loop/child.js';

const KIB = 1024;

function both<T>(context: BenchContext, what: string, test: UserLoopCase): Promise<{ raw: T[]; rtcmesh: T[] }> {
  return alternate(
    context,
    what,
    () => runInChild<T>('raw', test),
    () => runInChild<T>('rtcmesh', test),
  );
}

async function flowRows(context: BenchContext, name: string): Promise<Row[]> {
  const timing = { warmupMs: context.ms(500, 100), durationMs: context.ms(3000, 300) };
  const rows: Row[] = [];
  const cases = [
    { label: 'reliable 64 B, msg/s', size: 64, reliable: true, key: 'msgPerS', target: ratioAtLeast(5) },
    { label: 'unreliable 64 B sent, msg/s', size: 64, reliable: false, key: 'sentPerS', target: ratioAtLeast(5) },
    { label: 'reliable 1 KiB, MB/s', size: KIB, reliable: true, key: 'mbPerS', target: ratioAtLeast(1) },
    { label: 'reliable 16 KiB, MB/s', size: 16 * KIB, reliable: true, key: 'mbPerS', target: ratioAtLeast(1) },
    // A level or a chat history sent from a game's frame loop: no longer held to 64 KiB a frame.
    { label: 'reliable 16 KiB from a 60 Hz loop, MB/s', size: 16 * KIB, reliable: true, key: 'mbPerS', frameHz: 60 },
  ] as const;
  for (const flow of context.sizes(cases)) {
    const { label, size, reliable, key } = flow;
    const frameHz = 'frameHz' in flow ? flow.frameHz : undefined;
    const results = await both<Flow>(context, label, { kind: 'flow', size, reliable, ...timing, ...(frameHz ? { frameHz } : {}) });
    rows.push({ scenario: name, metric: label, raw: pick(results.raw, key), rtcmesh: pick(results.rtcmesh, key), ...('target' in flow ? { target: flow.target } : {}) });
    if (!reliable) {
      rows.push({ scenario: name, metric: 'unreliable 64 B delivery ratio, %', raw: pick(results.raw, 'deliveryPct'), rtcmesh: pick(results.rtcmesh, 'deliveryPct') });
    }
  }
  return rows;
}

async function roundTripRows(context: BenchContext, name: string): Promise<Row[]> {
  const results = await both<RoundTrips>(context, 'ping-pong 64 B', { kind: 'ping-pong', warmupMs: context.ms(300, 100), durationMs: context.ms(3000, 300) });
  return [
    { scenario: name, metric: 'ping-pong 64 B p50, µs', raw: pick(results.raw, 'p50Us'), rtcmesh: pick(results.rtcmesh, 'p50Us') },
    { scenario: name, metric: 'ping-pong 64 B p99, µs', raw: pick(results.raw, 'p99Us'), rtcmesh: pick(results.rtcmesh, 'p99Us'), target: ratioAtMost(1.5) },
  ];
}

/** 100 setups; 5 with --quick, 2 with --smoke. */
function setupCount(context: BenchContext): number {
  return context.smoke ? 2 : context.quick ? 5 : 100;
}

async function setupRows(context: BenchContext, name: string): Promise<Row[]> {
  const setups = setupCount(context);
  const results = await both<Setups>(context, `${setups} warm setups`, { kind: 'setup', setups });
  const row = (metric: string, key: keyof Setups, target?: Row['target']): Row => ({
    scenario: name,
    metric,
    raw: pick(results.raw, key),
    rtcmesh: pick(results.rtcmesh, key),
    ...(target ? { target } : {}),
  });
  return [
    row(`warm setup p50 of ${setups}, ms`, 'p50Ms'),
    row(`warm setup p90 of ${setups}, ms`, 'p90Ms', ratioAtMost(1.2)),
    row(`warm setup slowest of ${setups}, ms`, 'maxMs', atMost(500, 'ms')),
    row(`setups over 500 ms, of ${setups}`, 'stalls'),
    row(`setups failed, of ${setups}`, 'failed'),
  ];
}

/** Setups through a SignalingServer: no raw counterpart, rtcmesh's repetitions alone. */
async function signalingSetupRows(context: BenchContext, name: string): Promise<Row[]> {
  const setups = setupCount(context);
  const results: Setups[] = [];
  if (context.sides.rtcmesh && (context.match === undefined || 'signaling setups'.includes(context.match))) {
    for (let rep = 1; rep <= context.reps; rep++) {
      results.push(await runInChild<Setups>('rtcmesh', { kind: 'signaling-setup', setups }));
      context.log(`  signaling setups: rtcmesh ${rep}/${context.reps} p50=${results.at(-1)!.p50Ms.toFixed(1)} max=${results.at(-1)!.maxMs.toFixed(0)}`);
    }
  }
  const row = (metric: string, key: keyof Setups, target?: Row['target']): Row => ({
    scenario: name,
    metric,
    raw: [],
    rtcmesh: pick(results, key),
    ...(target ? { target } : {}),
  });
  return [
    row(`setup through signaling p50 of ${setups}, ms`, 'p50Ms'),
    row(`setup through signaling p90 of ${setups}, ms`, 'p90Ms'),
    row(`setup through signaling slowest of ${setups}, ms`, 'maxMs', atMost(500, 'ms')),
    row(`setups through signaling over 500 ms, of ${setups}`, 'stalls'),
    row(`setups through signaling failed, of ${setups}`, 'failed'),
  ];
}

/** rtcmesh driven as a user drives it, beside raw node-datachannel. */
export const userLoop: Scenario = {
  name: 'user-loop',
  async run(context) {
    return [
      ...(await flowRows(context, this.name)),
      ...(await roundTripRows(context, this.name)),
      ...(await setupRows(context, this.name)),
      ...(await signalingSetupRows(context, this.name)),
    ];
  },
};
