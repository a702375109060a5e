// The rtcmesh command as a user runs it: the built CLI (dist/cli/main.js, built by `npm test`
// before vitest) in real child processes, none of which outlives its test.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach } from 'vitest';
import { RawClient } from './ws-client.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const QUICK_WAIT_MS = 10_000;
// A demo of 2 s: a few seconds to start the processes and connect, then the traffic (9–12 s in
// all at a load of 15).
export const DEMO_WAIT_MS = 40_000;
/** The demo table's count columns (sent, received, dropped on each of three channels), and two of them. */
export const COUNT_COLUMNS = 9;
export const RELIABLE_SENT_COLUMN = 0;
export const RELIABLE_RECEIVED_COLUMN = 1;
const POLL_MS = 50;

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running CLI process: its output so far, and its end. */
export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  ended: Promise<Ended>;
}

const running = new Set<ChildProcess>();

async function killRunning(): Promise<void> {
  await RawClient.closeAll();
  // A test that failed half-way must not leave a process behind.
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Kills, after each test of the file that calls it, every process it started and did not wait for. */
export function killProcessesAfterEach(): void {
  afterEach(killRunning);
}

/** The same after the file's last test, for tests that run side by side (`describe.concurrent`). */
export function killProcessesAfterAll(): void {
  afterAll(killRunning);
}

/** Starts the CLI with `args`, and `env` over this process's environment. */
export function start(args: string[], env: NodeJS.ProcessEnv = {}): Running {
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
export async function within(cli: Running, waitMs: number): Promise<Ended> {
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

/** Runs the CLI with `args` to its end, within `waitMs`. */
export async function run(args: string[], waitMs = QUICK_WAIT_MS): Promise<Ended> {
  return within(start(args), waitMs);
}

/** Polls `read` until it returns something other than undefined; rejects after `waitMs`. */
export async function eventually<T>(read: () => T | undefined, what: string, waitMs = QUICK_WAIT_MS): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${waitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

