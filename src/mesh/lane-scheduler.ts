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
  /** Per group, the lane whose turn it is: a turn cut short by the room resumes at the next flush. */
  private readonly turns: number[];

  constructor(lanes: readonly L[]) {
    const priorities = [...new Set(lanes.map((lane) => lane.spec.priority))].sort((a, b) => b - a);
    this.groups = priorities.map((priority) => lanes.filter((lane) => lane.spec.priority === priority));
    this.turns = this.groups.map(() => 0);
  }

  /**
   * Shares `room` bytes among the lanes of group `index` that have something waiting
   * (`waiting`), calling `send(lane, most)` for each turn, which returns the bytes it sent.
   * Returns the room left.
   */
  share(index: number, room: number, waiting: (lane: L) => boolean, send: (lane: L, most: number) => number): number {
    const group = this.groups[index]!;
    let turn = this.turns[index]!;
    // Lanes passed in a row without sending: once every lane has been, nothing more can go.
    let passed = 0;
    while (room > 0 && passed < group.length) {
      const lane = group[turn]!;
      let sent = 0;
      if (waiting(lane)) {
        // A new turn earns the lane its quantum; one overdrawn by a large batch may stay below zero and sit it out.
        if (lane.credit <= 0) lane.credit += QUANTUM_BYTES * lane.spec.weight;
        if (lane.credit > 0) sent = send(lane, Math.min(room, lane.credit));
        lane.credit -= sent;
        room -= sent;
      } else {
        // An idle lane keeps no credit: it cannot bank a burst for later (deficit round robin).
        lane.credit = 0;
      }
      passed = sent > 0 ? 0 : passed + 1;
      // The turn passes once the lane has spent its credit or has nothing left; else the room ran out mid-turn.
      if (lane.credit <= 0 || !waiting(lane) || sent === 0) turn = (turn + 1) % group.length;
    }
    this.turns[index] = turn;
    return room;
  }
}
