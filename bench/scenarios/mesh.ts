/**
 * Scenario 6: the time to a full mesh of 4, 8 and 16 peers in one process, from the first
 * constructor to every peer connected to every other (rtcmesh: every peerConnected emitted; raw:
 * every connection connected and its one negotiated channel open on both sides); and the cost of
 * an idle poll() on a server with 16 connected clients, which has no raw counterpart.
 */
import { formGroup, makeGroup } from '../broker.js';
import { type BenchContext, type Scenario, alternate } from '../harness.js';
import { measureWindow, now, sleep } from '../loop.js';
import { RELIABLE, tryRawLinks } from '../raw-link.js';
import { type Row, atMost, below } from '../results.js';

const MESH_SIZES = [4, 8, 16];
const FORMATION_TIMEOUT_MS = 30_000;
/** A setup that fails this often in a row fails the scenario. */
const MAX_FAILED_ATTEMPTS_IN_A_ROW = 10;
/** Hundreds of connections close in the engine's threads after close() returns: let them go first. */
const SETTLE_PER_CONNECTION_MS = 2;
const IDLE_CLIENTS = 16;
const IDLE_LABEL = `idle poll, ${IDLE_CLIENTS} peers`;

/** Setup attempts of one side, and how many failed (see retry.ts). */
interface Attempts {
  tried: number;
  failed: number;
}

/**
 * Runs a timed setup until one succeeds, counting the failures: a setup that fails is part of
 * what is measured, not noise to hide.
 */
async function timedAttempts(what: string, attempts: Attempts, attempt: () => Promise<number>): Promise<number> {
  for (let inARow = 1; ; inARow++) {
    attempts.tried++;
    try {
      return await attempt();
    } catch (error) {
      attempts.failed++;
      if (inARow >= MAX_FAILED_ATTEMPTS_IN_A_ROW) throw error;
      process.stderr.write(`  (${what} failed, trying again: ${error instanceof Error ? error.message : String(error)})\n`);
    }
  }
}

function rawMesh(size: number, attempts: Attempts): Promise<number> {
  const links = (size * (size - 1)) / 2;
  return timedAttempts(`${links} raw links`, attempts, async () => {
    const start = now();
    const made = await tryRawLinks(links, [{ id: 1, options: RELIABLE }], FORMATION_TIMEOUT_MS);
    const elapsed = now() - start;
    await Promise.all(made.map((link) => link.close()));
    return elapsed;
  });
}

function rtcmeshMesh(size: number, attempts: Attempts): Promise<number> {
  return timedAttempts(`a mesh of ${size}`, attempts, async () => {
    const start = now();
    const group = makeGroup(size);
    try {
      await group.waitFormed(FORMATION_TIMEOUT_MS);
      return now() - start;
    } finally {
      group.close();
      await sleep(SETTLE_PER_CONNECTION_MS * size * (size - 1));
    }
  });
}

/** Mean microseconds of the server's poll() with 16 clients connected and nothing sent, per measured window. */
async function idlePolls(context: BenchContext): Promise<number[]> {
  const group = await formGroup(IDLE_CLIENTS + 1, { topology: 'server' });
  try {
    const server = group.peer(1);
    const clients = group.members.slice(1).map((member) => member.peer);
    const means: number[] = [];
    for (let rep = 1; rep <= context.reps; rep++) {
      let measuring = false;
      let total = 0;
      let polls = 0;
      await measureWindow(
        context.ms(300, 100),
        context.ms(2000, 300),
        () => {
          // The clients are polled too (untimed): their keepalives are what an idle server receives.
          for (const client of clients) client.poll();
          const start = now();
          server.poll();
          const elapsed = now() - start;
          if (measuring) {
            total += elapsed;
            polls++;
          }
        },
        (on) => (measuring = on),
      );
      means.push((1000 * total) / polls);
      context.log(`  ${IDLE_LABEL}: rtcmesh ${rep}/${context.reps} ${means.at(-1)!.toFixed(2)} µs over ${polls} polls`);
    }
    return means;
  } finally {
    group.close();
    await sleep(SETTLE_PER_CONNECTION_MS * 2 * IDLE_CLIENTS);
  }
}

/** Scenario 6: mesh formation, and the idle poll. */
export const meshFormation: Scenario = {
  name: 'mesh-formation',
  async run(context) {
    const rows: Row[] = [];
    const attempts = { raw: { tried: 0, failed: 0 }, rtcmesh: { tried: 0, failed: 0 } };
    for (const size of context.sizes(MESH_SIZES)) {
      const results = await alternate(context, `mesh of ${size}`, () => rawMesh(size, attempts.raw), () => rtcmeshMesh(size, attempts.rtcmesh));
      rows.push({
        scenario: this.name,
        metric: `full mesh of ${size} peers, ms`,
        raw: results.raw,
        rtcmesh: results.rtcmesh,
        ...(size === 16 ? { target: atMost(2000, 'ms') } : {}),
      });
    }
    const failedPct = ({ tried, failed }: Attempts): number[] => (tried === 0 ? [] : [(100 * failed) / tried]);
    rows.push({
      scenario: this.name,
      metric: 'mesh setups that failed, % of attempts',
      raw: failedPct(attempts.raw),
      rtcmesh: failedPct(attempts.rtcmesh),
    });
    rows.push({
      scenario: this.name,
      metric: `idle poll() with ${IDLE_CLIENTS} peers, µs`,
      raw: [],
      rtcmesh: context.sides.rtcmesh && (context.match === undefined || IDLE_LABEL.includes(context.match)) ? await idlePolls(context) : [],
      target: below(20, 'µs'),
    });
    return rows;
  },
};
