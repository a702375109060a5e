import type { ChannelSpec } from './channel-layout.js';
import { RELIABLE_BATCH_BUDGET } from './framing.js';

/** What a lane may send per round of its priority, times its weight: about one reliable batch. */
const QUANTUM_BYTES = RELIABLE_BATCH_BUDGET;

/** What the scheduler needs of a lane. */
export interface ScheduledLane {
  readonly spec: Pick<ChannelSpec, 'priority' | 'weight'>;
  /** Bytes the lane may still send in the current round: deficit round robin's counter. */
  credit: number;
}

/**
 * Orders the lanes of one peer for sending: priority groups from the highest down, and within a
 * group, room shared by weight with deficit round robin (a lane that overshoots its share, with a
 * batch larger than it, sits out rounds until its credit is positive again, so the shares hold
 * over time, across flushes).
 */
export class LaneScheduler<L extends ScheduledLane> {
  /** Lanes grouped by priority, highest first; within a group, in layout order. */
  readonly groups: readonly (readonly L[])[];

  constructor(lanes: readonly L[]) {
    const priorities = [...new Set(lanes.map((lane) => lane.spec.priority))].sort((a, b) => b - a);
    this.groups = priorities.map((priority) => lanes.filter((lane) => lane.spec.priority === priority));
  }

  /**
   * Shares `room` bytes among a group's lanes that have something waiting (`waiting`), calling
   * `send(lane, most)` for each turn, which returns the bytes it sent. Returns the room left.
   */
  share(group: readonly L[], room: number, waiting: (lane: L) => boolean, send: (lane: L, most: number) => number): number {
    while (room > 0) {
      let active = false;
      let sentInRound = 0;
      for (const lane of group) {
        if (!waiting(lane)) {
          // An idle lane keeps no credit: it cannot bank a burst for later (deficit round robin).
          lane.credit = 0;
          continue;
        }
        active = true;
        if (lane.credit <= 0) lane.credit += QUANTUM_BYTES * lane.spec.weight;
        if (lane.credit <= 0) continue;
        const sent = send(lane, Math.min(room, lane.credit));
        lane.credit -= sent;
        room -= sent;
        sentInRound += sent;
        if (room <= 0) break;
      }
      // Every lane with credit sent nothing: nothing more will go this flush.
      if (!active || (sentInRound === 0 && group.every((lane) => !waiting(lane) || lane.credit > 0))) break;
    }
    return room;
  }
}
