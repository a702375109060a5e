// The rtcmesh command as a user runs it: the built CLI (dist/cli/main.js, built by `npm test`
// before vitest) in real child processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVER_OPTION_SPECS } from '../../src/signaling/server-options.js';
import { RawClient } from '../support/ws-client.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
// A demo of 2 s: a few seconds to start the processes and connect, then the traffic.
const DEMO_WAIT_MS = 25_000;
const QUICK_WAIT_MS = 10_000;
const POLL_MS = 50;
const COUNT_COLUMNS = 9;
const RECEIVED_COLUMNS = [1, 4, 7];
const RELIABLE_SENT_COLUMN = 0;
const RELIABLE_RECEIVED_COLUMN = 1;
const JOIN = 0;
const ID = 1;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running CLI process: its output so far, and its end. */
interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  ended: Promise<Ended>;
}

const running = new Set<ChildProcess>();

afterEach(async () => {
  await RawClient.closeAll();
  // A test that failed half-way must not leave a process behind.
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

function start(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<Ended>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, ended };
}

/** Resolves with how the process ended; kills it and rejects if it takes longer than `waitMs`. */
async function within(cli: Running, waitMs: number): Promise<Ended> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cli.child.kill('SIGKILL');
      reject(new Error(`still running after ${waitMs} ms; stderr: ${cli.stderr()}`));
    }, waitMs);
  });
  try {
    return await Promise.race([cli.ended, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function run(args: string[], waitMs = QUICK_WAIT_MS): Promise<Ended> {
  return within(start(args), waitMs);
}

/** Polls `read` until it returns something other than undefined; rejects after `waitMs`. */
async function eventually<T>(read: () => T | undefined, what: string, waitMs = QUICK_WAIT_MS): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${waitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

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

describe('rtcmesh', () => {
  it('documents every command and option with --help and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const word of ['signal', 'demo', '--host', '--port', '--peers', '--seconds', '--mode', '--loss', '--bandwidth', '--seed', 'exit codes']) {
      expect(stdout).toContain(word);
    }
    // The demo's child process is not a command for people.
    expect(stdout).not.toContain('demo-peer');
  });

  it('shows the same help after a command', async () => {
    const { code, stdout } = await run(['demo', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('usage: rtcmesh');
  });

  it.each([
    [['demo', '--bogus'], /Unknown option '--bogus'/],
    [['signal', '--port', '70000'], /--port takes an integer from 0 to 65535, not "70000"/],
    [['signal', '--message-burst', '0'], /--message-burst takes an integer from 1 to/],
    [['signal', '--metrics', 'yes'], /--metrics takes on or off, not "yes"/],
    [['signal', '--host', ''], /host must be a non-empty string such as "127.0.0.1", not ""/],
    [['demo', '--mode', 'ring'], /--mode takes mesh or server, not "ring"/],
    [['demo', '--peers', '1'], /--peers takes an integer from 2 to 16/],
    [['demo', '--seconds', '0'], /--seconds takes a number greater than 0/],
    [['demo', 'extra'], /Unexpected argument 'extra'/],
    [['demo', '--cut-seconds', '3'], /--cut-seconds goes with --cut-peer/],
    [['demo', '--peers', '3', '--cut-peer', '4'], /--cut-peer takes an integer from 1 to 3/],
    [['launch'], /unknown command "launch"/],
    [[], /no command given/],
  ])('exits 2 with a clear error for %j', async (args, message) => {
    const { code, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});

describe('rtcmesh signal', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'prints its URL, lets a raw WebSocket join and get an id, logs the lobby, and exits 0 on %s',
    async (signal) => {
      const server = start(['signal', '--port', '0']);
      const url = await eventually(() => /listening on (ws:\/\/\S+)/.exec(server.stdout())?.[1], 'URL');
      expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);

      const client = await RawClient.connect(url);
      client.send({ type: JOIN, id: 0, data: '' });
      expect(await client.next()).toEqual({ type: ID, id: 1, data: 'true' });
      const confirmation = (await client.next()) as { type: number; data: string };
      expect(confirmation.type).toBe(JOIN);
      const lobby = confirmation.data;
      await eventually(() => (server.stdout().includes(`lobby ${lobby}: peer 1 joined`) ? true : undefined), 'join line');
      expect(server.stdout()).toContain(`lobby ${lobby} opened (mesh mode)`);

      await client.close();
      await eventually(() => (server.stdout().includes(`lobby ${lobby} closed`) ? true : undefined), 'close line');
      server.child.kill(signal);
      const { code, stderr } = await within(server, QUICK_WAIT_MS);
      expect(stderr).toBe('');
      expect(code).toBe(0);
    },
  );

  it('lists every option of SignalingServer with its default under signal --help', async () => {
    const { code, stdout } = await run(['signal', '--help']);
    expect(code).toBe(0);
    for (const spec of SERVER_OPTION_SPECS) {
      const flag = spec.key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
      expect(stdout).toMatch(new RegExp(`^  --${flag} .*\\(default [^)]+\\)$`, 'm'));
    }
  });

  it('hands admitted members TURN credentials signed with the secret from the environment', async () => {
    const server = start(['signal', '--port', '0', '--turn-url', 'turn:127.0.0.1:3478?transport=udp', '--turn-ttl', '120'], { RTCMESH_TURN_SECRET: 'secret-from-the-environment' });
    const url = await eventually(() => /listening on (ws:\/\/\S+)/.exec(server.stdout())?.[1], 'URL');
    const host = await RawClient.connect(url);
    host.send({ type: JOIN, id: 0, data: '' });
    const id = (await host.next()) as { id: number; turn: { urls: string[]; username: string; credential: string } };
    const expiry = Number(id.turn.username.split(':')[0]);
    expect(id.turn.username).toBe(`${expiry}:1`);
    expect(expiry * 1000 - Date.now()).toBeGreaterThan(60_000);
    expect(id.turn.credential).toBe(createHmac('sha1', 'secret-from-the-environment').update(id.turn.username).digest('base64'));
    expect(id.turn.urls).toEqual(['turn:127.0.0.1:3478?transport=udp']);
    await host.close();
    server.child.kill('SIGTERM');
    expect((await within(server, QUICK_WAIT_MS)).code).toBe(0);
  });

  it('applies limits given on the command line and serves /metrics on its own port', async () => {
    const server = start(['signal', '--port', '0', '--max-lobby-size', '1', '--metrics-port', '0', '--messages-per-second', '0.5']);
    const url = await eventually(() => /listening on (ws:\/\/\S+)/.exec(server.stdout())?.[1], 'URL');
    const metricsUrl = await eventually(() => /metrics on (http:\/\/\S+)/.exec(server.stdout())?.[1], 'metrics URL');
    expect(new URL(metricsUrl).port).not.toBe(new URL(url).port);
    const host = await RawClient.connect(url);
    host.send({ type: JOIN, id: 0, data: '' });
    await host.next();
    const lobby = ((await host.next()) as { data: string }).data;
    const joiner = await RawClient.connect(url);
    joiner.send({ type: JOIN, id: 0, data: lobby });
    expect(await joiner.closeEventWithin()).toEqual({ code: 4000, reason: `lobby ${lobby} is full (limit 1)` });
    expect(await (await fetch(metricsUrl)).text()).toMatch(/^rtcmesh_signaling_closes_total\{cause="join_refused"\} 1$/m);
    await host.close();
    server.child.kill('SIGTERM');
    expect((await within(server, QUICK_WAIT_MS)).code).toBe(0);
  });

  it('exits 1 with the reason when the port is taken', async () => {
    const first = start(['signal', '--port', '0']);
    const url = await eventually(() => /listening on (ws:\/\/\S+)/.exec(first.stdout())?.[1], 'URL');
    const port = new URL(url).port;
    const { code, stderr } = await run(['signal', '--port', port]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    first.child.kill('SIGTERM');
    expect((await within(first, QUICK_WAIT_MS)).code).toBe(0);
  });
});

describe('rtcmesh demo', () => {
  it('cuts one peer mid-match with --cut-peer: it comes back with the same id, every session resumed, nothing reliable lost', async () => {
    const { code, stdout, stderr } = await run(['demo', '--peers', '3', '--seconds', '1', '--cut-peer', '2', '--cut-seconds', '3'], DEMO_WAIT_MS + 10_000);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const cutId = Number(/peer (\d+) \(started #2\): every datagram cut for 3 s/.exec(stdout)?.[1]);
    // The table's rows, with the two resumption columns after the counts.
    const rows = stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((cells) => cells.length === 5 + COUNT_COLUMNS + 2 && /^\d+$/.test(cells[0]!));
    expect(rows.map((cells) => Number(cells[0])).sort()).toContain(cutId);
    const cutRow = rows.find((cells) => Number(cells[0]) === cutId)!;
    expect(cutRow.at(-2)).toBe('2');
    expect(Number(cutRow.at(-1))).toBeGreaterThan(0);
    for (const cells of rows.filter((row) => row !== cutRow)) expect(cells.at(-2)).toBe('1');
    const counts = rows.map((cells) => cells.slice(5, 5 + COUNT_COLUMNS).map(Number));
    const total = (column: number): number => counts.reduce((sum, row) => sum + row[column]!, 0);
    expect(total(RELIABLE_RECEIVED_COLUMN)).toBe(total(RELIABLE_SENT_COLUMN));
  }, 60_000);

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
  });

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
    expect(linkRows).toHaveLength(2);
    for (const [, , , sent, lost, lostPercent, , duplicated, reordered] of linkRows) {
      expect(Number(sent)).toBeGreaterThan(0);
      expect(Number(lost)).toBeGreaterThan(0);
      // 10 % of a few hundred seeded draws: within 5 points.
      expect(Math.abs(Number(lostPercent) - 10)).toBeLessThan(5);
      expect(Number(duplicated)).toBeGreaterThan(0);
      expect(Number(reordered)).toBeGreaterThan(0);
    }
    expect(stdout).toMatch(/\bstale\b.*\boutOfOrder\b/);
  });

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
  });

  it('kills every peer process and exits 130 on SIGINT', async () => {
    const demo = start(['demo', '--peers', '3', '--seconds', '60']);
    const pid = demo.child.pid!;
    const peers = await eventually(() => {
      const pids = childPids(pid);
      return pids.length === 3 ? pids : undefined;
    }, 'three peer processes');
    demo.child.kill('SIGINT');
    const { code, stderr } = await within(demo, QUICK_WAIT_MS);
    expect(code).toBe(130);
    expect(stderr).toMatch(/^rtcmesh demo: interrupted by SIGINT$/m);
    expect(peers.filter(isAlive)).toEqual([]);
  });
});
