/**
 * One user-loop case per process: a fresh engine and heap for each, so one case's garbage,
 * threads and sockets weigh on no other. As root the child runs in a network namespace of its
 * own with only loopback up, so that nothing but the benchmark's traffic crosses its interface.
 */
import { execFile } from 'node:child_process';
import { inLoopbackNamespace } from '../loopback-namespace.js';
import type { UserLoopCase } from './case-types.js';
import { runCase } from './cases.js';

/** The flag main.ts hands to {@link runUserLoopChild}. */
export const USER_LOOP_FLAG = '--user-loop-case';
const CHILD_TIMEOUT_MS = 120_000;

/** In the benchmark: runs one case on one side in a fresh process and reads its answer. */
export function runInChild<T>(side: 'raw' | 'rtcmesh', test: UserLoopCase): Promise<T> {
  // The child runs as this one does, but is never profiled itself.
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof'));
  const node = [process.execPath, ...execArgv, process.argv[1]!, USER_LOOP_FLAG, JSON.stringify({ side, test })];
  const [command, args] = inLoopbackNamespace(node);
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: CHILD_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`the ${side} ${test.kind} case failed: ${error.message}${stderr ? `\n${stderr}` : ''}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as T);
      } catch {
        reject(new Error(`the ${side} ${test.kind} case answered ${JSON.stringify(stdout)}`));
      }
    });
  });
}

/** In the child: runs the case and prints its result as one line of JSON. */
export async function runUserLoopChild(argument: string): Promise<void> {
  const { side, test } = JSON.parse(argument) as { side: 'raw' | 'rtcmesh'; test: UserLoopCase };
  if (side !== 'raw' && side !== 'rtcmesh') throw new Error(`${USER_LOOP_FLAG} takes side raw or rtcmesh, not ${String(side)}`);
  process.stdout.write(`${JSON.stringify(await runCase(side, test))}\n`);
}
