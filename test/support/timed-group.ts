import { ManualScheduler, type MemoryBackend, type MemoryBackendOptions, createMemoryBackend } from '../../src/index.js';
import { type Group, type GroupOptions, makeGroup } from './mesh.js';

/** How often a timed group's members poll, in test milliseconds: about one frame at 60 Hz. */
export const FRAME_MS = 16;

/** A group of peers on the in-memory backend, where time moves only when the test runs it. */
export interface TimedGroup extends Group {
  scheduler: ManualScheduler;
  backend: MemoryBackend;
  /**
   * Runs `ms` of test time frame by frame: each frame delivers what falls due, then polls the
   * members with the given ids (default every member) and calls `each`, if any, with the time.
   */
  run(ms: number, options?: { polled?: number[]; each?: (now: number) => void }): void;
  /** Runs frame by frame until `done()`, failing after `limitMs` of test time. */
  runUntil(done: () => boolean, what: string, limitMs?: number): void;
}

/** A group of `count` peers (as `makeGroup`) on one in-memory backend and one manual clock. */
export function makeTimedGroup(count: number, options: GroupOptions & { memory?: Omit<MemoryBackendOptions, 'scheduler'> } = {}): TimedGroup {
  const scheduler = new ManualScheduler();
  const backend = createMemoryBackend({ ...options.memory, scheduler });
  const group = makeGroup(count, { ...options, backend, meshOptions: { ...options.meshOptions, clock: scheduler.now } });
  const frame = (polled: readonly number[]): void => {
    scheduler.advance(FRAME_MS);
    for (const id of polled) group.byId(id).peer.poll();
  };
  const everyone = group.members.map((member) => member.id);
  return {
    ...group,
    scheduler,
    backend,
    run(ms, { polled = everyone, each } = {}) {
      for (const end = scheduler.now() + ms; scheduler.now() < end; ) {
        frame(polled);
        each?.(scheduler.now());
      }
    },
    runUntil(done, what, limitMs = 10_000) {
      for (const end = scheduler.now() + limitMs; !done(); frame(everyone)) {
        if (scheduler.now() > end) throw new Error(`${what} did not happen within ${limitMs} ms of test time`);
      }
    },
  };
}

/** Runs a timed group until every member has connected to every other it was linked with. */
export function connectTimed(group: TimedGroup, links: number): void {
  group.runUntil(() => group.members.every((member) => member.connected.length === links), 'every peer connecting');
}
