/**
 * The browser scenario's process: Chromium and the page server run in a process of their own,
 * which as root runs in a network namespace where only loopback exists, as the browser tests do
 * (docs/design.md, Chromium): nothing Chromium does at start can leave the machine.
 */
import { spawn } from 'node:child_process';
import { type BenchContext, alternate } from '../harness.js';
import { inLoopbackNamespace } from '../loopback-namespace.js';
import type { PairCase } from '../user-loop/case-types.js';
import { PageRunner } from './page-runner.js';

/** The flag main.ts hands to {@link runBrowserChild}. */
export const BROWSER_FLAG = '--browser-cases';
/** Where each page run's CPU profile is written, when set (a directory that exists). */
const PROFILE_ENV = 'RTCMESH_BENCH_BROWSER_PROFILE';
// A full run takes a few minutes; a page that hangs must not hold the benchmark forever.
const CHILD_TIMEOUT_MS = 30 * 60_000;

/** A measurement: its label (as --match sees it) and the case each side runs for it. */
export interface BrowserCase {
  label: string;
  test: PairCase;
}

/** What the child is asked: the run's settings and the cases. */
interface Request {
  quick: boolean;
  reps: number;
  sides: BenchContext['sides'];
  match: string | undefined;
  cases: BrowserCase[];
}

/** Every repetition's answer on each side, by case label. */
export type BrowserResults = Record<string, { raw: unknown[]; rtcmesh: unknown[] }>;

/** In the benchmark: runs the cases, alternating raw and rtcmesh, in the browser scenario's process. */
export function runInBrowserChild(context: BenchContext, cases: BrowserCase[]): Promise<BrowserResults> {
  const request: Request = { quick: context.quick, reps: context.reps, sides: context.sides, match: context.match, cases };
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof'));
  const [command, args] = inLoopbackNamespace([process.execPath, ...execArgv, process.argv[1]!, BROWSER_FLAG, JSON.stringify(request)]);
  // Its progress lines go straight to this process's stderr; its answer is the last line of stdout.
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], timeout: CHILD_TIMEOUT_MS });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`the browser process ended with ${signal ?? `code ${code}`}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as BrowserResults);
      } catch {
        reject(new Error(`the browser process answered ${JSON.stringify(stdout)}`));
      }
    });
  });
}

/** In the child: starts Chromium, runs every case and prints the results as one line of JSON. */
export async function runBrowserChild(argument: string): Promise<void> {
  const request = JSON.parse(argument) as Request;
  const context: BenchContext = {
    quick: request.quick,
    reps: request.reps,
    sides: request.sides,
    match: request.match,
    // The scenario never runs under --quick or --smoke: the child measures in full or quick alone.
    smoke: false,
    ms: (full, quick) => (request.quick ? quick : full),
    sizes: (all) => all,
    log: (message) => process.stderr.write(`${message}\n`),
  };
  const runner = await PageRunner.start(process.env[PROFILE_ENV] || undefined);
  const results: BrowserResults = {};
  try {
    for (const { label, test } of request.cases) {
      results[label] = await alternate<unknown>(
        context,
        label,
        () => runner.run('raw', test, label),
        () => runner.run('rtcmesh', test, label),
      );
    }
  } finally {
    await runner.close();
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}
