/**
 * `npm run bench`: every scenario, raw node-datachannel against rtcmesh, alternating; a table on
 * stdout (progress on stderr) and bench/results.md.
 *
 *   --quick            one short repetition of everything (under a minute)
 *   --smoke            --quick on each scenario's smallest size and a fifth of its windows: that
 *                      each runs and reports, not what it measures (npm test's smoke test)
 *   --only a,b         only these scenarios (repeatable)
 *   --side raw|rtcmesh only one side (for profiling one with --cpu-prof)
 *   --match text       only the measurements whose label contains text, e.g. 'reliable 64 B'
 *   --reps n           repetitions per side (default 5, 1 with --quick)
 *   --out file         write the results there instead of bench/results.md (with --quick:
 *                      dist-bench/results-quick.md, so a smoke run never replaces the committed figures)
 *   --no-write         write no results file
 *
 * RTCMESH_BENCH_ENGINE_LOG=Warning (or another libdatachannel level) prints the engine's log on stderr.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodeDataChannel from 'node-datachannel';
import { cleanup } from '../src/index.js';
import type { BenchContext, Scenario } from './harness.js';
import { closeAllRawLinks } from './raw-link.js';
import { retriedSetups } from './retry.js';
import { GENERATOR_PROCESS_FLAG, runGenerator } from './signaling/generator.js';
import { RELAY_PROCESS_FLAG, runRelayProcess } from './signaling/relay-process.js';
import { type Row, type Summary, environment, formatTable, summarize, writeResults } from './results.js';
import { gameLoad } from './scenarios/game-load.js';
import { MEMORY_PROBE_FLAG, memory, runMemoryProbe } from './scenarios/memory.js';
import { meshFormation } from './scenarios/mesh.js';
import { roundTrip } from './scenarios/round-trip.js';
import { rpc } from './scenarios/rpc.js';
import { replication } from './scenarios/replication.js';
import { signaling } from './scenarios/signaling.js';
import { signalingCluster } from './scenarios/signaling-cluster.js';
import { slowLink } from './scenarios/slow-link.js';
import { reliableThroughput, unreliableRate } from './scenarios/throughput.js';
import { userLoop } from './scenarios/user-loop.js';
import { browser } from './scenarios/browser.js';
import { BROWSER_FLAG, runBrowserChild } from './browser/child.js';
import { serverCapacity } from './scenarios/server-capacity.js';
import { CLIENTS_FLAG, SERVER_FLAG } from './capacity/protocol.js';
import { runCapacityProcess } from './capacity/process.js';
import { USER_LOOP_FLAG, runUserLoopChild } from './user-loop/child.js';

const SCENARIOS: readonly Scenario[] = [reliableThroughput, unreliableRate, roundTrip, userLoop, browser, gameLoad, rpc, meshFormation, memory, slowLink, signaling, signalingCluster, replication, serverCapacity];
const FULL_REPS = 5;
const QUICK_REPS = 1;
/** How much shorter --smoke makes every --quick window. */
const SMOKE_WINDOW_DIVISOR = 5;

const NOTES = [
  'Every figure is the median over the repetitions; each repetition of each side sets up its own connections on 127.0.0.1, ' +
    'both ends in this one process, and closes them. Raw is node-datachannel used directly with negotiated channels, ' +
    'the engine options rtcmesh\'s backend uses (no auto-negotiation, 256 KiB messages), and the offerer\'s candidates held ' +
    'until the answer is applied, as that backend holds them, then handed over a loop turn later, as poll() would.',
  'reliable-throughput: one-way for a fixed time after a warm-up; what ARRIVED counts. The sender keeps at most 1 MiB buffered ' +
    '(pausing until under 256 KiB): raw by bufferedAmount(), rtcmesh by getPeerStats().bufferedBytes, putPacket (Reliable, batching on) ' +
    'and one poll() per loop turn. MB = 10^6 bytes of payload.',
  'unreliable-rate: as above at 64 B on an unreliable channel, window 256 KiB (rtcmesh refuses unreliable sends past it). ' +
    'Sent counts what the sender accepted; the delivery ratio is arrived / sent over the whole run, after 300 ms of draining.',
  'round-trip: a 64 B ping-pong on the reliable channel. Raw echoes in onMessage; rtcmesh reads after poll() and puts the ' +
    'answer, then flush()es at the end of the turn, as a game loop does at the end of its frame. Both ends run one loop, ' +
    'turned by setImmediate.',
  'user-loop: rtcmesh driven as a user drives it, each case alone in a fresh process (in a loopback-only network namespace ' +
    'when run as root). Each peer runs a loop of its own on setImmediate: poll(), read every packet, put, flush(); the sender ' +
    'reads getPeerBufferedBytes() before every packet, pausing at 1 MiB and resuming under 256 KiB (unreliable 256 / 64 KiB). ' +
    'Raw sends from a loop of its own with the same windows on bufferedAmount() and receives in onMessage; in the ping-pong it ' +
    'echoes in onMessage with two idle loops turning beside it. Setups: 100 one after another after a warm-up one, two ' +
    "connections with rtcmesh's four channels each, until both sides see them open (rtcmesh: peerConnected on both); raw " +
    "holds the offerer's candidates until the answer, rtcmesh's backend also until the offerer's checks connect it (150 ms at " +
    'most). Through signaling: a SignalingServer on loopback, a host with its lobby open, then a guest from connect() until ' +
    'both have peerConnected, 100 times, rtcmesh alone.',
  'server-capacity: one server process (server topology) at 60 Hz and the clients in two other processes, one tick ' +
    'slower over the window, so that every phase between the loops is measured; each client ' +
    'sends a 32 B reliable input a tick, the server a 1 KB unreliable state to each client a tick (rtcmesh: setTargetPeer, ' +
    'putPacket, flush() at the end of the tick; raw: sendMessageBinary). A client process sends all its clients\' inputs in ' +
    'one run each tick (rtcmesh: every client polled and read first, then each put and flushed), so the server receives the ' +
    'same bursts from both. Server CPU is its process.cpuUsage() (engine threads ' +
    'included) over the 5 s window, which opens 5 s after every client has connected (a new connection\'s keepalive pings ' +
    'go every interval until its clock estimate is full, 4 s), split into its main thread (the loop, and the engine calls ' +
    "made from it) and its other threads (the engine's own, V8's helpers) by the main thread's time in /proc; the state age " +
    'is, at the start of every client tick, how old the newest state the client holds is, by ' +
    "the one clock of the machine. A late tick began more than a tick after it was due. Delivered counts each side's window, " +
    'which open within a tick of each other.',
  'browser: the user-loop cases in headless Chromium (Debian\'s, driven by playwright-core, in a loopback-only network ' +
    'namespace as the browser tests run it), one page, two peers over loopback, the page loaded afresh and garbage collected ' +
    'before each repetition, and cross-origin isolated, so that performance.now() has a 5 µs grain rather than 100 µs. ' +
    "rtcmesh is its browser entry on the page's RTCPeerConnection, each peer a loop of its own (poll(), read every packet, put, " +
    'flush(), getPeerBufferedBytes() read before every packet); raw is two RTCPeerConnections of the page with negotiated ' +
    'channels of the same reliability, flow control on bufferedAmount with the same windows (reliable 1 MiB / 256 KiB, ' +
    'unreliable 256 / 64 KiB), receiving in onmessage. A loop turn is a MessageChannel message each loop posts itself, the ' +
    "page's setImmediate: setTimeout(0) is clamped to 4 ms once nested. In the ping-pong raw echoes in onmessage with two idle " +
    'loops turning beside it, as in user-loop. Setups: 100 one after another after a warm-up one, each two connections with ' +
    "rtcmesh's four channels, until both sides see them open (rtcmesh: peerConnected on both). Not run under --quick.",
  'game-load: 4 peers in a full mesh, 60 frames a second; each frame each peer sends each other peer 10 reliable and 40 ' +
    'unreliable messages of 20–100 B (rtcmesh: putPacket, then flush() at the end of the frame). CPU is process.cpuUsage() ' +
    '(every peer and the engine threads) over wall time, in % of one core.',
  'rpc: end to end, MultiplayerAPI calls of move(x, y, z, name) counted where the handler ran; raw sends each call as a JSON ' +
    'text message and dispatches it by path and method. Codec: RpcCodec encodeCall + decode of the same call, single-threaded, ' +
    'against JSON.stringify + JSON.parse.',
  'mesh-formation: from the first constructor until every peer is connected to every other (rtcmesh: every peerConnected; raw: ' +
    'every connection connected and its one channel open). Idle poll: the mean of a server\'s poll() with 16 clients connected ' +
    'and no traffic but keepalives; no raw counterpart.',
  'memory: a server and 16 clients (32 PeerConnections) connected and idle, growth of heapUsed and rss after garbage ' +
    'collection, per PeerConnection, each measured in a fresh child process after one link has warmed the engine up. ' +
    'Raw holds the same channels (ids 0–3) with a message handler each.',
  'slow-link: test/faults/slow-link measured: 64 KiB of reliable 1 KiB events put every loop turn and 16 B of unreliable state ' +
    'at 60 Hz, over a NetworkConditioner link losing 10 % each way (40 ms delay, 20 ms jitter), for 15 s, each repetition on its ' +
    'own seed. No raw counterpart: rtcmesh on one connection, then with stateConnection, alternating. Ages are of the state that ' +
    'arrived, read against the sender\'s stamp (one process, one clock), with a lifetime long enough that none is judged stale.',
  'replication: a server and clients on real connections, every byte rtcmesh hands the engine counted by a wrapping backend. ' +
    'Bytes per entity per tick: 200 entities of x, y (16-bit quantized), angle (8 bits) and hp (8 bits) to one client; whole ' +
    'state is the first tick after their spawn, moving is every entity changing x, y and angle each tick once acknowledgements ' +
    'flow, idle is nothing changing; beside them the same state as one RPC per entity, and as one JSON text per entity ' +
    '(sendBytes). 8 clients: 200 entities on seeded paths with turns and stops, state at 60 Hz. Server CPU: the time inside the ' +
    "server's poll() over wall time while 1,000 entities (all, or 25 %) follow paths, 8 clients, 60 Hz. Late join: from the " +
    "joiner's peerConnected to its 1,000th spawned. Network time and interpolation: through a NetworkConditioner (10 % loss, " +
    '20 ms + 0–60 ms, 5 % reordered, 2 % duplicated), state at 20 Hz, drawn at 60 Hz; the error is the distance between the ' +
    'interpolated position at the render time and where the entity was then. No raw counterpart.',
  'signaling: lobbies of two on 127.0.0.1, each guest sending CANDIDATE messages (106 B frames) to its host as fast as its ' +
    'socket takes them, in writes of 16 frames; what the hosts received in 3 s after 1 s of warm-up counts. The relay runs ' +
    'in its own process; the load comes from 2 generator processes on a WebSocket client of their own (frames masked once, ' +
    'replies counted by header), which report their CPU and the bytes waiting in their sockets: a queue that never empties ' +
    'means the relay, not the generator, set the pace. Raw is a reference relay written for the benchmark with the per-message ' +
    "work of Godot's demo servers (JSON parse, checks, stringify with the sender's id, send, on ws); rtcmesh is SignalingServer " +
    'with its validation and metrics, its rate limits raised. Each process raises its open-file limit to 65,536 where allowed.',
  'signaling-cluster: one relayed CANDIDATE message, one way (half a guest → host → guest round trip, one message in flight), ' +
    'on raw WebSocket clients. The "raw" column is one SignalingServer holding both; the "rtcmesh" column two nodes with --redis ' +
    'and a redis-server, all on 127.0.0.1, host on one node and guest on the other: each message crosses Redis pub/sub once ' +
    '(from the node of the guest to that of the lobby, and back), so the difference is what the cluster adds.',
  'mesh-formation tries a setup that fails again, times only attempts that succeeded, and reports the share that failed ' +
    'over all its sizes. Elsewhere a setup that fails is retried (3 attempts at most) and counted above (bench/retry.ts).',
];

interface Options {
  quick: boolean;
  smoke: boolean;
  only: Set<string>;
  side: 'raw' | 'rtcmesh' | undefined;
  match: string | undefined;
  reps: number | undefined;
  out: string | undefined;
  write: boolean;
}

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: main.js [--quick | --smoke] [--only name[,name]] [--side raw|rtcmesh] [--match text] [--reps n] [--out file | --no-write]\n`);
  process.stderr.write(`scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}

function parseOptions(args: readonly string[]): Options {
  const options: Options = { quick: false, smoke: false, only: new Set(), side: undefined, match: undefined, reps: undefined, out: undefined, write: true };
  for (let n = 0; n < args.length; n++) {
    const arg = args[n]!;
    const value = (): string => args[++n] ?? usage(`${arg} needs a value`);
    switch (arg) {
      case '--quick':
        options.quick = true;
        break;
      case '--smoke':
        options.quick = true;
        options.smoke = true;
        break;
      case '--only':
        for (const name of value().split(',')) {
          if (!SCENARIOS.some((s) => s.name === name)) usage(`unknown scenario "${name}"`);
          options.only.add(name);
        }
        break;
      case '--side': {
        const side = value();
        if (side !== 'raw' && side !== 'rtcmesh') usage('--side is raw or rtcmesh');
        options.side = side;
        break;
      }
      case '--match':
        options.match = value();
        break;
      case '--reps': {
        const reps = Number(value());
        if (!Number.isInteger(reps) || reps < 1) usage('--reps is a whole number from 1');
        options.reps = reps;
        break;
      }
      case '--out':
        options.out = value();
        break;
      case '--no-write':
        options.write = false;
        break;
      case '--help':
        usage('rtcmesh benchmarks');
        break;
      default:
        usage(`unknown argument "${arg}"`);
    }
  }
  return options;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const context: BenchContext = {
    quick: options.quick,
    reps: options.reps ?? (options.quick ? QUICK_REPS : FULL_REPS),
    sides: { raw: options.side !== 'rtcmesh', rtcmesh: options.side !== 'raw' },
    match: options.match,
    smoke: options.smoke,
    ms: (full, quick) => (options.smoke ? Math.round(quick / SMOKE_WINDOW_DIVISOR) : options.quick ? quick : full),
    sizes: (all) => (options.smoke ? all.slice(0, 1) : all),
    log: (message) => process.stderr.write(`${message}\n`),
  };
  const selected = SCENARIOS.filter((s) => options.only.size === 0 || options.only.has(s.name));
  const gcExposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  const env = environment();
  context.log(
    `rtcmesh ${env.rtcmesh} benchmarks (${options.smoke ? 'smoke' : options.quick ? 'quick' : 'full'}, ${context.reps} rep(s)): ` +
      `${env.cores} × ${env.cpu} (load ${env.loadAverage.toFixed(2)}), Node ${env.node}, node-datachannel ${env.nodeDataChannel}, ` +
      `libdatachannel ${env.libdatachannel}, ${env.source}` +
      `${gcExposed ? '' : ' — no --expose-gc: memory figures are rough'}`,
  );

  const rows: Row[] = [];
  const failures: string[] = [];
  for (const scenario of selected) {
    context.log(`${scenario.name}…`);
    const started = performance.now();
    try {
      rows.push(...(await scenario.run(context)));
      context.log(`${scenario.name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push(`${scenario.name}: ${message}`);
      context.log(`${scenario.name} FAILED: ${error instanceof Error ? (error.stack ?? message) : message}`);
      process.exitCode = 1;
      await closeAllRawLinks();
    }
  }

  // A measurement --side or --match left out entirely has no line.
  const summaries: Summary[] = rows.filter((row) => row.raw.length + row.rtcmesh.length > 0).map(summarize);
  process.stdout.write(`${formatTable(summaries)}\n`);
  const missed = summaries.filter((s) => s.met === false);
  process.stdout.write(missed.length === 0 ? 'every target met\n' : `targets missed: ${missed.length}\n`);
  if (failures.length > 0) process.stdout.write(`failed: ${failures.join('; ')}\n`);
  const retried = retriedSetups();
  if (retried.length > 0) process.stdout.write(`connection setups retried: ${retried.join(', ')}\n`);

  if (options.write) {
    // Relative to the bundle, dist-bench/main.js.
    const defaultFile = options.quick ? './results-quick.md' : '../bench/results.md';
    const file = options.out ? resolve(options.out) : fileURLToPath(new URL(defaultFile, import.meta.url));
    const mode = `${options.quick ? 'quick' : 'full'}${options.only.size > 0 ? ` (only ${[...options.only].join(', ')})` : ''}`;
    writeResults(file, env, { mode, reps: context.reps, gcExposed, failures, retriedSetups: retried }, summaries, NOTES);
    context.log(`results written to ${file}`);
  }
}

const engineLog = process.env.RTCMESH_BENCH_ENGINE_LOG;
if (engineLog) {
  // libdatachannel's own log (Verbose, Debug, Info, Warning, Error, Fatal), on stderr: to see why a setup failed.
  nodeDataChannel.initLogger(engineLog as Parameters<typeof nodeDataChannel.initLogger>[0], (level, message) =>
    process.stderr.write(`[libdatachannel ${level}] ${message}\n`),
  );
}
try {
  const probeAt = process.argv.indexOf(MEMORY_PROBE_FLAG);
  const relayAt = process.argv.indexOf(RELAY_PROCESS_FLAG);
  const userLoopAt = process.argv.indexOf(USER_LOOP_FLAG);
  const browserAt = process.argv.indexOf(BROWSER_FLAG);
  const serverAt = process.argv.indexOf(SERVER_FLAG);
  const clientsAt = process.argv.indexOf(CLIENTS_FLAG);
  if (probeAt >= 0) await runMemoryProbe(process.argv[probeAt + 1] ?? '');
  else if (relayAt >= 0) await runRelayProcess(process.argv[relayAt + 1] ?? '');
  else if (userLoopAt >= 0) await runUserLoopChild(process.argv[userLoopAt + 1] ?? '');
  else if (browserAt >= 0) await runBrowserChild(process.argv[browserAt + 1] ?? '');
  else if (serverAt >= 0) await runCapacityProcess('server', process.argv[serverAt + 1] ?? '');
  else if (clientsAt >= 0) await runCapacityProcess('clients', process.argv[clientsAt + 1] ?? '');
  else if (process.argv.includes(GENERATOR_PROCESS_FLAG)) runGenerator();
  else await main();
} finally {
  await closeAllRawLinks();
  // Once, at the very end, with every connection closed (docs/design.md).
  cleanup();
}
