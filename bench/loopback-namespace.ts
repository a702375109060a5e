/**
 * Where a benchmark process runs when it must see no network but loopback: as root, in a network
 * namespace of its own (`unshare --net`) with only `lo` up; elsewhere in place, binding and
 * connecting to 127.0.0.1 only.
 */
import { execFileSync } from 'node:child_process';

let namespaceWorks: boolean | undefined;

/** Whether `unshare --net` works here (root, and the kernel allows it). */
function isolated(): boolean {
  if (namespaceWorks === undefined) {
    try {
      execFileSync('unshare', ['--net', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore', timeout: 5000 });
      namespaceWorks = true;
    } catch {
      namespaceWorks = false;
    }
  }
  return namespaceWorks;
}

/** The command and arguments that run `argv` in a loopback-only namespace where one can be made, and as it is where not. */
export function inLoopbackNamespace(argv: readonly string[]): [command: string, args: string[]] {
  return isolated() ? ['unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...argv]] : [argv[0]!, argv.slice(1)];
}
