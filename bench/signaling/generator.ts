/**
 * A load generator process: opens lobbies of two on the relay, a host and a guest each, then has
 * every guest send CANDIDATE messages to its host as fast as its socket takes them, and counts
 * what the hosts receive. It reports its own CPU and send queue, so that the figure can be seen
 * to be the relay's and not its own.
 */
import { HOST_PEER_ID, MessageType } from '../../src/signaling/protocol.js';
import { sleep } from '../loop.js';
import { answer, exitWithParent, openFileLimit, serve } from './child.js';
import { LoadSocket, maskedFrame } from './load-socket.js';

export const GENERATOR_PROCESS_FLAG = '--signaling-generator';

// A host candidate as Godot's client sends it.
const CANDIDATE_MESSAGE = JSON.stringify({
  type: MessageType.Candidate,
  id: HOST_PEER_ID,
  data: '\n0\n0\ncandidate:1 1 UDP 2122317823 192.0.2.1 50000 typ host',
});
// Frames per write: a client's socket carries many messages per TCP segment under load anyway.
const FRAMES_PER_WRITE = 16;
// Lobbies set up at once: more would overflow the listen backlog.
const SETUP_CONCURRENCY = 64;
const QUEUE_SAMPLE_MS = 50;

/** A lobby of two: the host receives what the guest sends. */
type Pair = Record<'host' | 'guest', LoadSocket>;

/** What one measurement of a generator found. */
export interface GeneratorResult {
  /** Messages the hosts received in the window. */
  received: number;
  seconds: number;
  /** The window, in milliseconds since the epoch, so that the parent can line up the relay's CPU with it. */
  windowStart: number;
  windowEnd: number;
  /** This process's CPU over the window, % of one core. */
  cpuPercent: number;
  /** Bytes waiting in the guests' sockets, summed: mean and largest over the window's samples. */
  meanQueueBytes: number;
  maxQueueBytes: number;
  /** Sockets the relay closed. */
  closed: number;
}

/** Serves the parent's setup and run requests, until the parent kills the process. */
export function runGenerator(): void {
  let pairs: Pair[] = [];
  serve(async (message) => {
    switch (message.kind) {
      case 'setup':
        pairs = await setUp(Number(message.port), Number(message.pairs));
        answer({ kind: 'ready', openFiles: openFileLimit() });
        break;
      case 'run':
        answer({ kind: 'result', ...(await measure(pairs, Number(message.warmupMs), Number(message.measureMs))) });
        break;
    }
  });
  exitWithParent();
  answer({ kind: 'started' });
}

async function setUp(port: number, count: number): Promise<Pair[]> {
  const pairs: Pair[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      pairs.push(await openPair(port));
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, count) }, worker));
  return pairs;
}

async function openPair(port: number): Promise<Pair> {
  const host = await LoadSocket.open(port);
  const lobby = await join(host, '');
  const guest = await LoadSocket.open(port);
  await join(guest, lobby);
  host.decoding = false;
  guest.decoding = false;
  return { host, guest };
}

/** Sends JOIN and reads the replies up to the JOIN confirmation; resolves with the lobby's name. */
async function join(socket: LoadSocket, lobby: string): Promise<string> {
  socket.sendText(JSON.stringify({ type: MessageType.Join, id: 0, data: lobby }));
  for (;;) {
    const message = JSON.parse(await socket.nextText()) as { type: number; data: string };
    if (message.type === MessageType.Join) return message.data;
  }
}

async function measure(pairs: readonly Pair[], warmupMs: number, measureMs: number): Promise<GeneratorResult> {
  const batch = Buffer.concat(Array.from({ length: FRAMES_PER_WRITE }, () => maskedFrame(Buffer.from(CANDIDATE_MESSAGE))));
  let running = true;
  for (const { guest } of pairs) {
    const socket = guest.socket;
    const pump = (): void => {
      while (running && !socket.destroyed && socket.write(batch));
      if (running && !socket.destroyed) socket.once('drain', pump);
    };
    pump();
  }
  const received = (): number => pairs.reduce((sum, { host }) => sum + host.textFrames, 0);
  await sleep(warmupMs);
  const startCount = received();
  const startCpu = process.cpuUsage();
  const started = performance.now();
  const windowStart = performance.timeOrigin + started;
  let samples = 0;
  let queueSum = 0;
  let maxQueueBytes = 0;
  const sampler = setInterval(() => {
    const queued = pairs.reduce((sum, { guest }) => sum + guest.socket.writableLength, 0);
    samples++;
    queueSum += queued;
    maxQueueBytes = Math.max(maxQueueBytes, queued);
  }, QUEUE_SAMPLE_MS);
  await sleep(measureMs);
  clearInterval(sampler);
  const ended = performance.now();
  const seconds = (ended - started) / 1000;
  const cpu = process.cpuUsage(startCpu);
  const count = received() - startCount;
  running = false;
  return {
    received: count,
    seconds,
    windowStart,
    windowEnd: performance.timeOrigin + ended,
    cpuPercent: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
    meanQueueBytes: samples === 0 ? 0 : queueSum / samples,
    maxQueueBytes,
    closed: pairs.filter(({ host, guest }) => host.closeCode !== 0 || guest.closeCode !== 0).length,
  };
}
