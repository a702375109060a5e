/**
 * server-capacity: a dedicated server in the server topology, in a process of its own, and N
 * clients packed into two other processes, at 60 Hz: each client sends a 32 B reliable input per
 * tick, the server sends each client a 1 KB unreliable state per tick. The server's CPU (its
 * process, engine threads included) and the age of the newest state at each client tick, raw
 * node-datachannel doing the same traffic beside rtcmesh. The clients tick a little slower than
 * the server (see clientTickHz), so every phase between the two loops is measured.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { percentile } from '../../src/cli/statistics.js';
import {
  CLIENTS_FLAG,
  type ClientsResult,
  type Command,
  type Report,
  type Run,
  SERVER_FLAG,
  type ServerResult,
} from '../capacity/protocol.js';
import { type BenchContext, type Scenario, alternate, pick } from '../harness.js';
import { type Row, type Target, ratioAtMost } from '../results.js';

const CLIENT_PROCESSES = 2;
const TICK_HZ = 60;
const INPUT_BYTES = 32;
const STATE_BYTES = 1000;
const FULL_SIZES = [32, 128, 256, 384];
/** The sizes the goals are set at; the others draw the curve. */
const JUDGED_SIZES = new Set([128, 256]);
const QUICK_SIZES = [8];
/** --smoke: that it runs and reports. */
const SMOKE_CLIENTS = 2;
const SETUP_TIMEOUT_MS = 60_000;

interface Capacity {
  cpuPct: number;
  /** The server's main thread, and its other threads (the engine's, V8's helpers): the two parts of cpuPct. */
  mainThreadPct: number;
  otherThreadsPct: number;
  ageP50Ms: number;
  ageP99Ms: number;
  lateTicks: number;
  /** States that arrived over states sent, and inputs read over inputs sent, in the window, %. */
  statesPct: number;
  inputsPct: number;
}

/** rtcmesh's figure may exceed raw's by at most `slack` (same unit). */
function atMostRawPlus(slack: number, unit: string): Target {
  return { text: `≤ raw + ${slack} ${unit}`, needsRaw: true, met: (raw, rtcmesh) => rtcmesh <= raw + slack };
}

/** A forked process of this bundle, its reports handed to `onReport`. */
function spawn(flag: string, run: Run, onReport: (report: Report) => void, onExit: (why: string) => void): ChildProcess {
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof'));
  // RTCMESH_BENCH_PROFILE_SERVER=dir (and RTCMESH_BENCH_PROFILE_CLIENTS=dir): a CPU profile of each
  // server (client) process, for finding its hot paths.
  const profileDir = flag === SERVER_FLAG ? process.env.RTCMESH_BENCH_PROFILE_SERVER : process.env.RTCMESH_BENCH_PROFILE_CLIENTS;
  if (profileDir) execArgv.push('--cpu-prof', '--cpu-prof-dir', profileDir);
  const child = fork(process.argv[1]!, [flag, JSON.stringify(run)], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  child.on('message', (message: Report) => onReport(message));
  child.on('exit', (code, signal) => onExit(`exited with ${signal ?? code}`));
  return child;
}

/**
 * The clients' tick rate: one tick fewer than the server's over the window, so that where a client
 * tick falls within the server's tick moves across all of it once per window. With one rate, that
 * phase was wherever the processes happened to start, and it set the state age (anything from a
 * few ms to a tick more) and the server's CPU by more than the two sides differ, from run to run.
 */
function clientTickHz(durationMs: number): number {
  const serverTicks = (TICK_HZ * durationMs) / 1000;
  return TICK_HZ * (1 - 1 / serverTicks);
}

async function measure(side: 'raw' | 'rtcmesh', count: number, timing: { warmupMs: number; durationMs: number }): Promise<Capacity> {
  const ids = Array.from({ length: count }, (_, n) => n + 2);
  const groups = Array.from({ length: CLIENT_PROCESSES }, (_, p) => ids.filter((_, n) => n % CLIENT_PROCESSES === p)).filter((g) => g.length > 0);
  const base = { side, tickHz: TICK_HZ, inputBytes: INPUT_BYTES, stateBytes: STATE_BYTES };
  const clientHz = clientTickHz(timing.durationMs);
  let ready = 0;
  let closed = 0;
  let serverResult: ServerResult | undefined;
  const clientResults: ClientsResult[] = [];
  let failure: string | undefined;
  let finishing = false;
  const owner = new Map<number, ChildProcess>();
  const command = (child: ChildProcess, message: Command): void => {
    if (child.connected) child.send(message);
  };
  const handle = (from: 'server' | ChildProcess) => (report: Report): void => {
    switch (report.kind) {
      case 'signal':
        command(from === 'server' ? owner.get(report.client)! : server, { kind: 'signal', client: report.client, signal: report.signal });
        break;
      case 'ready':
        ready++;
        break;
      case 'server-result':
        serverResult = report.result;
        break;
      case 'clients-result':
        clientResults.push(report.result);
        break;
      case 'closed':
        closed++;
        break;
      case 'failed':
        failure ??= report.message;
        break;
    }
  };
  const exited = (what: string) => (why: string): void => {
    if (!finishing) failure ??= `the ${what} ${why}`;
  };
  const server = spawn(SERVER_FLAG, { ...base, clients: ids }, handle('server'), exited('server'));
  const clients = groups.map((group, n) => {
    const child = spawn(CLIENTS_FLAG, { ...base, tickHz: clientHz, clients: group }, (report) => handle(child)(report), exited(`client process ${n}`));
    for (const id of group) owner.set(id, child);
    return child;
  });
  const all = [server, ...clients];
  const until = async (done: () => boolean, what: string, timeoutMs: number): Promise<void> => {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      if (failure) throw new Error(`server-capacity (${side}, ${count} clients): ${failure}`);
      if (performance.now() > deadline) throw new Error(`server-capacity (${side}, ${count} clients): timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  try {
    await until(() => ready === all.length, 'every connection', SETUP_TIMEOUT_MS);
    for (const child of all) command(child, { kind: 'start', ...timing });
    await until(() => serverResult !== undefined && clientResults.length === clients.length, 'the results', timing.warmupMs + timing.durationMs + 20_000);
    finishing = true;
    for (const child of all) command(child, { kind: 'close' });
    await until(() => closed === all.length, 'the processes to close', 20_000).catch(() => undefined);
    // A process writes its CPU profile as it exits: it is given the time to.
    await until(() => all.every((child) => child.exitCode !== null || child.signalCode !== null), 'the processes to exit', 10_000).catch(() => undefined);
  } finally {
    finishing = true;
    for (const child of all) if (child.exitCode === null) child.kill();
  }
  const result = serverResult!;
  const ages = clientResults.flatMap((r) => r.ages);
  const statesReceived = clientResults.reduce((sum, r) => sum + r.statesReceived, 0);
  const inputsSent = clientResults.reduce((sum, r) => sum + r.inputsSent, 0);
  return {
    cpuPct: result.cpuPct,
    mainThreadPct: result.mainThreadPct,
    otherThreadsPct: result.cpuPct - result.mainThreadPct,
    ageP50Ms: percentile(ages, 50),
    ageP99Ms: percentile(ages, 99),
    lateTicks: result.lateTicks,
    // The windows of the processes open within a tick of each other: a few states either way.
    statesPct: (100 * statesReceived) / result.statesSent,
    inputsPct: (100 * result.inputsReceived) / inputsSent,
  };
}

async function sizeRows(context: BenchContext, name: string, count: number): Promise<Row[]> {
  // A server's steady state: past the 4 s in which a new connection's keepalive pings go every interval.
  const timing = { warmupMs: context.ms(5000, 300), durationMs: context.ms(5000, 1000) };
  const results = await alternate(context, `${count} clients`, () => measure('raw', count, timing), () => measure('rtcmesh', count, timing));
  const judged = JUDGED_SIZES.has(count);
  const row = (metric: string, key: keyof Capacity, target?: Target): Row => ({
    scenario: name,
    metric: `${count} clients, ${metric}`,
    raw: pick(results.raw, key),
    rtcmesh: pick(results.rtcmesh, key),
    ...(target && judged ? { target } : {}),
  });
  return [
    row('server CPU, % of one core', 'cpuPct', ratioAtMost(1)),
    row('server CPU: its main thread', 'mainThreadPct'),
    row('server CPU: its other threads', 'otherThreadsPct'),
    row('state age p50, ms', 'ageP50Ms'),
    row('state age p99, ms', 'ageP99Ms', atMostRawPlus(2, 'ms')),
    row(`late ticks (of ${(TICK_HZ * timing.durationMs) / 1000})`, 'lateTicks'),
    row('states delivered, %', 'statesPct'),
    row('inputs delivered, %', 'inputsPct'),
  ];
}

/** A dedicated server's capacity at 60 Hz, raw beside rtcmesh. */
export const serverCapacity: Scenario = {
  name: 'server-capacity',
  async run(context) {
    const rows: Row[] = [];
    for (const count of context.quick ? QUICK_SIZES : FULL_SIZES) rows.push(...(await sizeRows(context, this.name, context.smoke ? SMOKE_CLIENTS : count)));
    return rows;
  },
};
