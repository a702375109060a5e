/**
 * Scenario 7: memory per connection. A server and 16 clients (16 links, 32 PeerConnections, both
 * ends in one process), connected and idle; the growth of heapUsed and rss over the process
 * before them, divided by the 32 connections. The raw side holds the same 32 connections with
 * the channels rtcmesh negotiates (system 0, reliable 1, ordered 2, unreliable 3) and a message
 * handler on each, so that the difference is rtcmesh's own.
 *
 * Each measurement runs in a fresh child process (this bundle, with `--memory-probe <side>`): in
 * the benchmark's own process, rss would only say whether the allocator still held the pages of
 * the scenarios before. The child first opens and closes one link, so that the engine's one-time
 * setup (its threads, the SCTP stack, the certificate) is not charged to the connections.
 */
import { execFile } from 'node:child_process';
import { formGroup } from '../broker.js';
import { type Scenario, alternate, pick } from '../harness.js';
import { collectGarbage, sleep } from '../loop.js';
import { RELIABLE, type RawChannelSpec, UNRELIABLE, connectRawLinks } from '../raw-link.js';

const LINKS = 16;
/** Both ends of every link live in the probe's process. */
const CONNECTIONS = 2 * LINKS;
const KIB = 1024;
/** A pause around each reading, for the engine's threads to finish what they were doing. */
const QUIET_MS = 100;
const PROBE_TIMEOUT_MS = 60_000;
/** The flag main.ts hands to {@link runMemoryProbe}. */
export const MEMORY_PROBE_FLAG = '--memory-probe';

const RTCMESH_LAYOUT: RawChannelSpec[] = [
  { id: 0, options: UNRELIABLE },
  { id: 1, options: RELIABLE },
  { id: 2, options: UNRELIABLE },
  { id: 3, options: UNRELIABLE },
];

interface Footprint {
  heapKiB: number;
  rssKiB: number;
}

async function usage(): Promise<NodeJS.MemoryUsage> {
  collectGarbage();
  await sleep(QUIET_MS);
  collectGarbage();
  return process.memoryUsage();
}

/** Opens `LINKS` links with `open`, reads the growth, then closes them with what `open` returned. */
async function footprint(open: (links: number) => Promise<() => Promise<void>>): Promise<Footprint> {
  // One link first, not counted: the engine's one-time setup.
  await (await open(1))();
  const before = await usage();
  const close = await open(LINKS);
  try {
    const after = await usage();
    return {
      heapKiB: (after.heapUsed - before.heapUsed) / CONNECTIONS / KIB,
      rssKiB: (after.rss - before.rss) / CONNECTIONS / KIB,
    };
  } finally {
    await close();
  }
}

async function openRaw(count: number): Promise<() => Promise<void>> {
  const links = await connectRawLinks(count, RTCMESH_LAYOUT);
  for (const link of links) for (const end of [link.a, link.b]) for (const channel of end.channels) channel.onMessage(() => undefined);
  return async () => {
    await Promise.all(links.map((link) => link.close()));
  };
}

async function openRtcmesh(count: number): Promise<() => Promise<void>> {
  const group = await formGroup(count + 1, { topology: 'server' });
  return async () => {
    group.close();
    await sleep(QUIET_MS);
  };
}

/** In the child: measures one side and prints the footprint as one line of JSON. */
export async function runMemoryProbe(side: string): Promise<void> {
  if (side !== 'raw' && side !== 'rtcmesh') throw new Error(`${MEMORY_PROBE_FLAG} takes raw or rtcmesh, not ${side}`);
  const result = await footprint(side === 'raw' ? openRaw : openRtcmesh);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** In the benchmark: runs a probe in a fresh process and reads its answer. */
function probe(side: 'raw' | 'rtcmesh'): Promise<Footprint> {
  // The child runs as this one does (--expose-gc), but is never profiled itself.
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof'));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...execArgv, process.argv[1]!, MEMORY_PROBE_FLAG, side],
      { timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`the ${side} memory probe failed: ${error.message}${stderr ? `\n${stderr}` : ''}`));
          return;
        }
        try {
          resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Footprint);
        } catch {
          reject(new Error(`the ${side} memory probe answered ${JSON.stringify(stdout)}`));
        }
      },
    );
  });
}

/** Scenario 7: memory per connection. */
export const memory: Scenario = {
  name: 'memory',
  async run(context) {
    const results = await alternate(context, 'memory', () => probe('raw'), () => probe('rtcmesh'));
    return [
      { scenario: this.name, metric: 'heapUsed per connection, KiB', raw: pick(results.raw, 'heapKiB'), rtcmesh: pick(results.rtcmesh, 'heapKiB') },
      { scenario: this.name, metric: 'rss per connection, KiB', raw: pick(results.raw, 'rssKiB'), rtcmesh: pick(results.rtcmesh, 'rssKiB') },
    ];
  },
};
