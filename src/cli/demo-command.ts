// `rtcmesh demo`: a local match. A signaling server here, each peer in a child process of its own,
// all on 127.0.0.1; this process only starts them, watches them, and prints their results.
import { CONDITION_FLAGS, SignalingServer, conditionFlagArgs, describeConditions } from '../index.js';
import { readLinkOptions } from './condition-options.js';
import { EXIT_FAILURE, type Output, choiceOption, integerOption, optionalOptions, parseOptions, positiveNumberOption } from './command-line.js';
import { LOOPBACK_HOST } from './loopback.js';
import { PeerProcess } from './peer-process.js';
import {
  CUT_START_TICKS,
  DEMO_MODES,
  DEMO_TICK_HZ,
  MAX_CUT_SECONDS,
  MAX_DEMO_PEERS,
  MAX_DEMO_SECONDS,
  MIN_DEMO_PEERS,
} from './demo-peer.js';
import { UsageError } from './command-line.js';
import { formatDemoTable, formatLinkTable } from './table.js';

const DEFAULT_PEERS = 4;
const DEFAULT_SECONDS = 5;
const DEFAULT_CUT_SECONDS = 5;
// From the start to every peer's full mesh. Generous: a connection setup can wait 1 s for a DTLS
// retransmit (docs/design.md), and each peer is a process to start.
const MESH_TIMEOUT_MS = 15_000;
// Time, past the traffic itself, for peers to trade their last packets, report and exit.
const FINISH_GRACE_MS = 10_000;
const MS_PER_SECOND = 1000;
// Shells report a process ended by SIGINT as 128 + 2.
const EXIT_INTERRUPTED = 130;
// After a cut ends: time for every session to resume, and traffic after it.
const AFTER_CUT_SECONDS = 4;
// The grace past the cut itself: a session outlives a cut with this to spare.
const GRACE_PAST_CUT_MS = 10_000;

/** Why the demo stopped early, and the exit code that says so. */
class DemoFailure extends Error {
  constructor(
    reason: string,
    readonly exitCode = EXIT_FAILURE,
  ) {
    super(reason);
  }
}

/**
 * Runs `rtcmesh demo [--peers n] [--seconds s] [--mode mesh|server] [--loss …]`: a signaling
 * server on 127.0.0.1 port 0 and n peer processes that join one lobby, connect (a full mesh, or a
 * star around the host), exchange traffic at 60 Hz, and report. With condition flags each peer
 * conditions what it sends, so every direction of every link has those conditions, and a second
 * table tells what the conditioners did and what rtcmesh dropped. Prints the table and resolves with 0
 * when every peer connected and reported; otherwise kills every peer, prints a one-line reason
 * and resolves with non-zero (130 on SIGINT or SIGTERM).
 * @throws UsageError for a bad option.
 */
export async function runDemoCommand(args: string[], output: Output): Promise<number> {
  const values = parseOptions(args, {
    peers: String(DEFAULT_PEERS),
    seconds: String(DEFAULT_SECONDS),
    mode: DEMO_MODES[0],
    'cut-peer': '',
    'cut-seconds': '',
    ...optionalOptions(CONDITION_FLAGS),
  });
  const link = readLinkOptions(values);
  const peerCount = integerOption('peers', values.peers, MIN_DEMO_PEERS, MAX_DEMO_PEERS);
  const mode = choiceOption('mode', values.mode, DEMO_MODES);
  const cut = readCut(values['cut-peer'], values['cut-seconds'], peerCount);
  const asked = positiveNumberOption('seconds', values.seconds, MAX_DEMO_SECONDS);
  // A cut needs traffic before, during and after it.
  const seconds = cut ? Math.max(asked, CUT_START_TICKS / DEMO_TICK_HZ + cut.seconds + AFTER_CUT_SECONDS) : asked;
  const graceMs = cut ? cut.seconds * MS_PER_SECOND + GRACE_PAST_CUT_MS : 0;

  const server = new SignalingServer({ host: LOOPBACK_HOST, port: 0, reconnectGraceMs: graceMs });
  const peers: PeerProcess[] = [];
  let fail!: (failure: DemoFailure) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  // Only the first failure is the reason; the kills that follow it fail every other peer too.
  failed.catch(() => undefined);
  const interrupt = (signal: NodeJS.Signals): void => fail(new DemoFailure(`interrupted by ${signal}`, EXIT_INTERRUPTED));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const timer = new Deadline();
  try {
    const { url } = await Promise.race([server.listen(), failed]);
    const start = (lobby: string): PeerProcess => {
      const peerArgs = ['--url', url, '--lobby', lobby, '--peers', String(peerCount), '--seconds', String(seconds), '--mode', mode];
      peerArgs.push('--reconnect-grace-ms', String(graceMs));
      if (cut?.peer === peers.length + 1) peerArgs.push('--cut-seconds', String(cut.seconds));
      // Each peer its own seed, so that no two draw the same sequence.
      if (link) peerArgs.push(...conditionFlagArgs({ conditions: link.conditions, seed: (link.seed ?? 1) + peers.length }));
      const peer = new PeerProcess(peers.length + 1, peerArgs, (reason) => fail(new DemoFailure(reason)));
      peers.push(peer);
      return peer;
    };
    const meshTimeout = timer.after(MESH_TIMEOUT_MS, () => meshFault(peers, peerCount));
    // The first peer creates the lobby; the others can only join once it has a name.
    const lobby = await Promise.race([start('').joined, failed, meshTimeout]);
    while (peers.length < peerCount) start(lobby);
    await Promise.race([Promise.all(peers.map((peer) => peer.meshed)), failed, meshTimeout]);
    timer.clear();
    const finishTimeout = timer.after(
      seconds * MS_PER_SECOND + FINISH_GRACE_MS,
      () => `peers did not finish within ${FINISH_GRACE_MS} ms after ${seconds} s of traffic`,
    );
    const reports = await Promise.race([Promise.all(peers.map((peer) => peer.finished)), failed, finishTimeout]);
    const topology = mode === 'mesh' ? 'a full mesh' : 'a star around the host (server mode)';
    output.log(`${peerCount} peers, one process each, in lobby ${lobby}: ${topology}; ${seconds} s of traffic at ${DEMO_TICK_HZ} Hz`);
    if (link) output.log(`link: ${describeConditions(link.conditions)}; each way on every connection, seed ${link.seed ?? 1}`);
    if (cut) {
      const start = CUT_START_TICKS / DEMO_TICK_HZ;
      output.log(`peer ${reports[cut.peer - 1]!.id} (started #${cut.peer}): every datagram cut for ${cut.seconds} s, ${start} s into the traffic; sessions resume within ${graceMs / MS_PER_SECOND} s`);
    }
    output.log(formatDemoTable(reports));
    output.log(LEGEND);
    if (cut) output.log(CUT_LEGEND);
    if (link) {
      output.log('');
      output.log(formatLinkTable(reports));
      output.log(LINK_LEGEND);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof DemoFailure)) throw error;
    output.error(`rtcmesh demo: ${error.message}`);
    return error.exitCode;
  } finally {
    timer.clear();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    for (const peer of peers) peer.kill();
    await Promise.all(peers.map((peer) => peer.exited));
    await server.close();
  }
}

const LEGEND = [
  'join, mesh: ms from the start of each peer to its lobby join, and to its last connection up.',
  'rtt: a ping each tick on the ordered channel, echoed by its receivers; it includes the wait for',
  '  each end\'s next tick (up to 16.7 ms at 60 Hz).',
  'sent, recv, drop: packets on each channel, from getPeerStats, summed over the peer\'s connections,',
  '  up to the Done each peer sends when its traffic ends (in a mesh, reliable sent = recv in total).',
].join('\n');

const LINK_LEGEND = [
  'sent, lost, lost %, over bw, dup, reord: UDP datagrams each peer sent, and what its network conditioner',
  '  did to them: lost, dropped at the bandwidth cap, duplicated, held back so that later ones overtake.',
  'stale, outOfOrder, ...: packets rtcmesh dropped, by reason (getPeerStats(id).dropped), summed over the',
  '  peer\'s connections: unreliable ones older than their lifetime, ordered ones older than one delivered.',
].join('\n');

const CUT_LEGEND = [
  'resumed: sessions the peer resumed on a new connection, with the same ids, over all its peers; resume ms:',
  '  on the cut peer, from the end of the cut until every one of its sessions had resumed. Reliable events',
  '  are checked in order, each once: a gap or a double fails the run, and so does a peer dropped.',
].join('\n');

/** The `--cut-peer` and `--cut-seconds` options: which peer (by start order) is cut, for how long; undefined for no cut. */
function readCut(peer: string, seconds: string, peerCount: number): { peer: number; seconds: number } | undefined {
  if (peer === '') {
    if (seconds !== '') throw new UsageError('--cut-seconds goes with --cut-peer');
    return undefined;
  }
  return {
    peer: integerOption('cut-peer', peer, 1, peerCount),
    seconds: seconds === '' ? DEFAULT_CUT_SECONDS : positiveNumberOption('cut-seconds', seconds, MAX_CUT_SECONDS),
  };
}

/** Which peers had not connected when the mesh timeout struck. */
function meshFault(peers: readonly PeerProcess[], peerCount: number): string {
  const waiting = peers.filter((peer) => !peer.hasMeshed).map((peer) => peer.label);
  const missing = peerCount - peers.length;
  const who = missing > 0 ? `the lobby was not created` : `${waiting.join(', ')} had not connected to every peer`;
  return `the mesh did not form within ${MESH_TIMEOUT_MS} ms: ${who}`;
}

/** One timeout at a time, as a promise that rejects with a {@link DemoFailure}. */
class Deadline {
  private timer: NodeJS.Timeout | undefined;

  /** Rejects after `ms` with the reason `describe()` gives then; replaces any running timeout. */
  after(ms: number, describe: () => string): Promise<never> {
    this.clear();
    const expired = new Promise<never>((_, reject) => {
      this.timer = setTimeout(() => reject(new DemoFailure(describe())), ms);
    });
    // A cleared deadline never rejects; one that fires is always raced.
    expired.catch(() => undefined);
    return expired;
  }

  /** Stops the running timeout, so that it neither fires nor holds the process open. */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
