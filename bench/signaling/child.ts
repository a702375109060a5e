/**
 * The signaling benchmark's child processes (the relay under test, the load generators): started
 * through a shell that raises their open-file limit first, talked to over Node's IPC channel.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What every child process can be asked, and answers. */
export interface ChildMessage {
  kind: string;
  [field: string]: unknown;
}

// 20,000 sockets need as many descriptors in each process, and more; the shell may raise the
// limit to this where it is allowed to (as root), and says nothing where it is not.
const WANTED_OPEN_FILES = 65_536;

/**
 * Starts this bundle again as a child with `args` (and `nodeArgs` for Node itself), its
 * open-file limit raised where allowed; its stderr is the benchmark's.
 */
export function startChild(args: string[], nodeArgs: string[] = []): ChildProcess {
  const script = `ulimit -n ${WANTED_OPEN_FILES} 2>/dev/null; exec "$@"`;
  return spawn('sh', ['-c', script, 'sh', process.execPath, ...nodeArgs, process.argv[1]!, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Sends `message` to `child` and resolves with its first answer of `kind` (rejects on an `error` answer or an exit). */
export function ask(child: ChildProcess, message: ChildMessage, kind: string): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (answer: ChildMessage): void => {
      if (answer.kind !== kind && answer.kind !== 'error') return;
      done();
      if (answer.kind === 'error') reject(new Error(String(answer.message)));
      else resolve(answer);
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`child exited (${code}) before answering ${message.kind}`));
    };
    const done = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    if (message.kind !== '') child.send(message);
  });
}

/** Waits for a child's first message of `kind`, without sending anything. */
export function heard(child: ChildProcess, kind: string): Promise<ChildMessage> {
  return ask(child, { kind: '' }, kind);
}

// A relay still working through its backlog gets this long to exit by itself (and write a
// --cpu-prof profile) before it is killed.
const EXIT_GRACE_MS = 10_000;

/** Ends a child: SIGTERM, then SIGKILL if it has not exited within a few seconds. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * The CPU time a process has used, in seconds, read from /proc by the parent: a relay whose event
 * loop is flooded could not answer for itself in time.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, fields 14 and 15 of proc(5), counted from field 3 here.
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond();
}

let ticksPerSecond: number | undefined;

function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return ticksPerSecond;
}

/** The open-file limit a child started by {@link startChild} gets. */
export function childOpenFileLimit(): number {
  const shown = execFileSync('sh', ['-c', `ulimit -n ${WANTED_OPEN_FILES} 2>/dev/null; ulimit -n`], { encoding: 'utf8' }).trim();
  return shown === 'unlimited' ? Infinity : Number(shown);
}

/** This process's soft limit of open files, from /proc (Infinity where it cannot be read). */
export function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((entry) => entry.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return Infinity;
  }
}

/** Exits when the parent goes away (its IPC channel closes), so that no child outlives a stopped benchmark. */
export function exitWithParent(): void {
  process.once('disconnect', () => process.exit(0));
}

/** Answers the parent; a child without an IPC channel has no parent to answer. */
export function answer(message: ChildMessage): void {
  process.send?.(message);
}

/** Runs `handle` for each message from the parent, answering `error` when it throws. */
export function serve(handle: (message: ChildMessage) => Promise<void>): void {
  process.on('message', (message: ChildMessage) => {
    handle(message).catch((error: unknown) => answer({ kind: 'error', message: error instanceof Error ? error.message : String(error) }));
  });
}
