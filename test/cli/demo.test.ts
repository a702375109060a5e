// `rtcmesh demo` as a user runs it: the built CLI, a signaling server and a process per peer.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  COUNT_COLUMNS,
  DEMO_WAIT_MS,
  QUICK_WAIT_MS,
  RELIABLE_RECEIVED_COLUMN,
  RELIABLE_SENT_COLUMN,
  eventually,
  killProcessesAfterAll,
  run,
  start,
  within,
} from '../support/cli-process.js';

const RECEIVED_COLUMNS = [1, 4, 7];

killProcessesAfterAll();

interface TableRow {
  id: number;
  rttP50: number;
  rttP99: number;
  counts: number[];
}

/** The peer rows of the demo's table: an id, four times, and sent/recv/drop for three channels. */
function tableRows(stdout: string): TableRow[] {
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cells) => cells.length === 5 + COUNT_COLUMNS && cells.every((cell) => /^(\d+(\.\d+)?|-)$/.test(cell)))
    .map((cells) => ({
      id: Number(cells[0]),
      rttP50: Number(cells[3]),
      rttP99: Number(cells[4]),
      counts: cells.slice(5).map(Number),
    }));
}

function childPids(pid: number): number[] {
  const listed = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return listed === '' ? [] : listed.split(' ').map(Number);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Each test runs a demo of its own and mostly waits on it: they run side by side.
describe.concurrent('rtcmesh demo', () => {
  it('connects 3 peer processes in a mesh, exchanges traffic, and prints a table of nonzero results', async () => {
    const { code, stdout, stderr } = await run(['demo', '--peers', '3', '--seconds', '2'], DEMO_WAIT_MS);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const rows = tableRows(stdout);
    expect(rows).toHaveLength(3);
    expect(rows.map((row) => row.id)).toContain(1);
    for (const row of rows) {
      expect(row.rttP50).toBeGreaterThan(0);
      expect(row.rttP99).toBeGreaterThanOrEqual(row.rttP50);
      for (const column of RECEIVED_COLUMNS) expect(row.counts[column]).toBeGreaterThan(0);
    }
    // In a mesh every reliable packet sent is received once, by the peer it was sent to.
    const total = (column: number): number => rows.reduce((sum, row) => sum + row.counts[column]!, 0);
    expect(total(RELIABLE_RECEIVED_COLUMN)).toBe(total(RELIABLE_SENT_COLUMN));
  }, DEMO_WAIT_MS + 5_000);

  it('plays the match on a conditioned link, the conditions and what they did visible in its tables', async () => {
    const args = ['demo', '--peers', '2', '--seconds', '2', '--loss', '10', '--delay', '40', '--jitter', '20', '--reorder', '5', '--duplicate', '2', '--seed', '7'];
    const { code, stdout, stderr } = await run(args, DEMO_WAIT_MS);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('link: loss 10 %, delay 40 ms, jitter 20 ms, reorder 5 % (held 20 ms), duplicate 2 %; each way on every connection, seed 7');
    const rows = tableRows(stdout);
    expect(rows).toHaveLength(2);
    // 40 ms each way at least, on top of the ticks: the round trip the game saw includes the link.
    for (const row of rows) expect(row.rttP50).toBeGreaterThanOrEqual(80);
    const linkRows = stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((cells) => cells.length === 11 && cells.every((cell) => /^\d+(\.\d+)?$/.test(cell)));
    expect(linkRows, stdout).toHaveLength(2);
    for (const [, , , sent, lost, lostPercent, , duplicated, reordered] of linkRows) {
      expect(Number(sent)).toBeGreaterThan(0);
      expect(Number(lost)).toBeGreaterThan(0);
      // 10 % of the datagrams sent (nearly 2,000 here, fewer from a loaded machine's late ticks):
      // within 5 points, or five standard deviations where so few were sent that that is wider.
      const deviations = 5 * 100 * Math.sqrt((0.1 * 0.9) / Number(sent));
      expect(Math.abs(Number(lostPercent) - 10)).toBeLessThan(Math.max(5, deviations));
      expect(Number(duplicated)).toBeGreaterThan(0);
      expect(Number(reordered)).toBeGreaterThan(0);
    }
    expect(stdout).toMatch(/\bstale\b.*\boutOfOrder\b/);
  }, DEMO_WAIT_MS + 5_000);

  it('exits 2 naming a bad condition flag', async () => {
    const { code, stderr } = await run(['demo', '--bandwidth', 'fast']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--bandwidth takes a rate in bit\/s such as 64k/);
  });

  it('connects 3 peer processes in server mode and exits 0', async () => {
    const { code, stdout, stderr } = await run(['demo', '--mode', 'server', '--peers', '3', '--seconds', '2'], DEMO_WAIT_MS);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('server mode');
    const rows = tableRows(stdout);
    expect(rows).toHaveLength(3);
    for (const row of rows) for (const column of RECEIVED_COLUMNS) expect(row.counts[column]).toBeGreaterThan(0);
  }, DEMO_WAIT_MS + 5_000);

  it('kills every peer process and exits 130 on SIGINT', async () => {
    const demo = start(['demo', '--peers', '3', '--seconds', '60']);
    const pid = demo.child.pid!;
    // The demo starts its server, then its peers one by one: as slow as a demo's start.
    const peers = await eventually(() => {
      const pids = childPids(pid);
      return pids.length === 3 ? pids : undefined;
    }, 'three peer processes', DEMO_WAIT_MS);
    demo.child.kill('SIGINT');
    const { code, stderr } = await within(demo, QUICK_WAIT_MS);
    expect(code).toBe(130);
    expect(stderr).toMatch(/^rtcmesh demo: interrupted by SIGINT$/m);
    expect(peers.filter(isAlive)).toEqual([]);
  }, DEMO_WAIT_MS + QUICK_WAIT_MS + 5_000);
});
