/**
 * The CPU time of this process's main thread alone, where Linux tells it: the rest of a server's
 * CPU is the engine's threads (libdatachannel, libjuice, usrsctp) and V8's helpers, which do the
 * same work for raw and rtcmesh when both hand the engine the same messages.
 */
import { readFileSync } from 'node:fs';

/** Nanoseconds the main thread has run, or undefined where /proc does not say (not Linux). */
export function mainThreadCpuNs(): number | undefined {
  try {
    // The first field of schedstat is the time on a CPU, in ns; the main thread's id is the process's.
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}
